"""Poisoned records: each one is rejected alone, with its position and a reason naming the field,
while every other record of the same file is stored, in every input format where the poison can
occur, on SQLite and on PostgreSQL.

XML cannot carry a lone surrogate, a NUL or deep JSON (a document holding them is not well-formed
XML), so the Atom and OAI-PMH files get the other poisons: versions that overflow, dates arXiv
cannot hold and oversized fields.
"""

from __future__ import annotations

import copy
import datetime as dt
import gzip
import itertools
import json

from lxml import etree
from sqlalchemy import select

from support import need_data
from dailypapers.jobs.ingest import ingest_job
from dailypapers.store.schema import Paper
from helpers import consistency_problems

SURROGATE = "bad \ud800 text"
NUL = "bad \x00 text"
HUGE = "99999999999999999999999"
FAR = "9999-12-31"
EARLY = "1990-12-31"
DEEP = "[" * 20_000 + "]" * 20_000
BIG_ABSTRACT = "word " * 800_000  # 4 MB
LONG_TITLE = "Title " * 1_000  # 6,000 characters
LONG_NAME = "N" * 10_000
BIG_COMMENT = "c" * 1_000_000
MANY = 30_000  # authors
NEXT_YEAR_AND_A_BIT = (dt.date.today() + dt.timedelta(days=400)).isoformat()

_ids = itertools.count(90001)


def fresh_id() -> str:
    return f"2401.{next(_ids)}"


def ingest(store, path):
    report = ingest_job(store).run([str(path)])
    return report


def ingest_lines(store, path, lines: list[str], expected: dict[str, list[str]], good: list[dict]):
    """Write `lines` to `path`, ingest it and `check` the outcome; the report."""
    path.write_text("\n".join(lines) + "\n")
    report = ingest(store, path)
    check(store, report, expected, {g["id"] for g in good})
    return report


def check(store, report, expected: dict[str, list[str]], good_ids: set[str]):
    """`expected`: position -> words its reason must contain. Every other record is stored."""
    reasons = {r.position: r.reason for r in report.rejections}
    assert set(reasons) == set(expected), sorted(set(reasons) ^ set(expected))
    for position, words in expected.items():
        for word in words:
            assert word.lower() in reasons[position].lower(), (position, words, reasons[position])
        assert len(reasons[position]) < 300 and "\n" not in reasons[position], reasons[position]
    assert report.rejected == len(expected)
    with store.session() as session:
        stored = set(session.execute(select(Paper.arxiv_id)).scalars())
    assert stored == good_ids
    assert consistency_problems(store) == []


def check_document(store, tree, path, label: str, poisoned: dict[int, list[str]], cases, good_ids: set[str]):
    """Write an XML document whose records (`label N`) at the numbers in `poisoned` were made bad,
    ingest it, and check as `check` does, one rejection per case."""
    tree.write(str(path), xml_declaration=True, encoding="UTF-8")
    report = ingest(store, path)
    expected = {r.position: poisoned[int(r.position.split()[1])] for r in report.rejections if r.position.startswith(label + " ")}
    assert len(expected) == len(cases)
    check(store, report, expected, good_ids)


# --- listing JSON lines --------------------------------------------------------------------------


def corpus(n: int) -> list[dict]:
    src = need_data("arxiv-daily", "papers.jsonl.gz")
    with gzip.open(src) as f:
        return [json.loads(next(f)) for _ in range(n)]


