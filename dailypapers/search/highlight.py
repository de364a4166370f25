"""Highlighting: safe HTML for a result's title and abstract snippet. The full-text index says where
the query's words match (as it stems them, `index/matches.py`); the text is escaped here, so stored
text can never inject markup, and only the matches are wrapped in <mark>."""

from __future__ import annotations

import html
import re

from ..index.matches import Matches

_SPACE = re.compile(r"\s+")


class Highlighter:
    """Safe HTML for titles and abstract snippets: the text escaped, the query's terms wrapped in
    <mark>. Built once per query; cheap per paper."""

    def __init__(self, matches: Matches, *, snippet_chars: int = 240):
        self.snippet_chars = snippet_chars
        self.markers = {
            "title": matches.marker("title", 1000),
            "abstract": matches.marker("abstract", snippet_chars),
        }

    def _html(self, field_name: str, text: str) -> str | None:
        marker = self.markers[field_name]
        marked = marker.mark(text) if marker is not None else None
        if marked is None:
            return None
        fragment, out, at = marked.fragment, [], 0
        for start, end in marked.ranges:  # byte offsets into the fragment
            if start < at:
                continue
            out.append(html.escape(fragment[at:start].decode("utf-8", "replace")))
            out.append("<mark>" + html.escape(fragment[start:end].decode("utf-8", "replace")) + "</mark>")
            at = end
        out.append(html.escape(fragment[at:].decode("utf-8", "replace")))
        body = "".join(out)
        if field_name == "abstract":
            body = ("… " if marked.start > 0 else "") + body + (" …" if marked.end < len(text.encode("utf-8")) else "")
        return body

    def title(self, title: str) -> str:
        """The title, escaped, with matches marked."""
        title = _SPACE.sub(" ", title or "").strip()
        return self._html("title", title) or html.escape(title)

    def snippet(self, abstract: str) -> str:
        """The best passage of the abstract (about `snippet_chars` long), escaped, matches marked;
        the abstract's start when no term matches (a semantic hit)."""
        abstract = _SPACE.sub(" ", abstract or "").strip()
        found = self._html("abstract", abstract)
        if found:
            return found
        if len(abstract) <= self.snippet_chars:
            return html.escape(abstract)
        cut = abstract.rfind(" ", 0, self.snippet_chars)
        return html.escape(abstract[: cut if cut > 0 else self.snippet_chars]) + " …"
