"""Every source parser on the real recorded fixtures in ../shared/data."""

import gzip
import io
import json

import pytest

from support import need_data
from dailypapers.errors import UnknownFormatError
from dailypapers.ingest.normalize import normalize
from dailypapers.sources import arxiv_api, hf_daily, oai_pmh
from dailypapers.sources.files import detect
from dailypapers.types import PaperRecord, RawRecord, Rejection


def parse_file(path):
    f = detect(path)
    with f.open() as stream:
        items = list(f.parse(stream))
    out = []
    for item in items:
        if isinstance(item, RawRecord):
            item = item.parse()
        out.append(normalize(item) if isinstance(item, PaperRecord) else item)
    return f.format, out


def records(items):
    return [i for i in items if isinstance(i, PaperRecord)]


def test_arxiv_api_single_entry():
    fmt, items = parse_file(need_data("fixtures", "arxiv-api", "id_1707.08567_s0_m100_6a1afebfc6a3.xml"))
    assert fmt == "arxiv-api"
    (r,) = records(items)
    assert r.arxiv_id == "1707.08567" and r.version == 1
    assert r.title == "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications"
    assert len(r.authors) == 34 and r.authors[0].name == "Kees A. Schouhamer Immink"
    assert r.categories == ["cs.IT"]
    assert r.comment.startswith("44 pages")
    assert r.published_at.isoformat() == "2017-07-27T08:18:33"


def test_arxiv_api_old_style_id_with_doi_and_journal():
    _, items = parse_file(need_data("fixtures", "arxiv-api", "id_astro-ph_0601001_s0_m100_3150dca9dc76.xml"))
    (r,) = records(items)
    assert r.arxiv_id == "astro-ph/0601001"
    assert r.journal_ref == "ActaAstron.56:1-50,2006"


def test_arxiv_api_versioned_and_math():
    _, items = parse_file(need_data("fixtures", "arxiv-api", "id_2104.12255v1_s0_m100_6ae69987ffe1.xml"))
    (r,) = records(items)
    assert (r.arxiv_id, r.version) == ("2104.12255", 1)
    _, items = parse_file(need_data("fixtures", "arxiv-api", "id_1605.08386_s0_m100_199195aa31ad.xml"))
    (r,) = records(items)
    assert "\n" not in r.title and r.comment


def test_arxiv_api_error_entry_is_a_rejection():
    _, items = parse_file(need_data("fixtures", "arxiv-api", "id_abc_s0_m100_b79c8dcf6bc3.xml"))
    assert records(items) == []
    (rej,) = items
    assert isinstance(rej, Rejection) and "incorrect id format for abc" in rej.reason and "line" in rej.position


def test_arxiv_api_empty_result_and_paging():
    _, items = parse_file(need_data("fixtures", "arxiv-api", "id_0000.0000_s0_m100_8b51d9633a68.xml"))
    assert items == []
    info = arxiv_api.FeedInfo()
    path = need_data("fixtures", "arxiv-api", "q_testing_s10_m10_34e56e15aaac.xml")
    got = list(arxiv_api.parse(io.BytesIO(path.read_bytes()), info))
    assert len(records(got)) == 10
    assert info.start_index == 10 and info.items_per_page == 10 and info.total_results > 100
    path = need_data("fixtures", "arxiv-api", "q_testing_s0_m100_cfe7536492ca.xml")
    _, items = parse_file(path)
    recs = records(items)
    assert len(recs) == 100
    xml = path.read_text()
    assert sum(1 for r in recs if r.doi) == xml.count("<arxiv:doi") > 0
    assert sum(1 for r in recs if r.journal_ref) == xml.count("<arxiv:journal_ref") > 0


def test_oai_arxiv_format_record():
    fmt, items = parse_file(need_data("fixtures", "oai-pmh", "hepcrawl__arxiv-single.xml"))
    assert fmt == "oai-pmh"
    (r,) = records(items)
    assert r.arxiv_id == "1401.2122"
    assert r.version is None  # the arXiv format dates the latest version without numbering it
    assert r.authors[0].name == "A. Sergyeyev"
    assert r.categories[0] == "math.AP" and "nlin.SI" in r.categories
    assert r.doi == "10.1007/s11005-017-1013-4" and r.journal_ref.startswith("Lett. Math. Phys.")
    assert r.abstract.startswith("We introduce a novel systematic construction")
    assert r.abstract.count("\n") == 1  # two paragraphs


def test_oai_old_style_id_with_affiliations():
    _, items = parse_file(need_data("fixtures", "oai-pmh", "inspire-next__oai_arxiv.xml"))
    (r,) = records(items)
    assert r.arxiv_id == "physics/0112006"
    assert r.authors[0].affiliations == ("INFN, Sezione di Ferrara, Ferrara, Italy",)


def test_oai_list_records_pages():
    _, items = parse_file(need_data("fixtures", "oai-pmh", "hepcrawl__arxiv-physics-hep-ex.xml"))
    assert len(records(items)) == 3
    r = records(items)[0]
    assert r.title == "Evaluation of Silicon Photomultipliers for use as Photosensors in Liquid Xenon Detectors"


@pytest.mark.parametrize(
    "name", ["inspire-next__1305.0014v1.xml", "inspire-next__1305.9999.xml", "inspire-next__is-malformed.xml"]
)
def test_oai_errors_are_rejections(name):
    _, items = parse_file(need_data("fixtures", "oai-pmh", name))
    (rej,) = items
    assert isinstance(rej, Rejection) and "idDoesNotExist" in rej.reason


