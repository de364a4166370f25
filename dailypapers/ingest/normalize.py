"""Pure normalization of source records: ids, whitespace, links, validation, content hashes."""

from __future__ import annotations

import hashlib
import json
import re

from ..arxiv import CATEGORY, split_arxiv_id
from ..errors import InvalidRecord
from ..types import PAPER_COLUMNS, Author, PaperRecord, PaperRow
from .validate import check

MAX_CATEGORY = 40  # the longest arXiv category is 17 characters; longer entries are not categories

# A newline followed by indentation starts a new paragraph in arXiv abstracts; other newlines are wraps.
_PARAGRAPH = re.compile(r"\n[ \t]{2,}")

# URLs stop at whitespace, quotes, brackets and LaTeX braces/backslashes.
_URL = re.compile(r"https?://[^\s<>\"'{}\\|^`\[\]]+", re.IGNORECASE)
_CODE_HOSTS = ("github.com/", "gitlab.com/", "bitbucket.org/", "codeberg.org/", "huggingface.co/", "git.")
_NOT_PROJECT = ("arxiv.org", "doi.org", "creativecommons.org", "dx.doi.org")


def clean_title(text: str) -> str:
    """Titles: every run of whitespace, wraps included, becomes one space."""
    return " ".join(text.split())


def _join_wraps(paragraph: str) -> str:
    if "\n" not in paragraph:
        return paragraph.strip()
    return " ".join(line for line in (part.strip(" \t\r") for part in paragraph.split("\n")) if line)


def clean_abstract(text: str) -> str:
    """Abstracts: hard wraps joined into spaces, paragraphs kept (one per line), LaTeX untouched."""
    text = text.strip("\n").rstrip()
    if "\n" not in text:
        return text.strip()
    parts = _PARAGRAPH.split(text) if ("\n  " in text or "\n\t" in text) else (text,)
    return "\n".join(p for p in map(_join_wraps, parts) if p)


def clean_text(text: str | None) -> str | None:
    """Comments, journal references and the like: wraps joined; empty becomes None."""
    if text is None:
        return None
    text = " ".join(text.split())
    return text or None


def _strip_url(url: str) -> str:
    url = url.rstrip(".,;:!?)")
    if url.count("(") < url.count(")"):
        url = url.rstrip(")")
    return url


def find_links(*texts: str | None) -> tuple[str | None, str | None]:
    """The first code repository URL and the first other project URL in the texts, in order."""
    code = project = None
    for text in texts:
        if not text or "://" not in text:
            continue
        for match in _URL.finditer(text):
            url = _strip_url(match.group(0))
            host_path = url.split("://", 1)[1].lower()
            if len(host_path.split("/", 1)[0]) < 4:
                continue
            if any(h in host_path for h in _CODE_HOSTS):
                # github.io pages are project pages; a bare github.com is not a repository.
                if "github.io" in host_path or host_path.rstrip("/") in ("github.com", "gitlab.com", "huggingface.co"):
                    project = project or url
                else:
                    code = code or url
            elif not any(host_path.startswith(h) or f".{h}" in host_path.split("/", 1)[0] for h in _NOT_PROJECT):
                project = project or url
    return code, project


def normalize(record: PaperRecord) -> PaperRecord:
    """Validate and clean a record in place (and return it). Raises InvalidRecord with the reason."""
    if not record.arxiv_id:
        raise InvalidRecord("no arXiv id")
    check(record)  # types, sizes, characters, versions and dates: before anything is cleaned
    arxiv_id, id_version = split_arxiv_id(record.arxiv_id)
    record.arxiv_id = arxiv_id
    if record.version is None:
        record.version = id_version
    title = clean_title(record.title or "")
    if not title:
        raise InvalidRecord(f"{arxiv_id}: no title")
    record.title = title
    record.abstract = clean_abstract(record.abstract or "")
    if not record.abstract:
        raise InvalidRecord(f"{arxiv_id}: no abstract")
    authors = []
    for author in record.authors:
        name = author.name
        if "  " in name or "\n" in name or name[:1].isspace() or name[-1:].isspace():
            name = clean_title(name)
            author = Author(name, author.affiliations)
        if name:
            authors.append(author)
    if not authors:
        raise InvalidRecord(f"{arxiv_id}: no authors")
    record.authors = authors
    seen: set[str] = set()
    categories = []
    for cat in record.categories:
        cat = cat.strip()
        if cat and cat not in seen and len(cat) <= MAX_CATEGORY and CATEGORY.match(cat):
            seen.add(cat)
            categories.append(cat)
    record.categories = categories
    record.comment = clean_text(record.comment)
    record.journal_ref = clean_text(record.journal_ref)
    record.doi = clean_text(record.doi)
    record.report_no = clean_text(record.report_no)
    if record.versions:
        record.versions.sort(key=lambda v: v.version)
        latest = record.versions[-1].version
        if record.versions_complete and (record.version is None or record.version < latest):
            record.version = latest
        if record.published_at is None:
            record.published_at = record.versions[0].submitted_at
        if record.updated_at is None and len(record.versions) > 1:
            record.updated_at = record.versions[-1].submitted_at
    if record.code_url is None or record.project_url is None:
        code, project = find_links(record.abstract, record.comment)
        record.code_url = record.code_url or code
        record.project_url = record.project_url or project
    return record


def authors_json(authors: list[Author]) -> list[dict]:
    return [{"name": a.name, "affiliations": list(a.affiliations)} if a.affiliations else {"name": a.name} for a in authors]


def _s(value) -> str:
    return "\x00" if value is None else str(value)


def _authors_text(authors: list | None) -> str:
    if authors is None:
        return "\x00"
    return "\x1e".join(
        [a["name"] if len(a) == 1 else a["name"] + "\x1d" + "\x1d".join(a.get("affiliations") or ()) for a in authors]
    )


# Every paper column but the id, the primary category (the first of `categories`), the source's
# name and the hash itself: equal hashes mean nothing to write.
HASHED_FIELDS = tuple(c for c in PAPER_COLUMNS if c not in ("arxiv_id", "primary_category", "source", "content_hash"))


def content_hash(row: PaperRow) -> str:
    """A hash of the stored paper fields (HASHED_FIELDS): equal hashes mean nothing to write."""
    cats = row.categories
    payload = "\x1f".join(
        (
            _s(row.version),
            _s(row.title),
            _s(row.abstract),
            _authors_text(row.authors),
            "\x00" if cats is None else "\x1e".join(cats),
            _s(row.comment),
            _s(row.journal_ref),
            _s(row.doi),
            _s(row.report_no),
            _s(row.license),
            _s(row.code_url),
            _s(row.project_url),
            _s(row.published_at),
            _s(row.updated_at),
            _s(row.upvotes_imported),
            _s(row.comments_imported),
        )
    )
    hf = row.hf_meta
    if hf is not None:  # only then, so the hashes of papers without HF fields stay as they were
        payload += "\x1f" + json.dumps(hf, sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()