LISTING_CASES = [
    ({"title": SURROGATE}, ["title", "surrogate"]),
    ({"abstract": SURROGATE}, ["abstract", "surrogate"]),
    ({"authors": ["A. One", SURROGATE]}, ["author 2", "surrogate"]),
    ({"comment": SURROGATE}, ["comment", "surrogate"]),
    ({"categories": ["cs.CL", "cs.\ud800"]}, ["categories", "surrogate"]),
    ({"title": NUL}, ["title", "NUL"]),
    ({"abstract": NUL}, ["abstract", "NUL"]),
    ({"authors": [NUL]}, ["author 1", "NUL"]),
    ({"comment": NUL}, ["comment", "NUL"]),
    ({"categories": ["cs.CL\x00"]}, ["categories", "NUL"]),
    ({"extra": "DEEP"}, ["nested"]),
    ({"id": f"2401.00001v{HUGE}"}, ["version"]),
    ({"listed": FAR}, ["9999-12-31", "outside"]),
    ({"listed": EARLY}, ["1990-12-31", "outside"]),
    ({"listed": NEXT_YEAR_AND_A_BIT}, ["outside"]),
    ({"abstract": BIG_ABSTRACT}, ["abstract", "4,000,000", "allowed"]),
    ({"title": LONG_TITLE}, ["title", "6,000", "allowed"]),
    ({"authors": [f"Author {i}" for i in range(MANY)]}, ["authors", "30,000", "allowed"]),
    ({"authors": ["A. One", LONG_NAME]}, ["author 2", "10,000", "allowed"]),
    ({"comment": BIG_COMMENT}, ["comment", "1,000,000", "allowed"]),
    ({"title": {"not": "text"}}, ["title"]),
    ({"id": "a" * 50 + "/0101001"}, ["arXiv identifier"]),  # an old-style id longer than its column
    ({"authors": []}, ["no authors"]),  # a paper is never stored without any
]


def _listing_line(base: dict, change: dict) -> str:
    record = dict(base, id=fresh_id())
    record.update(change)
    if record.get("extra") == "DEEP":
        return json.dumps(record)[:-1] + ', "deep": ' + DEEP + "}"
    if str(record["id"]).startswith("2401.00001v"):
        record["id"] = fresh_id() + "v" + HUGE
    elif record["id"].startswith("aaaa"):
        record["id"] = "a" * 50 + f"/{next(_ids):07d}"
    return json.dumps(record)


def test_listing_poisons_are_rejected_alone(store, tmp_path):
    good = corpus(len(LISTING_CASES) + 1)
    lines, expected = [], {}
    for i, (change, words) in enumerate(LISTING_CASES):
        lines.append(json.dumps(good[i]))
        lines.append(_listing_line(good[i], change))
        expected[f"line {len(lines)}"] = words
    lines.append(json.dumps(good[-1]))
    report = ingest_lines(store, tmp_path / "listing.jsonl", lines, expected, good)
    assert report.new == len(good)


# --- metadata snapshot JSON lines ----------------------------------------------------------------


def snapshot_lines() -> list[dict]:
    path = need_data("fixtures", "kaggle-snapshot", "arxiv-metadata-oai-snapshot.sample200.json")
    return [json.loads(line) for line in path.read_text().splitlines()]


def _version(label="v1", created="Mon, 2 Apr 2007 19:18:42 GMT"):
    return [{"version": label, "created": created}]


