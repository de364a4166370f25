"""What a card's picture is: its URL (the paper's thumbnail, versioned, or its generated card) and
the generated card itself, an SVG of the paper's title and category. Pure: the pages' templates use
these as filters, web/thumbnails.py serves the pictures."""

from __future__ import annotations

import hashlib
import re
import textwrap
import unicodedata

from markupsafe import escape

WIDTH, HEIGHT = 480, 300  # as sources/pictures.py makes them (the web never imports sources)
# Card colours by arXiv archive (dark enough for white text), the rest from a hash of the category.
ARCHIVE_COLORS = {"cs": "#4338ca", "stat": "#0f766e", "math": "#1d4ed8", "eess": "#b45309", "physics": "#7c3aed",
                  "q-bio": "#15803d", "q-fin": "#be123c", "astro-ph": "#1e3a8a", "hep-th": "#9f1239", "cond-mat": "#0e7490"}
PALETTE = ("#4338ca", "#0f766e", "#b45309", "#be123c", "#15803d", "#7c3aed", "#1d4ed8", "#c2410c", "#a21caf")


def url_for(paper, version: str | None) -> str:
    """The picture a card shows: the thumbnail when the paper has one, else its generated card."""
    arxiv_id = paper.arxiv_id
    if version:
        return f"/thumbnails/{arxiv_id}.webp?v={version}"
    return f"/thumbnails/{arxiv_id}.svg"


def item_url(item) -> str:
    """The picture of a feed item (store/feed.FeedItem, which knows its thumbnail's version)."""
    return url_for(item.paper, item.thumbnail)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _plain(text: str) -> str:
    """A title as one line of text for SVG: no control characters (XML forbids them), spaces folded."""
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text or ""))
    return " ".join(text.split())


def card_svg(title: str, category: str | None) -> str:
    """A generated card: the title (wrapped, at most five lines) on a colour of its category."""
    category = _plain(category or "")
    archive = category.split(".")[0]
    digest = hashlib.blake2b(category.encode(), digest_size=4).digest()
    color = ARCHIVE_COLORS.get(archive) or PALETTE[digest[0] % len(PALETTE)]
    # A bold sans-serif letter is about 0.6 of the font size wide: 416 px of line (the card's 480
    # less its margins) hold 24 letters at 28 px, or 30 at 22 px for a title that needs more lines.
    text = _plain(title) or "Untitled"
    lines = textwrap.wrap(text, width=24, break_long_words=True)
    size = 28
    if len(lines) > 3:
        lines = textwrap.wrap(text, width=30, break_long_words=True, max_lines=5, placeholder=" …")
        size = 22
    top = HEIGHT / 2 - (len(lines) - 1) * size * 0.6 + 10
    tspans = "".join(
        f'<tspan x="32" y="{top + i * size * 1.2:.0f}">{escape(line)}</tspan>' for i, line in enumerate(lines)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{color}"/>'
        f'<rect x="0" y="{HEIGHT - 8}" width="{WIDTH}" height="8" fill="#ffffff" fill-opacity="0.25"/>'
        f'<text x="32" y="44" fill="#ffffff" fill-opacity="0.85" font-size="18" font-weight="600" letter-spacing="1" '
        f'font-family="ui-monospace, SFMono-Regular, Menlo, monospace">{escape(category)}</text>'
        f'<text fill="#ffffff" font-size="{size}" font-weight="700" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif">{tspans}</text></svg>\n'
    )
