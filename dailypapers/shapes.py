"""Papers as JSON, in the shapes Hugging Face's papers API uses, so existing clients (huggingface_hub's
`HfApi.list_daily_papers`, `paper_info`, `list_papers`) read our instance unchanged. Shared by the JSON
API and the CLI's --json output; web/api_models.py documents the same shapes for /openapi.json.

Every field is always present (null, [] or 0 when unknown), so clients see one stable shape. Every
URL leads somewhere: avatars are HF's own when an import carried one, else the site's generated
/u/{name}/avatar.svg; there are no thumbnails yet, so `thumbnail` is null."""

from __future__ import annotations

import datetime as dt
import hashlib
from urllib.parse import quote

from .store.feed import FeedItem
from .types import PaperCard

# Models, datasets and Spaces linked to a paper are a Hub notion we do not have: empty, not absent.
LINKED = {
    "linkedModels": [],
    "numTotalModels": 0,
    "linkedDatasets": [],
    "numTotalDatasets": 0,
    "linkedSpaces": [],
    "numTotalSpaces": 0,
}


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


def avatar_url(name: str, base_url: str) -> str:
    """The site's generated avatar of a user (any name: members and upstream submitters alike)."""
    return f"{base_url}/u/{quote(name, safe='')}/avatar.svg"


def user(name: str | None, base_url: str = "", *, fullname: str | None = None, avatar: str | None = None) -> dict | None:
    """A user object: HF's fields (huggingface_hub's User reads the username from "user")."""
    if not name:
        return None
    return {
        "_id": _oid("user", name),
        "avatarUrl": avatar or avatar_url(name, base_url),
        "fullname": fullname or name,
        "name": name,
        "user": name,
        "type": "user",
        "isPro": False,
        "isHf": False,
        "isMod": False,
    }


def _author(arxiv_id: str, index: int, author: dict, base_url: str) -> dict:
    out = {"_id": _oid("author", arxiv_id, index), "name": author["name"], "hidden": bool(author.get("hidden"))}
    account = author.get("user")
    if account:
        out["user"] = user(account["user"], base_url, fullname=account.get("fullname"), avatar=account.get("avatarUrl"))
    if author.get("status"):
        out["status"] = author["status"]
    if author.get("statusLastChangedAt"):
        out["statusLastChangedAt"] = author["statusLastChangedAt"]
    return out


def authors(paper: PaperCard, base_url: str = "") -> list[dict]:
    """The paper's authors, with the accounts that claimed them on HF. When HF's list names the same
    authors as ours, HF's is served whole (its hidden authors included, marked hidden); otherwise
    ours, each with what HF said of the same name."""
    ours = paper.authors or []
    theirs = (paper.hf_meta or {}).get("authors") or []
    if theirs and [a["name"] for a in theirs if not a.get("hidden")] == [a["name"] for a in ours]:
        listed = theirs
    else:
        claimed = {a["name"]: a for a in theirs if not a.get("hidden")}
        listed = [claimed.get(a["name"], {"name": a["name"]}) for a in ours]
    return [_author(paper.arxiv_id, i, a, base_url) for i, a in enumerate(listed)]


def organization(paper: PaperCard) -> dict | None:
    org = (paper.hf_meta or {}).get("organization")
    if not org:
        return None
    return {
        "_id": _oid("organization", org["name"]),
        "name": org["name"],
        "fullname": org.get("fullname") or org["name"],
        "avatar": org.get("avatar"),
        "avatarUrl": org.get("avatar"),  # the name huggingface_hub's Organization reads
    }


def github(item: FeedItem) -> tuple[str | None, int | None]:
    """(githubRepo, githubStars): the paper's GitHub repository (paper_repos, the most starred) and
    its stars as the github-stars job read them, else HF's figure; else the paper's code link."""
    paper = item.paper
    meta = paper.hf_meta or {}
    repo, stars = item.repo_url, item.stars
    if repo and repo.startswith("https://github.com/"):
        return repo, stars if stars is not None else meta.get("githubStars")
    return paper.code_url, meta.get("githubStars")