# arXiv publishes no standalone arXivRaw response that could be recorded (see the fixtures' SOURCE.md);
# this one follows the arXivRaw schema (arxiv.org/OAI/arXivRaw.xsd) around real 0704.0001 metadata.
ARXIV_RAW = b"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><record>
<header><identifier>oai:arXiv.org:0704.0001</identifier><datestamp>2008-11-13</datestamp></header>
<metadata><arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/">
<id>0704.0001</id><submitter>Pavel Nadolsky</submitter>
<version version="v1"><date>Mon, 2 Apr 2007 19:18:42 GMT</date><size>424kb</size></version>
<version version="v2"><date>Tue, 24 Jul 2007 20:10:27 GMT</date><size>443kb</size></version>
<title>Calculation of prompt diphoton production cross sections at Tevatron and
  LHC energies</title>
<authors>C. Bal\\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan</authors>
<categories>hep-ph</categories><comments>37 pages, 15 figures; published version</comments>
<journal-ref>Phys.Rev.D76:013009,2007</journal-ref><doi>10.1103/PhysRevD.76.013009</doi>
<abstract>  A fully differential calculation in perturbative quantum chromodynamics is
presented for the production of massive photon pairs at hadron colliders.
</abstract></arXivRaw></metadata></record>
<resumptionToken cursor="0" completeListSize="2">6961|1001</resumptionToken>
</ListRecords></OAI-PMH>"""


def test_oai_arxiv_raw_format_with_versions_and_token():
    info = oai_pmh.PageInfo()
    (r,) = [normalize(i) for i in oai_pmh.parse(io.BytesIO(ARXIV_RAW), info)]
    assert r.version == 2 and [v.version for v in r.versions] == [1, 2]
    assert r.authors[0].name == "C. Balázs" and len(r.authors) == 4
    assert r.title.endswith("Tevatron and LHC energies")
    assert info.resumption_token == "6961|1001" and info.complete_list_size == 2


def test_snapshot_records():
    fmt, items = parse_file(need_data("fixtures", "kaggle-snapshot", "arxiv-metadata-oai-snapshot.sample200.json"))
    assert fmt == "snapshot"
    recs = records(items)
    assert len(recs) == 200
    first = recs[0]
    assert first.arxiv_id == "0704.0001" and first.version == 2
    assert first.authors[0].name == "C. Balázs"
    assert first.published_at.isoformat() == "2007-04-02T19:18:42"
    assert first.updated_at.isoformat() == "2007-07-24T20:10:27"
    assert first.doi == "10.1103/PhysRevD.76.013009"


def test_listing_records(tmp_path):
    src = need_data("arxiv-daily", "papers.jsonl.gz")
    with gzip.open(src) as f:
        lines = [next(f) for _ in range(50)]
    path = tmp_path / "listing.jsonl"
    path.write_bytes(b"".join(lines))
    fmt, items = parse_file(path)
    assert fmt == "listing"
    recs = records(items)
    assert len(recs) == 50
    first = json.loads(lines[0])
    assert recs[0].arxiv_id == first["id"]
    assert recs[0].listed.day.isoformat() == first["listed"] and recs[0].listed.source == "listing"
    assert recs[0].featured is None  # listed by arXiv, not picked by anyone
    assert recs[0].abstract == " ".join(first["abstract"].split())  # its line wraps joined
    # A newline and indentation starts a paragraph, kept; every other newline was a wrap.
    raw = [json.loads(line)["abstract"] for line in lines]
    assert [("\n" in r.abstract) for r in recs] == [("\n  " in a) for a in raw] and any("\n  " in a for a in raw)
    assert [a.name for a in recs[0].authors] == first["authors"]


def test_hf_daily_papers():
    fmt, items = parse_file(need_data("fixtures", "hf-api", "daily_papers_2024-10-25_first3items.json"))
    assert fmt == "hf-daily"
    recs = records(items)
    assert [r.arxiv_id for r in recs] == ["2410.17243", "2410.16251", "2410.18533"]
    first = recs[0]
    assert first.upvotes == 64 and first.num_comments == 3
    assert first.featured.day.isoformat() == "2024-10-25" and first.featured.submitter
    assert first.title == "Breaking the Memory Barrier: Near Infinite Batch Size Scaling for Contrastive Loss"
    assert first.authors[0].name == "Zesen Cheng"


def test_hf_item_without_paper_is_rejected():
    items = list(hf_daily.parse(io.BytesIO(b'[{"paper": {"id": "2410.00001"}}, {"title": "x"}]')))
    assert all(isinstance(i, Rejection) for i in items)
    assert items[1].position == "item 1"


def test_unknown_formats(tmp_path):
    for name, content in [("a.csv", b"id,title\n1,x\n"), ("b.json", b'{"foo": 1}\n'), ("c.xml", b"<html></html>")]:
        p = tmp_path / name
        p.write_bytes(content)
        with pytest.raises(UnknownFormatError, match="not a known input format"):
            detect(p)
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    with pytest.raises(UnknownFormatError, match="empty"):
        detect(empty)
    with pytest.raises(UnknownFormatError, match="no such file"):
        detect(tmp_path / "missing.json")


def test_gzip_detected(tmp_path):
    src = need_data("fixtures", "oai-pmh", "hepcrawl__arxiv-physics-hep-th.xml")
    gz = tmp_path / "page.xml.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    fmt, items = parse_file(gz)
    assert fmt == "oai-pmh" and len(records(items)) == 3
