"""The github-stars job's work: record the repositories of papers stored before paper_repos existed
(a backfill, a page of papers per run, resumable), then read the stars of the GitHub repositories
due (never read, or read more than github_stars_max_age_hours ago) through GitHub's REST API,
stopping when the quota is spent and resuming after its reset."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from ..errors import SourceError
from ..sources import github
from ..store import kv
from ..store import repos as repo_store
from ..store.engine import Store
from ..store.schema import utcnow
from . import repo_links

BACKFILL_KEY = "paper_repos_backfill"  # kv: the last paper id whose links were recorded
RESET_KEY = "github_rate_reset"  # kv: epoch seconds before which GitHub's quota is spent
BACKFILL_PAGE = 5000


@dataclass
class StarsReport:
    backfilled: int = 0  # papers scanned for links
    read: int = 0
    unchanged: int = 0
    gone: int = 0
    limited_until: float | None = None
    problem: str | None = None

    @property
    def idle(self) -> bool:
        return not (self.backfilled or self.read or self.unchanged or self.gone or self.limited_until or self.problem)

    def summary(self) -> str:
        text = f"stars of {self.read} repositories read, {self.unchanged} unchanged (304), {self.gone} gone"
        if self.backfilled:
            text += f"; links of {self.backfilled} papers recorded"
        if self.limited_until:
            text += f"; GitHub's rate limit reached, resuming after {dt.datetime.fromtimestamp(self.limited_until, dt.UTC):%H:%M} UTC"
        if self.problem:
            text += f"; stopped: {self.problem}"
        return text


def backfill(store: Store, page: int = BACKFILL_PAGE) -> int:
    """Record the links of the next page of papers not scanned yet; returns how many were scanned."""
    with store.session() as session:
        after = int(kv.read(session, BACKFILL_KEY) or 0)
        rows = repo_store.papers_after(session, after, page)
    if not rows:
        return 0
    found = []
    for r in rows:
        found += repo_links.rows_for(r["id"], r["abstract"], r["comment"], r["code_url"], r["source"], r["hf_meta"])
    with store.session() as session, session.begin():
        repo_store.add_many(session, found)
        kv.set_value(session, BACKFILL_KEY, str(rows[-1]["id"]))
        if found:
            kv.bump(session)
    return len(rows)


def refresh(store: Store, *, now=time.time, sleep=time.sleep) -> StarsReport:
    """One run: the backfill's next page, then the due repositories' stars, as far as the quota goes."""
    settings = store.settings
    report = StarsReport(backfilled=backfill(store))
    with store.session() as session:
        reset = kv.read(session, RESET_KEY)
    if reset and float(reset) > now():
        report.limited_until = float(reset)
        return report
    older = utcnow() - dt.timedelta(hours=settings.github_stars_max_age_hours)
    with store.session() as session:
        due = repo_store.due_github(session, settings.github_stars_per_run, older)
    if not due:
        return report
    changed = False
    with github.client(settings) as http:
        for url, owner_repo, etag in due:
            try:
                answer = github.read_repo(settings, http, owner_repo, etag, sleep=sleep, now=now)
            except SourceError as exc:
                report.problem = str(exc)
                break
            with store.session() as session, session.begin():
                if answer.kind == "limited":
                    report.limited_until = answer.reset_at
                    kv.set_value(session, RESET_KEY, str(answer.reset_at))
                    break
                at = utcnow()
                if answer.kind == "unchanged":
                    repo_store.checked(session, url, at, keep=True)
                    report.unchanged += 1
                elif answer.kind == "gone":
                    repo_store.checked(session, url, at, stars=None, etag=None)
                    report.gone += 1
                    changed = True
                else:
                    repo_store.checked(session, url, at, stars=answer.stars, etag=answer.etag)
                    report.read += 1
                    changed = True
                if answer.remaining == 0 and answer.reset_at:  # the quota is spent: stop before a 403
                    report.limited_until = float(answer.reset_at)
                    kv.set_value(session, RESET_KEY, str(answer.reset_at))
            if report.limited_until:
                break
    if changed:
        with store.session() as session, session.begin():
            kv.bump(session)
    return report
