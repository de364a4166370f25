"""Assertions about the store shared by several test modules."""

from __future__ import annotations

import os
import socket
from collections import defaultdict

import pytest

from sqlalchemy import func, select

from dailypapers.store.schema import DailyEntry, Listing, IngestedRecord, Paper, PaperCategory, PaperVersion


def table_counts(store) -> dict[str, int]:
    with store.session() as session:
        return {
            t.__tablename__: session.execute(select(func.count()).select_from(t.__table__)).scalar_one()
            for t in (Paper, PaperVersion, PaperCategory, DailyEntry, Listing, IngestedRecord)
        }


def consistency_problems(store) -> list[str]:
    """Every paper whole: its category rows match its categories, its first featured day matches
    its entries, its versions include the current one."""
    problems = []
    with store.session() as session:
        cats = defaultdict(set)
        for pid, cat in session.execute(select(PaperCategory.paper_id, PaperCategory.category)):
            cats[pid].add(cat)
        days = defaultdict(list)
        for pid, day in session.execute(select(DailyEntry.paper_id, DailyEntry.day)):
            days[pid].append(day)
        versions = defaultdict(set)
        for pid, v in session.execute(select(PaperVersion.paper_id, PaperVersion.version)):
            versions[pid].add(v)
        for p in session.execute(select(Paper)).scalars():
            if set(p.categories) != cats.get(p.id, set()):
                problems.append(f"{p.arxiv_id}: categories {p.categories} vs rows {cats.get(p.id)}")
            if days.get(p.id) and p.first_featured != min(days[p.id]):
                problems.append(f"{p.arxiv_id}: first_featured {p.first_featured} vs entries {days[p.id]}")
            if not days.get(p.id) and p.first_featured is not None:
                problems.append(f"{p.arxiv_id}: first_featured {p.first_featured} without a daily entry")
            if p.version is not None and p.version not in versions.get(p.id, set()):
                problems.append(f"{p.arxiv_id}: version {p.version} missing from history")
            if not p.title or not p.abstract:
                problems.append(f"{p.arxiv_id}: empty title or abstract")
            if not p.authors or not all(a.get("name") for a in p.authors):
                problems.append(f"{p.arxiv_id}: authors {p.authors!r}")
    return problems


def need_redis() -> str:
    """The URL of the Redis server on 127.0.0.1:6379, or a skip (a failure in CI, where
    DAILYPAPERS_REQUIRE_POSTGRES=1 says the services must be there)."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            if s.recv(16).startswith(b"+PONG"):
                return "redis://127.0.0.1:6379/0"
    except OSError:
        pass
    if os.environ.get("DAILYPAPERS_REQUIRE_POSTGRES") == "1":
        pytest.fail("Redis is required on 127.0.0.1:6379")
    pytest.skip("Redis not running on 127.0.0.1:6379")
