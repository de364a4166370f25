"""Code repositories named in a paper's text and Hugging Face's data, normalised so the same repository
is one row whatever way it was written: https://github.com/owner/repo (no .git, no /tree/main, no
trailing punctuation), https://gitlab.com/group/project, https://huggingface.co/owner/model,
.../datasets/owner/name, .../spaces/owner/name. Pure functions; pipeline.py and the github-stars
job's backfill store what they find (store/repos.py)."""

from __future__ import annotations

import re
from typing import NamedTuple

_URL = re.compile(r"https?://(?:www\.)?(github\.com|gitlab\.com|huggingface\.co|hf\.co)/([^\s<>\"'{}\\|^`\[\]]+)", re.IGNORECASE)
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")

# First path segments that are GitHub's or HF's own pages, not an owner.
_GITHUB_NOT_OWNERS = {
    "about", "apps", "collections", "enterprise", "features", "login", "marketplace", "orgs", "pricing",
    "search", "settings", "site", "sponsors", "topics", "trending", "users", "join", "explore", "notifications",
}  # fmt: skip
_HF_NOT_OWNERS = {
    "api", "blog", "chat", "collections", "docs", "join", "learn", "login", "models", "organizations", "papers",
    "posts", "pricing", "settings", "tasks", "welcome", "spaces", "datasets",
}  # fmt: skip


class RepoLink(NamedTuple):
    url: str  # normalised
    host: str  # github | gitlab | hf-model | hf-dataset | hf-space
    owner_repo: str
    source: str  # where it was found: hf | abstract | comment


def _clean(segment: str) -> str:
    segment = segment.rstrip(".,;:!?)")
    return segment[:-4] if segment.lower().endswith(".git") else segment


def normalise(url: str, source: str = "abstract") -> RepoLink | None:
    """The repository a URL names, or None when it names none (a user page, a docs page)."""
    match = _URL.match(url.strip())
    if not match:
        return None
    host, path = match.group(1).lower(), match.group(2)
    path = path.split("?", 1)[0].split("#", 1)[0]
    parts = [p for p in path.split("/") if p]
    if host == "github.com":
        if len(parts) < 2 or parts[0].lower() in _GITHUB_NOT_OWNERS:
            return None
        owner, repo = parts[0], _clean(parts[1])
        if not (_NAME.match(owner) and _NAME.match(repo)) or repo in (".", ".."):
            return None
        return RepoLink(f"https://github.com/{owner}/{repo}", "github", f"{owner}/{repo}", source)
    if host == "gitlab.com":
        names = []
        for part in parts:
            if part == "-" or len(names) == 4:
                break
            names.append(part)
        if names:
            names[-1] = _clean(names[-1])
        if len(names) < 2 or not all(_NAME.match(n) for n in names):
            return None
        path = "/".join(names)
        return RepoLink(f"https://gitlab.com/{path}", "gitlab", path, source)
    kind = "hf-model"
    if parts and parts[0] in ("datasets", "spaces"):
        kind = "hf-dataset" if parts[0] == "datasets" else "hf-space"
        parts = parts[1:]
    elif parts and parts[0].lower() in _HF_NOT_OWNERS:
        return None
    if len(parts) < 2:
        return None
    owner, name = parts[0], _clean(parts[1])
    if not (_NAME.match(owner) and _NAME.match(name)):
        return None
    prefix = {"hf-model": "", "hf-dataset": "datasets/", "hf-space": "spaces/"}[kind]
    return RepoLink(f"https://huggingface.co/{prefix}{owner}/{name}", kind, f"{owner}/{name}", source)


def find(text: str | None, source: str) -> list[RepoLink]:
    """Every repository named in a text, in order, once each."""
    if not text or "://" not in text:
        return []
    found: dict[str, RepoLink] = {}
    for match in _URL.finditer(text):
        link = normalise(match.group(0), source)
        if link is not None and link.url.lower() not in found:
            found[link.url.lower()] = link
    return list(found.values())


def for_paper(abstract: str | None, comment: str | None, code_url: str | None, paper_source: str) -> list[RepoLink]:
    """A paper's repositories: Hugging Face's githubRepo first (the paper's code_url when HF gave
    it), then those in the abstract and the comments; one per repository (GitHub names ignore case)."""
    links: dict[str, RepoLink] = {}
    candidates: list[RepoLink] = []
    if code_url:
        link = normalise(code_url, "hf" if paper_source == "hf" else "abstract")
        if link:
            candidates.append(link)
    candidates += find(abstract, "abstract") + find(comment, "comment")
    for link in candidates:
        links.setdefault(link.url.lower(), link)
    return list(links.values())


def rows_for(paper_id: int, abstract, comment, code_url, paper_source: str, hf_meta: dict | None) -> list[dict]:
    """paper_repos rows for a paper; HF's githubStars go with the GitHub repository HF named."""
    hf_stars = (hf_meta or {}).get("githubStars")
    rows = []
    for link in for_paper(abstract, comment, code_url, paper_source or ""):
        row = {"paper_id": paper_id, **link._asdict()}
        if link.source == "hf" and link.host == "github" and isinstance(hf_stars, int):
            row["stars"] = hf_stars
        rows.append(row)
    return rows
