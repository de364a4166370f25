"""The fields Hugging Face's papers API gives beyond arXiv's metadata, picked out of a daily_papers
item for storage (Paper.hf_meta) and served back in HF's shapes (shapes.py): claimed authors, media,
the AI summary and keywords, GitHub stars, the organization, and the submitter's profile.

Only values of the expected type are kept; anything else is dropped alone, so an odd field never
costs the paper. HF gives some URLs relative to its own site (/avatars/...): they are made absolute,
since on our site they would lead nowhere."""

from __future__ import annotations

from ..arxiv import parse_datetime
from ..errors import InvalidRecord

HF_ORIGIN = "https://huggingface.co"
MAX_LIST = 100  # media URLs, keywords, authors
MAX_TEXT = 10_000  # the AI summary
MAX_SHORT = 2_000  # a name, keyword or URL


def _text(value, limit: int = MAX_SHORT) -> str | None:
    if isinstance(value, str) and value.strip() and len(value) <= limit:
        return value.strip()
    return None


def absolute_url(value) -> str | None:
    """An http(s) URL, with HF's site-relative ones (/avatars/x.svg) made absolute; else None."""
    url = _text(value)
    if url is None:
        return None
    if url.startswith("/") and not url.startswith("//"):
        return HF_ORIGIN + url
    if url.startswith(("https://", "http://")):
        return url
    return None


def _texts(value, convert=_text) -> list[str]:
    if not isinstance(value, list):
        return []
    out = [v for v in (convert(x) for x in value[:MAX_LIST]) if v is not None]
    return list(dict.fromkeys(out))


def _timestamp(value) -> str | None:
    text = _text(value, 64)
    if text is None:
        return None
    try:
        return text if parse_datetime(text) is not None else None
    except (InvalidRecord, OverflowError, ValueError):
        return None


def _given(fields: dict, **optional) -> dict:
    """`fields` with each optional field that has a value (HF's answers leave the others out)."""
    fields.update((key, value) for key, value in optional.items() if value)
    return fields


def user_profile(value) -> dict | None:
    """{user, fullname, avatarUrl} of an HF user object (an author's claimed account)."""
    if not isinstance(value, dict):
        return None
    name = _text(value.get("user")) or _text(value.get("name"))
    if name is None:
        return None
    return _given({"user": name, "fullname": _text(value.get("fullname")) or name}, avatarUrl=absolute_url(value.get("avatarUrl")))


def _author(value) -> dict | None:
    if not isinstance(value, dict) or _text(value.get("name")) is None:
        return None
    return _given(
        {"name": _text(value["name"]), "hidden": value.get("hidden") is True},
        user=user_profile(value.get("user")),
        status=_text(value.get("status"), 64),
        statusLastChangedAt=_timestamp(value.get("statusLastChangedAt")),
    )


def organization(value) -> dict | None:
    if not isinstance(value, dict) or _text(value.get("name")) is None:
        return None
    org = {"name": _text(value["name"]), "fullname": _text(value.get("fullname")) or _text(value["name"])}
    return _given(org, avatar=absolute_url(value.get("avatar") or value.get("avatarUrl")))


def hf_meta(item: dict, paper: dict) -> dict:
    """What to store of an item's HF fields (the paper object first, then the item's top level,
    which older answers used for mediaUrls and organization)."""
    meta: dict = {}
    listed = paper.get("authors") if isinstance(paper.get("authors"), list) else []
    authors = [a for a in map(_author, listed[:1000]) if a]
    if authors:
        meta["authors"] = authors
    media = _texts(paper.get("mediaUrls") or item.get("mediaUrls"), absolute_url)
    if media:
        meta["mediaUrls"] = media
    thumbnail = absolute_url(item.get("thumbnail") or paper.get("thumbnail"))
    if thumbnail:
        meta["thumbnail"] = thumbnail  # the picture HF shows on the paper's card
    summary = _text(paper.get("ai_summary"), MAX_TEXT)
    if summary:
        meta["ai_summary"] = summary
    keywords = _texts(paper.get("ai_keywords"))
    if keywords:
        meta["ai_keywords"] = keywords
    stars = paper.get("githubStars")
    if isinstance(stars, int) and not isinstance(stars, bool) and 0 <= stars < 2**31:
        meta["githubStars"] = stars
    org = organization(paper.get("organization")) or organization(item.get("organization"))
    if org:
        meta["organization"] = org
    return meta


def submitter_profile(by) -> tuple[str | None, str | None, str | None]:
    """(name, full name, absolute avatar URL) of the submittedBy / submittedOnDailyBy object."""
    if not isinstance(by, dict):
        return None, None, None
    # The name is kept whatever its length: ingest's checks reject an oversized one with the reason.
    name = next((v.strip() for v in (by.get("name"), by.get("user"), by.get("fullname")) if isinstance(v, str) and v.strip()), None)
    if name is None:
        return None, None, None
    return name, _text(by.get("fullname"), 200), absolute_url(by.get("avatarUrl"))