def hf_fields(item: FeedItem) -> dict:
    """The fields HF's answers carry beyond arXiv's, in HF's names (null or [] when unknown).
    `ai_summary` and `ai_keywords` are HF's when mirrored, else the ones extracted here (the item's
    store.summaries.Summary); `ai_summary_source` and `ai_keywords_source` say which."""
    paper = item.paper
    meta = paper.hf_meta or {}
    summary = item.summary
    ai = {
        "ai_summary": meta.get("ai_summary"),
        "ai_keywords": list(meta.get("ai_keywords") or []),
        "ai_summary_source": "huggingface" if meta.get("ai_summary") else None,
        "ai_keywords_source": "huggingface" if meta.get("ai_keywords") else None,
    }
    if summary is not None:
        ai = {
            "ai_summary": summary.text or None,
            "ai_keywords": list(summary.keywords),
            "ai_summary_source": (_SOURCE[summary.text_by] if summary.text else None),
            "ai_keywords_source": (_SOURCE[summary.keywords_by] if summary.keywords else None),
        }
    repo, stars = github(item)
    return {
        "mediaUrls": list(meta.get("mediaUrls") or []),
        "projectPage": paper.project_url,
        "githubRepo": repo,
        "githubStars": stars,
        **ai,
        "organization": organization(paper),
    }


_SOURCE = {"hf": "huggingface", "extracted": "extracted"}


def _submitter(item: FeedItem, base_url: str) -> dict | None:
    return user(item.submitter, base_url, fullname=item.submitter_fullname, avatar=item.submitter_avatar_url)


def votes_apart(item: FeedItem) -> dict:
    """hf_votes 'apart': HF's upvotes and the site's own, beside `upvotes` (their sum, as HF's clients read it)."""
    imported = item.paper.upvotes_imported or 0
    return {"upvotesHf": imported, "upvotesLocal": item.upvotes - imported}


def paper_object(item: FeedItem, base_url: str = "", *, apart: bool = False) -> dict:
    """The `paper` object of a daily item."""
    paper = item.paper
    arxiv_id = paper.arxiv_id
    published = paper.published_at or (
        dt.datetime.combine(paper.first_featured, dt.time()) if paper.first_featured else None
    )
    return {
        "id": arxiv_id,
        "authors": authors(paper, base_url),
        "publishedAt": iso(published),
        "submittedOnDailyAt": iso(item.submitted_at),
        "submittedOnDailyBy": _submitter(item, base_url),
        "title": paper.title,
        "summary": paper.abstract,
        "upvotes": item.upvotes,
        **(votes_apart(item) if apart else {}),
        "discussionId": _oid("discussion", arxiv_id),
        "numComments": item.comments,
        **hf_fields(item),
        "categories": paper.categories or [],
        "version": paper.version,
        "comment": paper.comment,
    }


def daily_item(item: FeedItem, base_url: str = "", *, apart: bool = False) -> dict:
    """One element of GET /api/daily_papers (and of /api/papers/search: the same shape). HF's item
    fields, plus the paper's HF fields at the top level, where huggingface_hub's PaperInfo reads them."""
    paper_obj = paper_object(item, base_url, apart=apart)
    return {
        "paper": paper_obj,
        "publishedAt": paper_obj["submittedOnDailyAt"] or paper_obj["publishedAt"],
        "title": paper_obj["title"],
        "summary": paper_obj["summary"],
        "thumbnail": None,
        "numComments": item.comments,
        "submittedBy": paper_obj["submittedOnDailyBy"],
        "isAuthorParticipating": False,
        **hf_fields(item),
        **LINKED,
    }


def paper_info(item: FeedItem, base_url: str = "", *, apart: bool = False) -> dict:
    """GET /api/papers/{id}: the paper object with HF's top-level fields for paper_info()."""
    body = paper_object(item, base_url, apart=apart)
    body["submittedBy"] = body["submittedOnDailyBy"]
    body.update(LINKED)
    return body


def search_items(store, papers: list[PaperCard], base_url: str = "", *, apart: bool = False) -> list[dict]:
    """Daily items (the same fields) for papers found by a search, in their order: each with the
    first day it was featured and by whom, when it was."""
    from .store.feed import items_for

    with store.session() as session:
        items = items_for(session, papers)
    return [daily_item(item, base_url, apart=apart) for item in items]


def listed_item(item: FeedItem, base_url: str = "") -> dict:
    """One element of GET /api/listings: the paper, the day arXiv listed it, whether it is featured."""
    first = item.paper.first_featured
    paper_obj = paper_object(item, base_url)
    if first is not None:
        paper_obj["submittedOnDailyAt"] = iso(dt.datetime.combine(first, dt.time()))
    return {
        "paper": paper_obj,
        "listedOn": item.day.isoformat() if item.day else None,
        "isFeatured": first is not None,
        "featuredOn": first.isoformat() if first else None,
    }
