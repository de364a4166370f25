"""Live harvesting against recorded arXiv responses served by a local HTTP server."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from support import make_settings, need_data
from dailypapers.errors import SourceError
from dailypapers.jobs.ingest import ingest_job
from dailypapers.sources import harvest
from dailypapers.store import papers as paper_store
from dailypapers.store import runs as run_store
from dailypapers.store.engine import Store
from upstream import Answer, Upstream


def split_page(page: bytes, first: int, token: str) -> tuple[bytes, bytes]:
    """A real ListRecords page served as two pages joined by a resumption token, split between
    records (no recorded page with a token exists, so the token goes where arXiv puts it)."""
    head, rest = page.split(b"<record>", 1)
    records = [b"<record>" + r for r in rest.split(b"<record>")]
    records[-1], tail = records[-1].split(b"</ListRecords>", 1)
    token_el = f'<resumptionToken cursor="0" completeListSize="{len(records)}">{token}</resumptionToken>'.encode()
    one = head + b"".join(records[:first]) + token_el + b"</ListRecords>" + tail
    two = head + b"".join(records[first:]) + b'<resumptionToken cursor="2" completeListSize="3"/></ListRecords>' + tail
    return one, two


class OaiScript:
    """hep-ex: the real hep-ex page in two parts joined by a token; hep-th: the real hep-th page."""

    def __init__(self, fail_token: bool = False, first_503: bool = False):
        base = need_data("fixtures", "oai-pmh")
        self.hep_ex = (base / "hepcrawl__arxiv-physics-hep-ex.xml").read_bytes()
        self.hep_th = (base / "hepcrawl__arxiv-physics-hep-th.xml").read_bytes()
        self.fail_token = fail_token
        self.first_503 = first_503
        self.calls = 0

    def __call__(self, req):
        self.calls += 1
        if self.first_503 and self.calls == 1:
            return Answer(503, b"busy", headers={"Retry-After": "1"})
        token = req.params.get("resumptionToken")
        if token:
            if self.fail_token:
                return Answer(500, b"oops")
            assert token == "hepex-page-2"
            return Answer(body=split_page(self.hep_ex, 2, token)[1])
        assert req.params["verb"] == "ListRecords" and req.params["metadataPrefix"] == "arXiv"
        if req.params["set"] == "physics:hep-ex":
            return Answer(body=split_page(self.hep_ex, 2, "hepex-page-2")[0])
        return Answer(body=self.hep_th)


def settings_for(db_url, tmp_path, upstream, **kw):
    return make_settings(db_url, tmp_path, arxiv_oai_url=f"{upstream.url}/oai", arxiv_api_url=f"{upstream.url}/api/query", **kw)


def test_oai_harvest_follows_tokens_filters_and_is_polite(db_url, tmp_path):
    with Upstream(OaiScript(first_503=True)) as up:
        settings = settings_for(db_url, tmp_path, up, arxiv_request_interval=0.2, contact_email="ops@example.org")
        store = Store(settings)
        report = ingest_job(store).run(["arxiv:hep-ex,hep-th"], since=dt.date(2017, 12, 14))
        log = list(up.log)
    # hep-ex: 2 records, then 1 by token; hep-th: 3
    assert report.new == 6 and report.rejected == 0
    assert [r.params.get("resumptionToken") for r in log].count("hepex-page-2") == 1
    assert log[1].at - log[0].at >= 0.99  # Retry-After: 1 after the 503
    gaps = [b.at - a.at for a, b in zip(log, log[1:])]
    # One request per interval (0.2 s): the client paces the starts of its requests, the server sees
    # their arrivals, which a busy machine's thread scheduling moves by some tens of milliseconds.
    assert min(gaps) >= 0.15
    assert all("dailypapers/" in r.headers["user-agent"] and "ops@example.org" in r.headers["user-agent"] for r in log)
    with store.session() as session:
        p = paper_store.get(session, "1706.05371")
    assert p.title.startswith("Evaluation of Silicon Photomultipliers")
    store.dispose()


def test_crashed_harvest_resumes_from_its_token(db_url, tmp_path):
    script = OaiScript(fail_token=True)
    with Upstream(script) as up:
        settings = settings_for(db_url, tmp_path, up)
        store = Store(settings)
        with pytest.raises(SourceError, match="HTTP 500"):
            ingest_job(store).run(["arxiv:hep-ex"], since=dt.date(2017, 12, 14))
        assert paper_store.count(store.session()) == 2  # the first page was stored before the failure
        cursor = [c for c in [run_store.get_cursor(store.session(), k) for k in _keys(store)] if c][0]
        assert cursor["cursor"] == "hepex-page-2" and not cursor["done"]
        script.fail_token = False
        up.log.clear()
        report = ingest_job(store).run(["arxiv:hep-ex"], since=dt.date(2017, 12, 14))
        assert up.log[0].params.get("resumptionToken") == "hepex-page-2"  # resumed, not restarted
        assert len(up.log) == 1
    assert report.new == 1 and paper_store.count(store.session()) == 3
    store.dispose()


def _keys(store):
    from sqlalchemy import select

    from dailypapers.store.schema import HarvestState

    with store.session() as session:
        return list(session.execute(select(HarvestState.key)).scalars())


def test_timeouts_are_retried(sqlite_url, tmp_path):
    calls = []

    def handler(req):
        calls.append(req)
        body = need_data("fixtures", "arxiv-api", "id_1707.08567_s0_m100_6a1afebfc6a3.xml").read_bytes()
        return Answer(body=body, delay=1.0 if len(calls) == 1 else 0)

    with Upstream(handler) as up:
        settings = settings_for(sqlite_url, tmp_path, up, http_timeout=0.3)
        record = harvest.fetch_one(settings, "1707.08567")
    assert record.arxiv_id == "1707.08567" and len(calls) == 2


def test_fetch_ids_from_the_export_api(db_url, tmp_path):
    responses = {
        "1707.08567": need_data("fixtures", "arxiv-api", "id_1707.08567_s0_m100_6a1afebfc6a3.xml"),
        "abc": need_data("fixtures", "arxiv-api", "id_abc_s0_m100_b79c8dcf6bc3.xml"),
    }

    def handler(req):
        ids = req.params["id_list"]
        return Answer(400 if ids == "abc" else 200, responses[ids].read_bytes())

    with Upstream(handler) as up:
        settings = settings_for(db_url, tmp_path, up)
        store = Store(settings)
        report = ingest_job(store).run(["arxiv:1707.08567"])
        assert report.new == 1
        with pytest.raises(SourceError, match="incorrect id format"):
            harvest.fetch_one(settings, "abc")
    store.dispose()


def test_cli_harvest_needs_since_and_reports(cli_env, tmp_path):
    with Upstream(OaiScript()) as up:
        env = dict(cli_env, DAILYPAPERS_ARXIV_OAI_URL=f"{up.url}/oai")
        bad = subprocess.run([sys.executable, "-m", "dailypapers", "ingest", "arxiv:hep-ex"], env=env, capture_output=True, text=True)
        assert bad.returncode == 1 and bad.stderr.strip().count("\n") == 0 and "--since" in bad.stderr
        ok = subprocess.run(
            [sys.executable, "-m", "dailypapers", "ingest", "arxiv:hep-ex", "--since", "2017-12-14"],
            env=env, capture_output=True, text=True,
        )
    assert ok.returncode == 0, ok.stderr
    assert "3 new, 0 updated, 0 unchanged, 0 rejected" in ok.stdout


def test_parse_target():
    assert harvest.parse_target("arxiv:cs.CL,cs.LG") == ("categories", ["cs.CL", "cs.LG"])
    assert harvest.parse_target("arxiv:2410.17243,hep-th/9901001v2") == ("ids", ["2410.17243", "hep-th/9901001v2"])
    with pytest.raises(SourceError):
        harvest.parse_target("arxiv:cs.CL,2410.17243")
    with pytest.raises(SourceError):
        harvest.parse_target("arxiv:")
    assert harvest.oai_set("cs.CL") == "cs" and harvest.oai_set("hep-th") == "physics:hep-th"
    assert harvest.oai_set("cond-mat.str-el") == "physics:cond-mat" and harvest.oai_set("q-bio.NC") == "q-bio"