SNAPSHOT_CASES = [
    ({"title": SURROGATE}, ["title", "surrogate"]),
    ({"abstract": SURROGATE}, ["abstract", "surrogate"]),
    ({"authors": "A. One, B. \ud800", "authors_parsed": None}, ["author 2", "surrogate"]),
    ({"authors_parsed": [["One", "A.", ""], ["Two\ud800", "B.", ""]]}, ["author 2", "surrogate"]),
    ({"comments": SURROGATE}, ["comment", "surrogate"]),
    ({"journal-ref": SURROGATE}, ["journal_ref", "surrogate"]),
    ({"doi": SURROGATE}, ["doi", "surrogate"]),
    ({"report-no": SURROGATE}, ["report_no", "surrogate"]),
    ({"license": SURROGATE}, ["license", "surrogate"]),
    ({"categories": "hep-ph \ud800"}, ["categories", "surrogate"]),
    ({"title": NUL}, ["title", "NUL"]),
    ({"abstract": NUL}, ["abstract", "NUL"]),
    ({"authors_parsed": [["One\x00", "A.", ""]]}, ["author 1", "NUL"]),
    ({"journal-ref": NUL}, ["journal_ref", "NUL"]),
    ({"doi": NUL}, ["doi", "NUL"]),
    ({"categories": "hep-ph\x00"}, ["categories", "NUL"]),
    ({"extra": "DEEP"}, ["nested"]),
    ({"versions": _version(f"v{HUGE}")}, ["version"]),
    ({"versions": _version("v" + "9" * 5000)}, ["version"]),
    ({"id": "SUFFIX"}, ["version"]),
    ({"versions": _version(created="Fri, 31 Dec 9999 23:59:59 GMT")}, ["9999-12-31", "outside"]),
    ({"versions": _version(created="Mon, 31 Dec 1990 10:00:00 GMT")}, ["1990-12-31", "outside"]),
    ({"versions": _version(created="Fri, 31 Dec 9999 23:59:59 -0100")}, ["date"]),
    ({"abstract": BIG_ABSTRACT}, ["abstract", "4,000,000", "allowed"]),
    ({"title": LONG_TITLE}, ["title", "6,000", "allowed"]),
    ({"authors_parsed": [[f"Name{i}", "A.", ""] for i in range(MANY)]}, ["authors", "30,000", "allowed"]),
    ({"authors_parsed": [[LONG_NAME, "A.", ""]]}, ["author 1", "allowed"]),
    ({"comments": BIG_COMMENT}, ["comment", "1,000,000", "allowed"]),
    ({"doi": "10.1000/" + "x" * 5000}, ["doi", "allowed"]),
    ({"categories": ["hep-ph"]}, ["categories"]),
]


def test_snapshot_poisons_are_rejected_alone(store, tmp_path):
    good = snapshot_lines()[: len(SNAPSHOT_CASES) + 1]
    lines, expected = [], {}
    for i, (change, words) in enumerate(SNAPSHOT_CASES):
        lines.append(json.dumps(good[i]))
        record = dict(good[i], id=fresh_id())
        record.update(change)
        if record["id"] == "SUFFIX":
            record["id"] = fresh_id() + "v" + HUGE
        line = json.dumps(record)
        if record.get("extra") == "DEEP":
            line = line[:-1] + ', "deep": ' + DEEP + "}"
        lines.append(line)
        expected[f"line {len(lines)}"] = words
    lines.append(json.dumps(good[-1]))
    ingest_lines(store, tmp_path / "snapshot.json", lines, expected, good)


# --- HF daily_papers JSON ------------------------------------------------------------------------


def hf_items() -> list[dict]:
    return json.loads(need_data("fixtures", "hf-api", "daily_papers_2024-10-25_first3items.json").read_text())


def _paper(**change):
    return lambda item: item["paper"].update(change)


def _item(**change):
    return lambda item: item.update(change)


def _authors(names):
    return _paper(authors=[{"name": n, "hidden": False} for n in names])


HF_CASES = [
    (_paper(title=SURROGATE), ["title", "surrogate"]),
    (_paper(summary=SURROGATE), ["abstract", "surrogate"]),
    (_authors(["A. One", SURROGATE]), ["author 2", "surrogate"]),
    (_item(submittedBy={"name": SURROGATE}), ["submitter", "surrogate"]),
    (_paper(githubRepo="https://github.com/\ud800"), ["code_url", "surrogate"]),
    (_paper(projectPage="https://x.org/\ud800"), ["project_url", "surrogate"]),
    (_paper(title=NUL), ["title", "NUL"]),
    (_paper(summary=NUL), ["abstract", "NUL"]),
    (_authors([NUL]), ["author 1", "NUL"]),
    (_item(submittedBy={"name": NUL}), ["submitter", "NUL"]),
    (_item(deep="DEEP"), ["nested"]),
    (lambda item: item["paper"].update(id=item["paper"]["id"] + "v" + HUGE), ["version"]),
    (_item(publishedAt=FAR + "T00:00:00.000Z"), ["9999-12-31", "outside"]),
    (_item(publishedAt="1990-12-31T00:00:00.000Z"), ["1990-12-31", "outside"]),
    (_paper(publishedAt=FAR + "T00:00:00.000Z"), ["9999-12-31", "outside"]),
    (_paper(publishedAt="0001-01-01T00:00:00+01:00"), ["date"]),
    (_paper(summary=BIG_ABSTRACT), ["abstract", "4,000,000", "allowed"]),
    (_paper(title=LONG_TITLE), ["title", "6,000", "allowed"]),
    (_authors([f"Author {i}" for i in range(MANY)]), ["authors", "30,000", "allowed"]),
    (_authors([LONG_NAME]), ["author 1", "10,000", "allowed"]),
    (_item(submittedBy={"name": "u" * 5000}), ["submitter", "5,000", "allowed"]),
    (_paper(upvotes=10**30), ["upvotes"]),
    (_paper(title=["not", "text"]), ["title"]),
    # Hugging Face's own fields are stored too (Paper.hf_meta): checked like every other text.
    (_paper(ai_summary="An AI summary " + SURROGATE), ["hf_meta.ai_summary", "surrogate"]),
    (_paper(ai_keywords=["ok", "bad" + NUL]), ["hf_meta.ai_keywords[1]", "NUL"]),
    (_paper(organization={"name": "lab", "fullname": "The " + SURROGATE + " Lab"}), ["hf_meta.organization.fullname", "surrogate"]),
    (_item(submittedBy={"name": "someone", "fullname": "Some" + NUL}), ["submitter's full name", "NUL"]),
]


