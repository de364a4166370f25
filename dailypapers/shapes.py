"""Papers as JSON, in the shapes Hugging Face's papers API uses, so existing clients (huggingface_hub's
`HfApi.list_daily_papers`, `paper_info`, `list_papers`) read our instance unchanged. Shared by the JSON
API and the CLI's --json output."""

from __future__ import annotations

import datetime as dt
import hashlib

from .store.feed import FeedItem


def iso(value: dt.datetime | dt.date | None) -> str | None:
    """HF's timestamp format: ISO 8601 with milliseconds and a Z."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _oid(*parts: object) -> str:
    """A stable 24-hex id like HF's ObjectIds, derived from what it names."""
    return hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=12).hexdigest()


def user(name: str | None) -> dict | None:
    if not name:
        return None
    return {
        "_id": _oid("user", name),
        "avatarUrl": f"/u/{name}/avatar.svg",
        "fullname": name,
        "name": name,
        "user": name,  # huggingface_hub's User reads the username from "user"
        "type": "user",
        "isPro": False,
        "isHf": False,
        "isMod": False,
    }


def paper_object(paper: dict, *, upvotes: int, comments: int, submitted_at: dt.datetime | None = None,
                 submitter: str | None = None) -> dict:
    """The `paper` object (also the body of GET /api/papers/{id})."""
    arxiv_id = paper["arxiv_id"]
    published = paper.get("published_at") or (
        dt.datetime.combine(paper["first_featured"], dt.time()) if paper.get("first_featured") else None
    )
    out = {
        "id": arxiv_id,
        "authors": [
            {"_id": _oid("author", arxiv_id, i), "name": a["name"], "hidden": False}
            for i, a in enumerate(paper.get("authors") or [])
        ],
        "publishedAt": iso(published),
        "title": paper["title"],
        "summary": paper["abstract"],
        "upvotes": upvotes,
        "discussionId": _oid("discussion", arxiv_id),
        "numComments": comments,
        "githubRepo": paper.get("code_url"),
        "projectPage": paper.get("project_url"),
        "categories": paper.get("categories") or [],
        "version": paper.get("version"),
        "comment": paper.get("comment"),
    }
    if submitted_at is not None:
        out["submittedOnDailyAt"] = iso(submitted_at)
        out["submittedOnDailyBy"] = user(submitter)
    return out


def daily_item(item: FeedItem, base_url: str = "") -> dict:
    """One element of GET /api/daily_papers."""
    paper = item.paper
    return {
        "paper": paper_object(
            paper, upvotes=item.upvotes, comments=item.comments, submitted_at=item.submitted_at, submitter=item.submitter
        ),
        "publishedAt": iso(item.submitted_at),
        "title": paper["title"],
        "summary": paper["abstract"],
        "thumbnail": f"{base_url}/papers/{paper['arxiv_id']}/thumbnail.svg",
        "numComments": item.comments,
        "submittedBy": user(item.submitter),
        "isAuthorParticipating": False,
    }


def paper_info(paper: dict, *, submitted_at: dt.datetime | None = None, submitter: str | None = None) -> dict:
    """GET /api/papers/{id}: the paper object with HF's top-level fields for paper_info()."""
    upvotes = paper.get("upvotes_imported", 0) + paper.get("upvote_count", 0)
    comments = paper.get("comments_imported", 0) + paper.get("comment_count", 0)
    body = paper_object(paper, upvotes=upvotes, comments=comments, submitted_at=submitted_at, submitter=submitter)
    if submitted_at is not None:
        body["submittedBy"] = user(submitter)
    return body
