"""Thumbnails (issue 14, point 3): the job makes each featured paper's picture from HF's mirrored
thumbnail or the PDF's first page (PDFs made here, served by a local HTTP server), spaces its arXiv
requests in the slot every client shares, retries failures with backoff; the site serves pictures
with long cache headers, and a generated card for a paper without one."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
import time
import xml.etree.ElementTree as ET

import pytest
from PIL import Image
from sqlalchemy import update

from dailypapers.ingest.run import IngestJob
from dailypapers.ingest.thumbnails import make_thumbnails, relative_path
from dailypapers.sources.http import PoliteClient
from dailypapers.store import thumbnails as thumb_store
from dailypapers.store.engine import Store
from dailypapers.store.pacing import SharedPace, reserve
from dailypapers.store.schema import Paper, Thumbnail, utcnow
from pdfhelp import make_pdf, make_png
from support import client_for, feature_all_listed, make_settings, site_settings
from upstream import Answer, Upstream

EVIL = '<script>alert(1)</script> & $\\alpha<\\beta$ "quoted"'
PAPERS = [
    ("2503.00001", "Sparse Attention for Everyone", "cs.CL"),
    ("2503.00002", "Diffusion in the Wild", "cs.CV"),
    ("2503.00003", EVIL, "stat.ML"),
]


def _store_with_papers(settings) -> Store:
    lines = [
        json.dumps({"id": i, "title": t, "authors": ["Ada Lovelace"], "categories": [c], "comment": None,
                    "abstract": "An abstract long enough to be one.", "listed": "2025-03-24"})
        for i, t, c in PAPERS
    ]
    path = settings.data_dir.parent / "papers.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    store = Store(settings)
    IngestJob(store).run([str(path)])
    feature_all_listed(store)  # listed papers get no thumbnail: only featured ones do
    return store


def _pdf_server(answers: dict[str, Answer] | None = None):
    def handle(req):
        arxiv_id = req.path.rsplit("/", 1)[-1]
        if answers and arxiv_id in answers:
            return answers[arxiv_id]
        return Answer(body=make_pdf(f"Paper {arxiv_id}"), content_type="application/pdf")

    return Upstream(handle)


def _state(store, arxiv_id):
    with store.session() as session:
        pid = session.query(Paper.id).filter(Paper.arxiv_id == arxiv_id).scalar()
        return thumb_store.state(session, pid)


@pytest.fixture
def site(db_url, tmp_path):
    settings = site_settings(db_url, tmp_path)
    store = _store_with_papers(settings)
    yield settings, store
    store.dispose()


def test_job_renders_first_pages_as_webp(site):
    settings, store = site
    with _pdf_server() as up:
        store.settings = settings.model_copy(update={"arxiv_pdf_url": up.url + "/pdf/{id}"})
        report = make_thumbnails(store)
        assert report.made == 3 and report.failed == 0, report.summary()
        assert sorted(r.path for r in up.log) == [f"/pdf/{i}" for i, _, _ in PAPERS]
        for arxiv_id, _, _ in PAPERS:
            path = settings.data_dir / relative_path(arxiv_id)
            image = Image.open(path)
            assert (image.format, image.size) == ("WEBP", (480, 300))
            # The top of the page: white paper, the dark title text, not one flat colour.
            assert len(image.convert("L").getcolors(256) or []) > 10
            state = _state(store, arxiv_id)
            assert (state["status"], state["source"], state["tries"]) == ("ok", "pdf", 1)
        assert not list(settings.data_dir.glob("thumbnails/*/.tmp-*"))  # temporary files renamed away
        # Nothing left to do: the next run asks nothing.
        assert make_thumbnails(store).made == 0 and len(up.log) == 3


def test_hf_thumbnail_is_used_before_the_pdf(site):
    settings, store = site

    def handle(req):
        if req.path == "/thumb.png":
            return Answer(body=make_png(), content_type="image/png")
        return Answer(body=make_pdf(), content_type="application/pdf")

    with Upstream(handle) as up:
        store.settings = settings.model_copy(update={"arxiv_pdf_url": up.url + "/pdf/{id}", "thumbnail_job_limit": 1})
        with store.session() as session, session.begin():
            session.execute(update(Paper).where(Paper.arxiv_id == "2503.00003").values(hf_meta={"thumbnail": up.url + "/thumb.png"}))
        report = make_thumbnails(store)  # limit 1: the newest first (same day: the highest id)
        assert (report.made, report.from_hf) == (1, 1)
        assert [r.path for r in up.log] == ["/thumb.png"]
        image = Image.open(settings.data_dir / relative_path("2503.00003")).convert("RGB")
        assert image.size == (480, 300) and image.getpixel((240, 150))[0] > 180  # the red picture
        assert _state(store, "2503.00003")["source"] == "hf"


def test_failures_are_retried_with_backoff_then_left(site):
    settings, store = site
    answers = {
        "2503.00001": Answer(status=404, body=b"no such paper"),
        "2503.00002": Answer(body=b"%PDF-1.4 this is not really a PDF", content_type="application/pdf"),
        "2503.00003": Answer(body=make_pdf() + b"\0" * 30_000, content_type="application/pdf"),
    }
    with _pdf_server(answers) as up:
        store.settings = settings.model_copy(
            update={"arxiv_pdf_url": up.url + "/pdf/{id}", "thumbnail_max_pdf_mb": 0.02, "thumbnail_attempts": 2}
        )
        report = make_thumbnails(store)
        assert (report.made, report.failed) == (0, 3)
        errors = {i: _state(store, i)["error"] for i, _, _ in PAPERS}
        assert "HTTP 404" in errors["2503.00001"]
        assert "unreadable PDF" in errors["2503.00002"]
        assert "cap" in errors["2503.00003"]
        assert all("\n" not in e and "Traceback" not in e for e in errors.values())
        state = _state(store, "2503.00001")
        assert state["status"] == "failed" and state["tries"] == 1
        assert dt.timedelta(minutes=59) < state["next_attempt_at"] - utcnow() <= dt.timedelta(hours=1)
        # Not tried again before its time...
        asked = len(up.log)
        assert make_thumbnails(store).failed == 0 and len(up.log) == asked
        # ...then tried again (and waits twice as long), and after the last try left alone.
        with store.session() as session, session.begin():
            session.execute(update(Thumbnail).values(next_attempt_at=utcnow() - dt.timedelta(seconds=1)))
        assert make_thumbnails(store).failed == 3
        state = _state(store, "2503.00001")
        assert state["tries"] == 2 and state["next_attempt_at"] - utcnow() > dt.timedelta(hours=1, minutes=59)
        with store.session() as session, session.begin():
            session.execute(update(Thumbnail).values(next_attempt_at=utcnow() - dt.timedelta(seconds=1)))
        asked = len(up.log)
        assert make_thumbnails(store).failed == 0 and len(up.log) == asked


def test_an_unreachable_arxiv_stops_the_run(site):
    settings, store = site
    with _pdf_server() as up:
        dead = up.url
    store.settings = settings.model_copy(update={"arxiv_pdf_url": dead + "/pdf/{id}", "http_retries": 0})
    report = make_thumbnails(store)
    assert report.failed == 1 and report.unreachable and "could not connect" in report.unreachable


def test_the_request_slot_is_shared_between_stores(settings):
    one, two = Store(settings), Store(settings)  # two processes' stores of one database
    try:
        assert reserve(one, "pace:test", 3.0, now=1000.0) == 1000.0
        assert reserve(two, "pace:test", 3.0, now=1000.5) == 1003.0
        assert reserve(one, "pace:test", 3.0, now=1001.0) == 1006.0
        assert reserve(two, "pace:test", 3.0, now=2000.0) == 2000.0  # idle long enough: at once
    finally:
        one.dispose()
        two.dispose()


def test_two_clients_keep_the_interval_together(settings, monkeypatch):
    """Two clients in two threads, each with its own store, as two jobs in two processes: the
    slots they are given keep the interval between all their requests together, where each
    alone would only keep its own."""
    from dailypapers.store import pacing

    interval = 0.4
    slots: list[float] = []

    def recording(*args, **kwargs):
        slot = reserve(*args, **kwargs)
        slots.append(slot)
        return slot

    monkeypatch.setattr(pacing, "reserve", recording)
    stores = [Store(settings) for _ in range(2)]
    with Upstream(lambda req: Answer(body=b"ok", content_type="text/plain")) as up:
        def run(store):
            with PoliteClient(settings, pacer=SharedPace(store, "pace:arxiv", interval)) as client:
                for _ in range(3):
                    assert client.get(up.url + "/x").status_code == 200

        threads = [threading.Thread(target=run, args=(s,)) for s in stores]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        times = sorted(r.at for r in up.log)
    for s in stores:
        s.dispose()
    assert len(times) == 6 and len(slots) == 6
    slots.sort()
    gaps = [b - a for a, b in zip(slots, slots[1:])]
    assert min(gaps) >= interval - 1e-6, gaps
    # And the requests waited for them: six requests took five intervals (one client alone: two).
    assert times[-1] - started >= 5 * interval - 0.05


def test_generated_card_for_a_paper_without_a_thumbnail(site):
    settings, store = site
    with client_for(settings) as client:
        r = client.get("/thumbnails/2503.00003.svg")
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
        root = ET.fromstring(r.content)  # well-formed: the title's <, & and quotes escaped
        text = "".join(root.itertext())
        assert "<script>alert(1)</script>" in text and "stat.ML" in text and "\\alpha<\\beta" in text
        assert b"<script" not in r.content
        # A .webp asked for it (no thumbnail yet) is the same card, briefly cached: never broken.
        r2 = client.get("/thumbnails/2503.00003.webp?v=abc")
        assert r2.status_code == 200 and r2.headers["content-type"].startswith("image/svg+xml")
        assert "immutable" not in r2.headers["cache-control"]
        assert client.get("/thumbnails/2503.99999.svg").status_code == 404
        assert client.get("/thumbnails/not-an-id.svg").status_code == 404
        assert client.get("/thumbnails/2503.00003.exe").status_code == 404
        home = client.get("/").text
        assert 'src="/thumbnails/2503.00003.svg"' in home


def test_thumbnails_are_cached_for_a_year_under_a_versioned_url(site):
    settings, store = site
    with _pdf_server() as up:
        store.settings = settings.model_copy(update={"arxiv_pdf_url": up.url + "/pdf/{id}"})
        assert make_thumbnails(store).made == 3
    with client_for(settings) as client:
        home = client.get("/").text
        url = next(u for u in home.split('src="')[1:] if u.startswith("/thumbnails/2503.00001.webp?v=")).split('"')[0]
        assert 'width="480" height="300" loading="lazy"' in home
        r = client.get(url)
        assert r.status_code == 200 and r.headers["content-type"] == "image/webp"
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert Image.open(io.BytesIO(r.content)).size == (480, 300)
        etag = r.headers["etag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and not again.content
        unversioned = client.get("/thumbnails/2503.00001.webp")
        assert unversioned.status_code == 200 and "immutable" not in unversioned.headers["cache-control"]


def test_list_view_is_chosen_by_a_link_and_remembered(site):
    settings, _ = site
    with client_for(settings) as client:
        grid = client.get("/")
        assert 'class="cards grid"' in grid.text and 'class="thumb"' in grid.text
        chosen = client.get("/?view=list")
        assert 'class="cards list"' in chosen.text and 'class="thumb"' not in chosen.text
        assert "dp_view=list" in chosen.headers["set-cookie"]
        assert 'class="cards list"' in client.get("/").text  # remembered (the cookie)
        assert 'class="cards list"' in client.get("/date/2025-03-24").text
        assert 'class="cards grid"' in client.get("/?view=grid").text
        assert 'class="cards grid"' in client.get("/").text
    with client_for(settings) as stranger:  # the page cache never hands one reader's view to another
        assert 'class="cards grid"' in stranger.get("/").text
        stranger.cookies.set("dp_view", "list")
        assert 'class="cards list"' in stranger.get("/").text


@pytest.mark.parametrize("title", [
    "Cross-Modal Hierarchical Fusion for from Multi-Sensor Ground Observation",
    "A Single Rewrite Suffices: Empirical Lessons from Production Skill Description Optimization",
    "Short",
    "Supercalifragilisticexpialidociousnessofeverythingtransformers",
])
def test_a_generated_cards_lines_fit_its_width(title):
    """Each line of a generated card fits the picture: at about 0.6 of the font size a bold letter,
    no line runs past the 416 px between the margins (titles on /new were cut at the right edge)."""
    from dailypapers.web.cardpictures import card_svg

    root = ET.fromstring(card_svg(title, "cs.CV"))
    ns = "{http://www.w3.org/2000/svg}"
    title_text = root.findall(f"{ns}text")[1]
    size = float(title_text.get("font-size"))
    lines = [t.text for t in title_text.findall(f"{ns}tspan")]
    assert 1 <= len(lines) <= 5
    assert all(len(line) * size * 0.6 <= 416 for line in lines), lines