def test_hf_poisons_are_rejected_alone_and_a_deep_item_costs_only_itself(store, tmp_path):
    base = hf_items()
    items, expected, good_ids = [], {}, set()
    for i, (mutate, words) in enumerate(HF_CASES):
        item = copy.deepcopy(base[i % len(base)])
        item["paper"]["id"] = fresh_id()
        items.append(item)
        good_ids.add(item["paper"]["id"])
        bad = copy.deepcopy(base[i % len(base)])
        bad["paper"]["id"] = fresh_id()
        mutate(bad)
        items.append(bad)
        expected[f"item {len(items) - 1}"] = words
    text = json.dumps(items, indent=1).replace('"DEEP"', DEEP)
    path = tmp_path / "daily_papers.json"
    path.write_text(text)
    report = ingest(store, path)
    check(store, report, expected, good_ids)


# --- arXiv API Atom ------------------------------------------------------------------------------

A = "{http://www.w3.org/2005/Atom}"
AX = "{http://arxiv.org/schemas/atom}"


def _set(tag, value):
    def mutate(entry):
        el = entry.find(tag)
        if el is None:
            el = etree.SubElement(entry, tag)
        el.text = value

    return mutate


def _api_authors(names, affiliation=None):
    def mutate(entry):
        for el in entry.findall(f"{A}author"):
            entry.remove(el)
        for name in names:
            author = etree.SubElement(entry, f"{A}author")
            etree.SubElement(author, f"{A}name").text = name
            if affiliation:
                etree.SubElement(author, f"{AX}affiliation").text = affiliation

    return mutate


def _api_version(entry):
    el = entry.find(f"{A}id")
    el.text = el.text.rsplit("v", 1)[0] + "v" + HUGE


API_CASES = [
    (_api_version, ["version"]),
    (_set(f"{A}published", FAR + "T00:00:00Z"), ["9999-12-31", "outside"]),
    (_set(f"{A}published", "1990-12-31T00:00:00Z"), ["1990-12-31", "outside"]),
    (_set(f"{A}published", NEXT_YEAR_AND_A_BIT + "T00:00:00Z"), ["outside"]),
    (_set(f"{A}summary", BIG_ABSTRACT), ["abstract", "4,000,000", "allowed"]),
    (_set(f"{A}title", LONG_TITLE), ["title", "allowed"]),
    (_api_authors([f"Author {i}" for i in range(MANY)]), ["authors", "30,000", "allowed"]),
    (_api_authors(["A. One", LONG_NAME]), ["author 2", "10,000", "allowed"]),
    (_api_authors(["A. One"], "x" * 50_000), ["author 1", "affiliation", "allowed"]),
    (_set(f"{AX}comment", BIG_COMMENT), ["comment", "1,000,000", "allowed"]),
    (_set(f"{AX}journal_ref", "j" * 50_000), ["journal_ref", "allowed"]),
    (_set(f"{AX}doi", "10.1000/" + "x" * 5000), ["doi", "allowed"]),
]


