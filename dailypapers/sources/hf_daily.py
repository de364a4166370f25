"""Hugging Face `/api/daily_papers` responses: papers, the day they were featured, submitter and counts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from ..arxiv import parse_datetime
from ..errors import InvalidRecord
from ..types import Author, Featured, PaperRecord, Rejection
from . import json_items
from .common import Item
from .hf_fields import hf_meta, submitter_profile


def item_record(item: dict) -> PaperRecord:
    """One daily_papers item: {paper: {...}, publishedAt, numComments, submittedBy, ...}."""
    paper = item.get("paper")
    if not isinstance(paper, dict):
        raise InvalidRecord("item has no 'paper' object")
    if not paper.get("id") or not paper.get("title"):
        raise InvalidRecord("paper has no id or title")
    submitted_raw = item.get("submittedOnDailyAt") or paper.get("submittedOnDailyAt") or item.get("publishedAt")
    submitted = parse_datetime(submitted_raw) if submitted_raw else None
    if submitted is None:
        raise InvalidRecord("item has no submission time (publishedAt)")
    submitter, fullname, avatar = submitter_profile(item.get("submittedBy") or paper.get("submittedOnDailyBy"))
    listed_authors = paper.get("authors") or []
    if not isinstance(listed_authors, list):
        raise InvalidRecord("'authors' must be a list")
    authors = [
        Author(a["name"]) for a in listed_authors if isinstance(a, dict) and a.get("name") and not a.get("hidden")
    ]
    upvotes = paper.get("upvotes")
    comments = item.get("numComments")
    github = paper.get("githubRepo") or None
    project = paper.get("projectPage") or None
    return PaperRecord(
        arxiv_id=str(paper["id"]),
        title=paper.get("title") or item.get("title") or "",
        abstract=paper.get("summary") or item.get("summary") or "",
        authors=authors,
        published_at=parse_datetime(paper.get("publishedAt")),
        code_url=github,
        project_url=project,
        featured=Featured(
            day=submitted.date(), submitted_at=submitted, submitter=submitter, source="hf",
            submitter_fullname=fullname, submitter_avatar_url=avatar,
        ),
        upvotes=int(upvotes) if isinstance(upvotes, int) else None,
        num_comments=int(comments) if isinstance(comments, int) else None,
        hf_meta=hf_meta(item, paper),
        source="hf",
    )


def parse(stream: IO[bytes]) -> Iterator[Item]:
    """One record per item of the list; an item that cannot be read is rejected alone."""
    for position, item in json_items.items(stream.read()):
        if isinstance(item, Rejection):
            yield item
            continue
        if not isinstance(item, dict):
            yield Rejection(position, "not a JSON object")
            continue
        try:
            record = item_record(item)
        except InvalidRecord as exc:
            yield Rejection(position, str(exc))
            continue
        record.position = position
        yield record
