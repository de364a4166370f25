"""Comments: markdown rendered by markdown-it (raw HTML off) and sanitized by nh3 (an allow-list),
so nothing a commenter types can run or restyle the page."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("strikethrough")

TAGS = {"p", "br", "em", "strong", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h3", "h4", "hr"}
ATTRIBUTES = {"a": {"href", "title"}}


def render_comment(text: str) -> str:
    html = _md.render(text)
    # Headings inside a comment must not outrank the page's own.
    for level in ("1", "2"):
        html = html.replace(f"<h{level}>", "<h3>").replace(f"</h{level}>", "</h3>")
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer ugc",
    )