def test_arxiv_api_poisons_are_rejected_alone(store, tmp_path):
    src = need_data("fixtures", "arxiv-api", "q_testing_s0_m10_bc5a6c384fe9.xml")
    tree = etree.parse(str(src))
    feed = tree.getroot()
    entries = feed.findall(f"{A}entry")
    good_ids = set()
    expected = {}
    position = 0
    for entry in entries:
        good_ids.add(entry.find(f"{A}id").text.rsplit("/", 1)[1].rsplit("v", 1)[0])
    # After the real entries: each poison in a copy of one, with an id of its own.
    position = len(entries)
    for i, (mutate, words) in enumerate(API_CASES):
        bad = copy.deepcopy(entries[i % len(entries)])
        bad.find(f"{A}id").text = f"http://arxiv.org/abs/{fresh_id()}v1"
        mutate(bad)
        feed.append(bad)
        position += 1
        expected[position] = words
        good = copy.deepcopy(entries[i % len(entries)])
        new_id = fresh_id()
        good.find(f"{A}id").text = f"http://arxiv.org/abs/{new_id}v1"
        feed.append(good)
        good_ids.add(new_id)
        position += 1
    check_document(store, tree, tmp_path / "feed.xml", "entry", expected, API_CASES, good_ids)


# --- OAI-PMH -------------------------------------------------------------------------------------

O = "{http://www.openarchives.org/OAI/2.0/}"
X = "{http://arxiv.org/OAI/arXiv/}"


def _meta(tag, value):
    def mutate(record):
        meta = record.find(f"{O}metadata/{X}arXiv")
        el = meta.find(f"{X}{tag}")
        if el is None:
            el = etree.SubElement(meta, f"{X}{tag}")
        el.text = value

    return mutate


def _oai_authors(count, name="Name", affiliation=None):
    def mutate(record):
        authors = record.find(f"{O}metadata/{X}arXiv/{X}authors")
        for el in list(authors):
            authors.remove(el)
        for i in range(count):
            author = etree.SubElement(authors, f"{X}author")
            etree.SubElement(author, f"{X}keyname").text = f"{name}{i}" if count > 1 else name
            if affiliation:
                etree.SubElement(author, f"{X}affiliation").text = affiliation

    return mutate


def _raw_version(record):
    """An arXivRaw record whose version label overflows."""
    R = "{http://arxiv.org/OAI/arXivRaw/}"
    metadata = record.find(f"{O}metadata")
    arxiv = metadata.find(f"{X}arXiv")
    raw = etree.SubElement(metadata, f"{R}arXivRaw", nsmap={None: R[1:-1]})
    for tag in ("id", "title", "abstract", "categories"):
        etree.SubElement(raw, f"{R}{tag}").text = arxiv.find(f"{X}{tag}").text
    etree.SubElement(raw, f"{R}authors").text = "A. One and B. Two"
    version = etree.SubElement(raw, f"{R}version", version=f"v{HUGE}")
    etree.SubElement(version, f"{R}date").text = "Mon, 2 Apr 2007 19:18:42 GMT"
    metadata.remove(arxiv)


OAI_CASES = [
    (_raw_version, ["version"]),
    (_meta("created", FAR), ["9999-12-31", "outside"]),
    (_meta("created", EARLY), ["1990-12-31", "outside"]),
    (_meta("updated", FAR), ["9999-12-31", "outside"]),
    (_meta("abstract", BIG_ABSTRACT), ["abstract", "4,000,000", "allowed"]),
    (_meta("title", LONG_TITLE), ["title", "allowed"]),
    (_oai_authors(MANY), ["authors", "30,000", "allowed"]),
    (_oai_authors(1, LONG_NAME), ["author 1", "allowed"]),
    (_oai_authors(1, "One", "x" * 50_000), ["author 1", "affiliation", "allowed"]),
    (_meta("comments", BIG_COMMENT), ["comment", "allowed"]),
    (_meta("report-no", "r" * 50_000), ["report_no", "allowed"]),
    (_meta("license", "http://" + "l" * 5000), ["license", "allowed"]),
]


