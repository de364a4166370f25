"""`dailypapers papers`: one stored paper, the papers featured on a day, featuring papers by hand."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ..errors import DailyPapersError
from .common import err, open_store, out, parse_day

app = typer.Typer(help="Look at stored papers.", no_args_is_help=True)


@app.command("show")
def papers_show(
    arxiv_id: Annotated[str, typer.Argument(help="arXiv id, with or without version.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the paper as the JSON API does.")] = False,
) -> None:
    """Show one paper: metadata, links, versions and the days it was featured."""
    from ..errors import NotFoundError
    from ..arxiv import split_arxiv_id
    from ..errors import InvalidRecord
    from ..store import papers as paper_store

    try:
        bare, _ = split_arxiv_id(arxiv_id)
    except InvalidRecord as exc:
        raise DailyPapersError(str(exc)) from None
    store = open_store()
    with store.session() as session:
        detail = paper_store.detail(session, bare)
    if detail is None:
        raise NotFoundError(f"no paper {bare} in the store")
    if as_json:
        from ..shapes import paper_info
        from ..store.feed import items_for

        with store.session() as session:
            item = items_for(session, [detail.paper])[0]
        body = paper_info(item, store.settings.base_url.rstrip("/"))
        body["versions"] = [{"version": v.version, "submittedAt": _iso(v.submitted_at)} for v in detail.paper.versions]
        body["featuredOn"] = [d.isoformat() for d in detail.days]
        out.print_json(json.dumps(body))
        return
    p = detail.paper
    out.print(f"[bold]{_esc(p.title)}[/bold]")
    out.print(f"arXiv:{p.arxiv_id}" + (f"v{p.version}" if p.version else ""), highlight=False)
    out.print(", ".join(a["name"] for a in p.authors), highlight=False, markup=False)
    out.print(" ".join(p.categories), highlight=False)
    for label, value in (("comment", p.comment), ("journal", p.journal_ref), ("doi", p.doi), ("code", p.code_url), ("project", p.project_url)):
        if value:
            out.print(f"{label}: {value}", highlight=False, markup=False)
    if p.published_at:
        out.print(f"submitted: {p.published_at:%Y-%m-%d %H:%M} UTC", highlight=False)
    if p.versions:
        out.print(
            "versions: "
            + ", ".join(f"v{v.version}" + (f" ({v.submitted_at:%Y-%m-%d})" if v.submitted_at else "") for v in p.versions),
            highlight=False,
        )
    if detail.days:
        out.print("featured: " + ", ".join(d.isoformat() for d in detail.days), highlight=False)
    out.print(f"upvotes: {p.upvotes_imported + p.upvote_count}", highlight=False)
    out.print()
    out.print(p.abstract, highlight=False, markup=False)


@app.command("list")
def papers_list(
    date: Annotated[str, typer.Option("--date", help="The day whose feed to list (YYYY-MM-DD).")],
    sort: Annotated[str, typer.Option(help="upvotes, time or trending.")] = "upvotes",
    limit: Annotated[int, typer.Option(min=1, max=10000, help="At most this many papers.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print HF-shaped daily_papers items.")] = False,
) -> None:
    """List the papers featured on a day."""
    from ..store.feed import SORTS, FeedQuery, list_featured

    day = parse_day(date)
    if sort not in SORTS:
        raise DailyPapersError(f"--sort: one of {', '.join(SORTS)}")
    store = open_store()
    with store.session() as session:
        page = list_featured(session, FeedQuery(start=day, end=day, sort=sort, limit=limit))
    if as_json:
        from ..shapes import daily_item

        base = store.settings.base_url.rstrip("/")
        out.print_json(json.dumps([daily_item(i, base) for i in page.items]))
        return
    if not page.items:
        err.print(f"no papers on {day}", highlight=False)
        return
    for item in page.items:
        p = item.paper
        authors = ", ".join(a["name"] for a in p.authors[:3]) + (" et al." if len(p.authors) > 3 else "")
        out.print(f"{p.arxiv_id:>12}  {item.upvotes:>4}  {p.title}  ({authors})", highlight=False, markup=False)
    out.print(f"{page.total} papers on {day}", highlight=False)


@app.command("feature")
def papers_feature(
    arxiv_ids: Annotated[list[str] | None, typer.Argument(help="arXiv ids to feature.", show_default=False)] = None,
    day: Annotated[str | None, typer.Option("--day", help="The feed day (YYYY-MM-DD). Default: today (UTC).")] = None,
    listed: Annotated[
        bool,
        typer.Option("--listed", help="Feature every paper arXiv listed on --day (without --day: every listed paper, on its listing day)."),
    ] = False,
) -> None:
    """Put papers on the curated feed by hand, as a curator would (no submission rules, no member
    named). Papers already featured on that day are left alone."""
    import datetime as dt

    from ..arxiv import split_arxiv_id
    from ..errors import InvalidRecord, NotFoundError
    from ..store import daily as daily_store
    from ..store import kv
    from ..store import listings as listing_store
    from ..store import papers as paper_store

    if not arxiv_ids and not listed:
        raise DailyPapersError("name arXiv ids to feature, or --listed")
    if arxiv_ids and listed:
        raise DailyPapersError("give arXiv ids or --listed, not both")
    when = parse_day(day) if day else None
    store = open_store()
    with store.session() as session, session.begin():
        if listed:
            pairs = listing_store.pairs_between(session, when, when)
        else:
            bare = []
            for raw in arxiv_ids or []:
                try:
                    bare.append(split_arxiv_id(raw)[0])
                except InvalidRecord as exc:
                    raise DailyPapersError(str(exc)) from None
            found = paper_store.existing(session, bare)
            missing = [a for a in bare if a not in found]
            if missing:
                raise NotFoundError(f"not in the store: {', '.join(missing)}")
            target = when or dt.datetime.now(dt.UTC).date()
            pairs = [(found[a].id, target) for a in bare]
        added = daily_store.feature_many(session, pairs)
        if added:
            kv.bump(session)
    out.print(f"{added} featured ({len(pairs) - added} already were)", highlight=False)


def _iso(value):
    return value.isoformat() if value else None


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)
