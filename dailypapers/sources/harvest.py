"""Live harvesting from arXiv: OAI-PMH for everything new in some categories since a date, the export
API for papers by id. Each page is stored before the next is asked for, and the OAI-PMH resumption
token is saved after it (through the caller's callbacks: sources never touch the store), so a
crashed harvest resumes where it stopped."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from ..arxiv import CATEGORY, split_arxiv_id
from ..config import Settings
from ..errors import InvalidRecord, SourceError
from ..types import IngestReport, PaperRecord, Rejection
from . import arxiv_api, oai_pmh

if TYPE_CHECKING:  # httpx is imported only when something is fetched: file ingests start faster
    from .http import PoliteClient

# Archives that OAI-PMH files under the physics set.
_PHYSICS = {
    "astro-ph", "cond-mat", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph",
    "nlin", "nucl-ex", "nucl-th", "physics", "quant-ph",
}  # fmt: skip


def oai_set(category: str) -> str:
    """The OAI-PMH set holding a category: cs.CL -> cs, hep-th -> physics:hep-th."""
    archive = category.split(".", 1)[0]
    return f"physics:{archive}" if archive in _PHYSICS else archive


def parse_target(spec: str) -> tuple[str, list[str]]:
    """'arxiv:cs.CL,cs.LG' -> ('categories', [...]); 'arxiv:2410.17243,2401.00001v2' -> ('ids', [...])."""
    body = spec.split(":", 1)[1] if ":" in spec else spec
    parts = [p.strip() for p in body.split(",") if p.strip()]
    if not parts:
        raise SourceError(f"{spec}: name arXiv categories (arxiv:cs.CL,cs.LG) or ids (arxiv:2410.17243)")
    ids, cats = [], []
    for part in parts:
        try:
            split_arxiv_id(part)
            ids.append(part)
        except InvalidRecord:
            if not CATEGORY.match(part):
                raise SourceError(f"{spec}: {part!r} is neither an arXiv category nor an arXiv id") from None
            cats.append(part)
    if ids and cats:
        raise SourceError(f"{spec}: mix of categories and ids; give them in separate arguments")
    return ("ids", ids) if ids else ("categories", cats)


PageSink = Callable[[list[PaperRecord | Rejection]], IngestReport]
# A harvest's resumption state by key: {"cursor": token or None, "records": seen, "done": bool}.
LoadCursor = Callable[[str], dict | None]
SaveCursor = Callable[[str, str | None, int, bool], None]


def _in_categories(record: PaperRecord, wanted: set[str]) -> bool:
    return any(c in wanted or c.split(".", 1)[0] in wanted for c in record.categories)


def harvest_categories(
    settings: Settings,
    categories: list[str],
    since: dt.date,
    until: dt.date | None,
    sink: PageSink,
    *,
    load_cursor: LoadCursor,
    save_cursor: SaveCursor,
    client: PoliteClient | None = None,
    on_page: Callable[[int, int | None], None] | None = None,
) -> IngestReport:
    """ListRecords from OAI-PMH for each archive set, keeping records in `categories`.

    `sink` stores a page's records and returns its report; `on_page(records_so_far, complete_size)`
    reports progress. The resumption token is saved (`save_cursor`) only after the page is stored;
    `load_cursor` gives back the last one saved."""
    report = IngestReport()
    wanted = set(categories)
    own_client = client is None
    if client is None:
        from .http import PoliteClient

        client = PoliteClient(settings)
    try:
        for set_spec in sorted({oai_set(c) for c in categories}):
            key = f"oai:{set_spec}:{since.isoformat()}:{until.isoformat() if until else ''}:{','.join(sorted(wanted))}"
            state = load_cursor(key)
            if state and state["done"]:
                # Done before: harvest again from the start (cheap, and catches late updates).
                state = None
            token = state["cursor"] if state else None
            seen = state["records"] if state else 0
            while True:
                if token:
                    params = {"verb": "ListRecords", "resumptionToken": token}
                else:
                    params = {"verb": "ListRecords", "metadataPrefix": "arXiv", "set": set_spec, "from": since.isoformat()}
                    if until:
                        params["until"] = until.isoformat()
                response = client.get(settings.arxiv_oai_url, params=params)
                if response.status_code >= 400:
                    raise SourceError(f"{settings.arxiv_oai_url} answered HTTP {response.status_code}")
                info = oai_pmh.PageInfo()
                items = list(oai_pmh.parse(io.BytesIO(response.content), info))
                if info.error_code == "badResumptionToken" and token:
                    # Tokens expire; the records are idempotent, so start this set over.
                    token, seen = None, 0
                    save_cursor(key, None, 0, False)
                    continue
                if info.error_code not in (None, "noRecordsMatch"):
                    raise SourceError(f"OAI-PMH error {info.error_code}: {info.error_message}")
                kept = [i for i in items if isinstance(i, Rejection) or _in_categories(i, wanted)]
                report.add(sink(kept))
                seen += len(items)
                token = info.resumption_token
                save_cursor(key, token, seen, token is None)
                if on_page:
                    on_page(seen, info.complete_list_size)
                if not token:
                    break
    finally:
        if own_client:
            client.close()
    return report


def fetch_ids(settings: Settings, ids: list[str], *, client: PoliteClient | None = None) -> Iterator[PaperRecord | Rejection]:
    """Papers by id from the export API, 100 per request."""
    own_client = client is None
    if client is None:
        from .http import PoliteClient

        client = PoliteClient(settings)
    try:
        for start in range(0, len(ids), 100):
            part = ids[start : start + 100]
            response = client.get(settings.arxiv_api_url, params={"id_list": ",".join(part), "max_results": len(part)})
            if response.status_code >= 400 and b"<feed" not in response.content[:2000]:
                raise SourceError(f"{settings.arxiv_api_url} answered HTTP {response.status_code}")
            yield from arxiv_api.parse(io.BytesIO(response.content))
    finally:
        if own_client:
            client.close()


def fetch_one(settings: Settings, arxiv_id: str, *, client: PoliteClient | None = None) -> PaperRecord | None:
    """One paper from the export API, or None when arXiv does not know it."""
    for item in fetch_ids(settings, [arxiv_id], client=client):
        if isinstance(item, PaperRecord):
            return item
        raise SourceError(item.reason)
    return None