def test_oai_pmh_poisons_are_rejected_alone(store, tmp_path):
    src = need_data("fixtures", "oai-pmh", "hepcrawl__arxiv-physics-hep-ex.xml")
    tree = etree.parse(str(src))
    listing = tree.getroot().find(f"{O}ListRecords")
    records = listing.findall(f"{O}record")
    good_ids = {r.find(f"{O}metadata/{X}arXiv/{X}id").text for r in records}
    expected = {}
    position = len(records)
    for i, (mutate, words) in enumerate(OAI_CASES):
        for poisoned in (True, False):
            record = copy.deepcopy(records[i % len(records)])
            new_id = fresh_id()
            record.find(f"{O}metadata/{X}arXiv/{X}id").text = new_id
            if poisoned:
                mutate(record)
            else:
                good_ids.add(new_id)
            listing.append(record)
            position += 1
            if poisoned:
                expected[position] = words
    check_document(store, tree, tmp_path / "oai.xml", "record", expected, OAI_CASES, good_ids)


# --- one bad record is all it costs, wherever it sits ---------------------------------------------


def test_a_bad_first_line_does_not_make_the_file_unknown(store, tmp_path):
    good = corpus(3)
    path = tmp_path / "listing.jsonl"
    path.write_text("\n".join(['{"id": "2401.00001", "deep": ' + DEEP + "}", *map(json.dumps, good)]) + "\n")
    report = ingest(store, path)
    check(store, report, {"line 1": ["nested"]}, {g["id"] for g in good})


def test_hf_items_with_broken_json_cost_only_themselves(store, tmp_path):
    base = hf_items()
    texts = [json.dumps(dict(item, paper=dict(item["paper"], id=fresh_id()))) for item in base]
    ids = [json.loads(t)["paper"]["id"] for t in texts]
    broken = texts[0].replace('"title": ', '"title" ', 1)  # a colon missing inside item 1
    huge_number = texts[1][:-1] + ', "n": 1' + "0" * 5000 + "}"  # an integer Python will not read
    path = tmp_path / "daily.json"
    path.write_text("[" + ",\n".join([texts[0], broken, texts[1], huge_number, texts[2]]) + "]")
    report = ingest(store, path)
    check(store, report, {"item 1": ["invalid JSON"], "item 3": ["invalid JSON"]}, set(ids))


def test_a_cut_hf_file_keeps_the_items_before_the_cut(store, tmp_path):
    base = hf_items()
    text = json.dumps(base)
    cut = text[: text.index('{"paper"', text.index('{"paper"', 10) + 10) + 200]  # inside item 2
    path = tmp_path / "daily.json"
    path.write_text(cut)
    report = ingest(store, path)
    assert report.new == 2 and report.rejected == 1
    assert report.rejections[0].position == "item 2"
    assert "the rest of the file is unreadable" in report.rejections[0].reason


def test_the_caps_are_documented():
    from pathlib import Path

    from dailypapers.ingest import validate as V
    from dailypapers.sources.common import MAX_RECORD_BYTES

    doc = (Path(__file__).resolve().parent.parent / "docs" / "ingest.md").read_text()
    caps = [*V.TEXT_CAPS.values(), V.MAX_AUTHORS, V.MAX_AUTHOR_NAME, V.MAX_AFFILIATIONS, V.MAX_AFFILIATION,
            V.MAX_CATEGORIES, V.MAX_CATEGORY_ENTRY, V.MAX_SUBMITTER, V.MAX_COUNT, V.MAX_VERSION]
    for cap in caps:
        assert f"{cap:,}" in doc, cap
    assert f"{MAX_RECORD_BYTES >> 20} MiB" in doc and V.FIRST_DAY.isoformat() in doc and f"{V.DAYS_AHEAD} days" in doc
