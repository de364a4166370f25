"""Every importer fuzzed with Hypothesis: the real fixtures (arXiv API, OAI-PMH, HF daily_papers, the
metadata snapshot) and lines of the arxiv-daily corpus, mutated (bytes flipped, files cut short,
hostile values put anywhere: lone surrogates, NULs, deep nesting, huge numbers, other types where
text is expected, dates at the edges), go through recognition, parsing, normalizing and ingest into
a real SQLite store and its full-text index.

The property: nothing escapes but a reported rejection or a one-line DailyPapersError, no record
breaks the code (an "unexpected error" rejection), and what is stored is whole.

The runs are derandomized with a fixed number of examples, so CI tries the same cases each time, in
about a minute in all; DAILYPAPERS_FUZZ_EXAMPLES=N tries more, and DAILYPAPERS_FUZZ_RANDOM=1 other
ones each run (to hunt; CI stays fixed). The real `dailypapers ingest` is run on a few hostile files at the end.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from support import DATA, env_for, make_settings
from dailypapers.errors import DailyPapersError
from dailypapers.jobs.ingest import ingest_job
from dailypapers.store.engine import Store
from helpers import consistency_problems

EXAMPLES = int(os.environ.get("DAILYPAPERS_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=os.environ.get("DAILYPAPERS_FUZZ_RANDOM") != "1",
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)

DEEP = "\u0001DEEP\u0001"  # replaced by 20,000 nested brackets once the JSON is written
DEEP_JSON = "[" * 20_000 + "]" * 20_000
HOSTILE_TEXT = [
    "\ud800", "a\udfffb", "\x00", "x\x00y", "", " ", "\u202e\u200b", "٣", "２４０１.０００１１",
    "9999-12-31", "1990-12-31", "0001-01-01", "2262-04-12", "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00", "Fri, 31 Dec 9999 23:59:59 -0100", "Mon, 32 Foo 2020 25:61:61 +9999",
    "2401.00001v99999999999999999999999", "v99999999999999999999999", "v0", "v-1", "v" + "9" * 5000,
    "2401.00001", "hep-th/9901001v2", "x" * 30_000, "word " * 5_000, "cs.CL " * 200, "<script>", "{", "\\",
    DEEP,
]  # fmt: skip
HOSTILE_VALUES = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.sampled_from([None, True, False, 0, -1, 2**63, 10**30, 1.5, float("inf"), float("nan"), [], {}]),
    st.text(st.characters(min_codepoint=0, max_codepoint=0xDFFF), max_size=12),
    st.lists(st.sampled_from(HOSTILE_TEXT[:12]) | st.integers(), max_size=3),
    st.dictionaries(st.sampled_from(["name", "version", "created", "id", "x"]), st.sampled_from(HOSTILE_TEXT[:12]), max_size=2),
)
HOSTILE_BYTES = [
    b"\x00", b"\xff\xfe", b"\xed\xa0\x80", b"\\ud800", b"\\u0000", b"[" * 3000, b"{" * 3000, b'"', b"\\", b",",
    b"]", b"}", b"\n", b"99999999999999999999999", b"1e99999", b"&#0;", b"&#xD800;", b"<a>" * 3000, b"]]>",
    b"&x;", b"<?xml", b"9999-12-31", b"1990-12-31", b"v99999999999999999999999", b"<![CDATA[", b"\r\n",
]  # fmt: skip

_files = itertools.count()


# --- the inputs ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fixtures() -> dict:
    if not (DATA / "fixtures").is_dir() or not (DATA / "arxiv-daily" / "papers.jsonl.gz").is_file():
        pytest.skip(f"test data not found under {DATA} (the shared data folder is absent)")
    base = DATA / "fixtures"
    with gzip.open(DATA / "arxiv-daily" / "papers.jsonl.gz") as f:
        corpus = [next(f) for _ in range(500)]
    return Inputs(
        {
        "listing": corpus,
        "snapshot": (base / "kaggle-snapshot" / "arxiv-metadata-oai-snapshot.sample200.json").read_bytes().splitlines(keepends=True),
        "hf": (base / "hf-api" / "daily_papers_2024-10-25_first3items.json").read_bytes(),
        "xml": sorted((base / "arxiv-api").glob("*.xml")) + sorted((base / "oai-pmh").glob("*.xml")),
        }
    )


class Inputs(dict):
    def __repr__(self) -> str:  # Hypothesis shows the test's arguments when a case fails
        return "<the fixtures>"


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    store = FuzzStore(make_settings(f"sqlite:///{tmp / 'fuzz.db'}", tmp))
    store.tmp = tmp
    yield store
    store.dispose()


class FuzzStore(Store):
    def __repr__(self) -> str:
        return "<the fuzzed store>"


# --- mutations -----------------------------------------------------------------------------------


def _paths(value, prefix=(), depth=0):
    yield prefix
    if depth >= 4:
        return
    if isinstance(value, dict):
        for key in value:
            yield from _paths(value[key], (*prefix, key), depth + 1)
    elif isinstance(value, list):
        for i in range(min(len(value), 3)):
            yield from _paths(value[i], (*prefix, i), depth + 1)


def mutate_json(data, value) -> None:
    """Put a hostile value somewhere in a decoded JSON value (replace, delete or add)."""
    paths = [p for p in _paths(value) if p]
    if not paths:
        return
    path = data.draw(st.sampled_from(paths), label="path")
    parent = value
    for key in path[:-1]:
        parent = parent[key]
    action = data.draw(st.sampled_from(["replace", "replace", "delete", "add"]), label="action")
    if action == "delete":
        del parent[path[-1]]
    elif action == "add" and isinstance(parent, dict):
        parent[data.draw(st.sampled_from(["x", "id", "title", "versions", "paper"]))] = data.draw(HOSTILE_VALUES)
    else:
        parent[path[-1]] = data.draw(HOSTILE_VALUES, label="value")


def dump_json(value, **kw) -> bytes:
    text = json.dumps(value, **kw)
    return text.replace(json.dumps(DEEP), DEEP_JSON).encode("utf-8", "surrogatepass")


def mutate_bytes(data, raw: bytes) -> bytes:
    """Flip bytes, cut short, or insert hostile bytes, at drawn places."""
    if not raw:
        return raw
    action = data.draw(st.sampled_from(["flip", "cut", "insert", "insert"]), label="byte action")
    at = data.draw(st.integers(0, len(raw) - 1), label="at")
    if action == "flip":
        out = bytearray(raw)
        for _ in range(data.draw(st.integers(1, 4))):
            i = data.draw(st.integers(0, len(raw) - 1))
            out[i] ^= data.draw(st.integers(1, 255))
        return bytes(out)
    if action == "cut":
        return raw[:at]
    return raw[:at] + data.draw(st.sampled_from(HOSTILE_BYTES), label="inserted") + raw[at:]


def maybe_gzip(data, raw: bytes) -> tuple[bytes, str]:
    """Sometimes gzip the file, and sometimes damage or cut the gzip itself."""
    kind = data.draw(st.sampled_from(["plain", "plain", "plain", "gzip", "gzip damaged"]), label="container")
    if kind == "plain":
        return raw, ""
    packed = gzip.compress(raw, compresslevel=1)
    if kind == "gzip damaged":
        packed = mutate_bytes(data, packed)
    return packed, ".gz"


# --- the property --------------------------------------------------------------------------------


def ingest_holds(store, raw: bytes, suffix: str) -> None:
    path = store.tmp / f"input-{next(_files)}{suffix}"
    path.write_bytes(raw)
    try:
        report = ingest_job(store, parallel=False).run([str(path)])
    except DailyPapersError as exc:
        message = str(exc)
        assert message and "\n" not in message, message
        return
    finally:
        path.unlink()
    for rejection in report.rejections:
        assert rejection.reason and "\n" not in rejection.reason, rejection
        assert "unexpected error" not in rejection.reason, rejection  # a record broke the code
        str(rejection).encode("utf-8")  # printable as it is: no lone surrogate in a reason
    assert report.total >= report.rejected
    assert consistency_problems(store) == []


def _json_lines(data, lines: list[bytes]) -> bytes:
    start = data.draw(st.integers(0, len(lines) - 4), label="first line")
    chosen = [bytes(line) for line in lines[start : start + 4]]
    for _ in range(data.draw(st.integers(1, 2), label="mutations")):
        i = data.draw(st.integers(0, len(chosen) - 1), label="line")
        try:
            obj = json.loads(chosen[i]) if data.draw(st.booleans(), label="structured") else None
        except (ValueError, RecursionError):  # mutated into something that is not JSON (or too deep) already
            obj = None
        if isinstance(obj, dict):
            mutate_json(data, obj)
            chosen[i] = dump_json(obj) + b"\n"
        else:
            chosen[i] = mutate_bytes(data, chosen[i])
    return b"".join(chosen)


@FUZZ
@given(data=st.data())
def test_listing_lines(fuzz_store, fixtures, data):
    raw, suffix = maybe_gzip(data, _json_lines(data, fixtures["listing"]))
    ingest_holds(fuzz_store, raw, suffix)


@FUZZ
@given(data=st.data())
def test_snapshot_lines(fuzz_store, fixtures, data):
    raw, suffix = maybe_gzip(data, _json_lines(data, fixtures["snapshot"]))
    ingest_holds(fuzz_store, raw, suffix)


@FUZZ
@given(data=st.data())
def test_hf_daily_papers(fuzz_store, fixtures, data):
    if data.draw(st.booleans(), label="structured"):
        items = json.loads(fixtures["hf"])
        for _ in range(data.draw(st.integers(1, 3), label="mutations")):
            mutate_json(data, items)
        raw = dump_json(items, indent=data.draw(st.sampled_from([None, 1])))
    else:
        raw = mutate_bytes(data, fixtures["hf"])
    raw, suffix = maybe_gzip(data, raw)
    ingest_holds(fuzz_store, raw, suffix)


XML_TEXT = [t for t in HOSTILE_TEXT if t != DEEP and not any(0xD800 <= ord(c) <= 0xDFFF or c == "\x00" for c in t)]


@FUZZ
@given(data=st.data())
def test_arxiv_api_and_oai_pmh(fuzz_store, fixtures, data):
    path: Path = data.draw(st.sampled_from(fixtures["xml"]), label="fixture")
    raw = path.read_bytes()
    if data.draw(st.booleans(), label="structured"):
        root = etree.fromstring(raw)
        elements = [el for el in root.iter() if isinstance(el.tag, str)]
        for _ in range(data.draw(st.integers(1, 3), label="mutations")):
            el = data.draw(st.sampled_from(elements), label="element")
            action = data.draw(st.sampled_from(["text", "text", "attribute", "remove", "copy"]), label="action")
            if action == "text":
                el.text = data.draw(st.sampled_from(XML_TEXT), label="value")
            elif action == "attribute" and el.attrib:
                el.set(data.draw(st.sampled_from(sorted(el.attrib))), data.draw(st.sampled_from(XML_TEXT)))
            elif action == "remove" and el.getparent() is not None:
                el.getparent().remove(el)
                elements = [e for e in root.iter() if isinstance(e.tag, str)]
            elif action == "copy" and el.getparent() is not None:
                el.getparent().append(etree.fromstring(etree.tostring(el)))
        raw = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    else:
        raw = mutate_bytes(data, raw)
    raw, suffix = maybe_gzip(data, raw)
    ingest_holds(fuzz_store, raw, suffix)


# --- the command line ----------------------------------------------------------------------------


def test_the_ingest_command_never_shows_a_traceback(sqlite_url, tmp_path, fixtures):
    """The real command on hostile files: exit 0 with rejections, or 1 with one line; never a traceback."""
    env = env_for(make_settings(sqlite_url, tmp_path))
    good = fixtures["listing"][0]
    listing = json.loads(good)
    hostile = {
        "deep.jsonl": b'{"id": "2401.00001", "x": ' + DEEP_JSON.encode() + b"}\n" + good,
        "surrogates.jsonl": dump_json(dict(listing, title="\ud800", id="2401.00002")) + b"\n" + good,
        "nul.jsonl": dump_json(dict(listing, abstract="a\x00b", id="2401.00003")) + b"\n" + good,
        "types.jsonl": dump_json(dict(listing, title=[1, {}], authors={"a": 1}, id=5)) + b"\n" + good,
        "future.jsonl": dump_json(dict(listing, listed="9999-12-31", id="2401.00004")) + b"\n" + good,
        "version.jsonl": dump_json(dict(listing, id="2401.00005v99999999999999999999999")) + b"\n" + good,
        "deep-hf.json": b'[{"paper": ' + DEEP_JSON.encode() + b"}, " + json.dumps(json.loads(fixtures["hf"])[0]).encode() + b"]",
        "bytes.json": b"{\xff\xfe\x00\xed\xa0\x80" * 100,
        "cut.jsonl.gz": gzip.compress(b"".join(fixtures["listing"][:300]))[:40_000],
        "entities.xml": b'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/2401.00006v1</id><title>&b;&b;</title></entry></feed>',
        "empty.json": b"",
    }
    for name, raw in hostile.items():
        (tmp_path / name).write_bytes(raw)
        result = subprocess.run(
            [sys.executable, "-m", "dailypapers", "ingest", str(tmp_path / name)],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert "Traceback" not in result.stderr, (name, result.stderr)
        assert result.returncode in (0, 1), (name, result.returncode, result.stderr)
        if result.returncode == 1:
            assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), (name, result.stderr)
        else:
            assert "rejected" in result.stdout, (name, result.stdout)
