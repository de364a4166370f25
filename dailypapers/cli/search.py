"""`dailypapers search`: the stored papers searched as the site's search page does."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from .common import open_store, out, parse_day


def search_command(
    query: Annotated[
        str,
        typer.Argument(help='Words, "phrases", ti:/au:/abs:/co:/cat:/all: prefixes, AND/OR/ANDNOT, -word, or an arXiv id (see the README).'),
    ],
    sort: Annotated[str, typer.Option(help="relevance, date or upvotes.")] = "relevance",
    since: Annotated[Optional[str], typer.Option(help="Papers of this day or later (YYYY-MM-DD).")] = None,
    until: Annotated[Optional[str], typer.Option(help="Papers of this day or earlier (YYYY-MM-DD).")] = None,
    category: Annotated[Optional[list[str]], typer.Option("--category", "-c", help="Only this category (repeatable).")] = None,
    has_code: Annotated[Optional[bool], typer.Option("--has-code/--no-code", help="Only papers with (or without) code.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="Results per page.")] = 10,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many results.")] = 0,
    mode: Annotated[str, typer.Option(help="hybrid, fulltext or semantic.")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="Print HF-shaped search items.")] = False,
) -> None:
    """Search the stored papers, as the site's search page does."""
    import re

    from ..search import SearchQuery, lone_arxiv_id, search

    store = open_store()
    page = search(
        store,
        SearchQuery(
            text=query,
            since=parse_day(since, "since"),
            until=parse_day(until, "until"),
            categories=tuple(category or ()),
            has_code=has_code,
            sort=sort,
            limit=limit,
            offset=offset,
            mode=mode,
        ),
    )
    if as_json:
        from ..shapes import search_items

        items = search_items(store, [h.paper for h in page.hits], store.settings.base_url.rstrip("/"))
        out.print_json(json.dumps(items))
        return
    from rich.markup import escape

    def marked(html_text: str) -> str:
        # The service's safe HTML, shown in a terminal: marks in bold, entities decoded.
        import html

        parts = re.split(r"(</?mark>)", html_text)
        return "".join("[bold]" if p == "<mark>" else "[/bold]" if p == "</mark>" else escape(html.unescape(p)) for p in parts)

    for number, hit in enumerate(page.hits, start=page.query.offset + 1):
        p = hit.paper
        day = p.first_featured or (p.published_at.date() if p.published_at else "")
        out.print(f"{number:>3}. {marked(hit.title_html)}")
        out.print(f"     arXiv:{p.arxiv_id}  {day}  {' '.join(p.categories[:3])}  score {hit.score:.3f} ({hit.found_by})", highlight=False, markup=False)
        out.print(f"     {marked(hit.snippet_html)}")
    if not page.hits and (arxiv_id := lone_arxiv_id(query)):
        out.print(f"arXiv:{arxiv_id} is not stored here; `dailypapers ingest arxiv:{arxiv_id}` fetches it", highlight=False, markup=False)
    shown = f"{page.query.offset + 1}-{page.query.offset + len(page.hits)}" if page.hits else "none"
    semantic = "" if page.semantic else " (full text only)"
    out.print(f"{shown} of {page.total} results in {page.took_ms:.0f} ms{semantic}", highlight=False)
