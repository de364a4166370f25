"""Card pictures of the featured papers, made in the background (the thumbnails job).

For each featured paper lacking one (the most recently featured first, a bounded number a run):
the thumbnail Hugging Face mirrors (papers.hf_meta) when there is one, else the first page of the
PDF from arXiv, fetched in the slot every arXiv client of the site shares (store/pacing.py), at
most DAILYPAPERS_THUMBNAIL_MAX_PDF_MB. The picture is written as WebP under
data_dir/thumbnails/, atomically (a temporary file renamed into place), then recorded. A failure
(no PDF, a broken or huge one, a timeout) is one line in the paper's row; the paper is tried again an
hour later, then two, four..., DAILYPAPERS_THUMBNAIL_ATTEMPTS times in all, and shows its generated
card meanwhile. When arXiv cannot be reached at all the run stops there: the next one goes on."""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceError
from ..sources import pictures
from ..sources.http import PoliteClient, TooLarge
from ..store import thumbnails as thumb_store
from ..store.engine import Store
from ..store.pacing import SharedPace
from ..store.schema import utcnow

log = logging.getLogger(__name__)

FOLDER = "thumbnails"  # under data_dir
RETRY_BASE = dt.timedelta(hours=1)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif")
MAX_IMAGE_BYTES = 10_000_000


@dataclass
class ThumbnailReport:
    made: int = 0
    from_hf: int = 0
    failed: int = 0
    unreachable: str | None = None

    def summary(self) -> str:
        text = f"{self.made} thumbnails made ({self.from_hf} from Hugging Face), {self.failed} failed"
        if self.unreachable:
            text += f"; stopped: {self.unreachable}"
        return text


def relative_path(arxiv_id: str) -> str:
    """Where a paper's picture lives under data_dir: thumbnails/2410/2410.17243.webp (old-style
    ids: thumbnails/hep-th/hep-th_9901001.webp)."""
    name = arxiv_id.replace("/", "_")
    folder = arxiv_id.split("/")[0] if "/" in arxiv_id else arxiv_id[:4]
    return f"{FOLDER}/{folder}/{name}.webp"


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` at `path` all at once: a reader sees the old file or the new, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".webp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def hf_picture(hf_meta: dict | None) -> str | None:
    """The picture HF shows for a paper: its thumbnail, else the first image among its media."""
    if not isinstance(hf_meta, dict):
        return None
    candidates = [hf_meta.get("thumbnail")]
    candidates += [u for u in hf_meta.get("mediaUrls") or [] if isinstance(u, str) and u.lower().split("?")[0].endswith(IMAGE_SUFFIXES)]
    for url in candidates:
        if isinstance(url, str) and url.startswith(("https://", "http://")):
            return url
    return None


def retry_wait(tries: int) -> dt.timedelta:
    """The wait after the `tries`-th failed try: an hour, then two, four..."""
    return RETRY_BASE * 2 ** max(0, tries - 1)


class _Unreachable(Exception):
    pass


def _from_hf(client: PoliteClient, url: str) -> bytes:
    response = client.get(url, max_bytes=MAX_IMAGE_BYTES)
    if response.status_code >= 400:
        raise SourceError(f"{url} answered HTTP {response.status_code}")
    return pictures.from_image(response.content)


def _from_pdf(client: PoliteClient, url: str, cap: int) -> bytes:
    try:
        response = client.get(url, max_bytes=cap)
    except TooLarge:
        raise
    except SourceError as exc:  # timed out or unreachable after the retries: arXiv is away
        raise _Unreachable(str(exc)) from None
    if response.status_code >= 400:
        raise SourceError(f"{url} answered HTTP {response.status_code}")
    return pictures.from_pdf(response.content)


def make_thumbnails(store: Store, limit: int | None = None, *, should_stop: Callable[[], bool] = lambda: False,
                    pacer: Callable[[], None] | None = None) -> ThumbnailReport:
    """Make the thumbnails of up to `limit` featured papers that lack one (see the module's docstring)."""
    settings = store.settings
    report = ThumbnailReport()
    limit = limit or settings.thumbnail_job_limit
    with store.session() as session:
        todo = thumb_store.due(session, utcnow(), limit, settings.thumbnail_attempts)
    if not todo:
        return report
    data_dir = Path(settings.data_dir)
    cap = int(settings.thumbnail_max_pdf_mb * 1_000_000)
    quick = settings.model_copy(update={"http_retries": min(settings.http_retries, 1)})
    with PoliteClient(quick, pacer=pacer or SharedPace(store)) as arxiv, PoliteClient(quick.model_copy(update={"arxiv_request_interval": 0.5})) as hf:
        for paper in todo:
            if should_stop():
                break
            arxiv_id, source = paper["arxiv_id"], "pdf"
            try:
                picture = None
                url = hf_picture(paper["hf_meta"])
                if url:
                    try:
                        picture, source = _from_hf(hf, url), "hf"
                    except SourceError as exc:
                        log.info("thumbnail of %s: HF's picture failed (%s); using the PDF", arxiv_id, exc)
                if picture is None:
                    picture = _from_pdf(arxiv, settings.arxiv_pdf_url.format(id=arxiv_id), cap)
            except (SourceError, _Unreachable) as exc:
                tries = paper["tries"] + 1
                with store.session() as session, session.begin():
                    thumb_store.record_failure(session, paper["id"], str(exc), utcnow() + retry_wait(tries))
                report.failed += 1
                log.warning("thumbnail of %s failed (try %d of %d): %s", arxiv_id, tries, settings.thumbnail_attempts, exc)
                if isinstance(exc, _Unreachable):
                    report.unreachable = str(exc)
                    break
                continue
            rel = relative_path(arxiv_id)
            write_atomically(data_dir / rel, picture)
            with store.session() as session, session.begin():
                thumb_store.record_ok(session, paper["id"], rel, pictures.WIDTH, pictures.HEIGHT, source)
            report.made += 1
            report.from_hf += source == "hf"
    return report
