"""Text helpers shared by the web pages and the email digests: short author lists and abstract
openings. Pure; importing nothing of ours."""

from __future__ import annotations


def authors_short(authors: list[dict], n: int = 3) -> str:
    names = [a["name"] for a in authors or []]
    if len(names) <= n:
        return ", ".join(names)
    return ", ".join(names[:n]) + " et al."


def opening(text: str, limit: int = 280) -> str:
    """The first ~limit characters of an abstract, cut at a word, never inside a $...$ formula."""
    first = (text or "").split("\n", 1)[0]
    if len(first) <= limit:
        return first
    cut = first.rfind(" ", 0, limit)
    cut = cut if cut > limit // 2 else limit
    # An odd number of $ before the cut means we are inside inline math: cut before it instead.
    if first[:cut].count("$") % 2 == 1:
        cut = first.rfind("$", 0, cut)
    return first[:cut].rstrip(" ,;:") + " …"
