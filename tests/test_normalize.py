import datetime as dt

import pytest

from dailypapers.arxiv import parse_datetime, split_arxiv_id
from dailypapers.errors import InvalidRecord
from dailypapers.ingest.merge import complete_new, merge, record_to_row
from dailypapers.ingest.normalize import clean_abstract, clean_title, find_links, normalize
from dailypapers.types import Author, PaperRecord


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2410.17243", ("2410.17243", None)),
        ("2410.17243v3", ("2410.17243", 3)),
        ("arXiv:2410.17243v2", ("2410.17243", 2)),
        ("http://arxiv.org/abs/1707.08567v1", ("1707.08567", 1)),
        ("https://arxiv.org/pdf/2104.12255v1.pdf", ("2104.12255", 1)),
        ("oai:arXiv.org:physics/0112006", ("physics/0112006", None)),
        ("http://arxiv.org/abs/quant-ph/0201082v1", ("quant-ph/0201082", 1)),
        ("math.AP/0601001", ("math.AP/0601001", None)),
        ("0704.0001", ("0704.0001", None)),
    ],
)
def test_split_arxiv_id(raw, expected):
    assert split_arxiv_id(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "", "2410.172", "1234.56789v0", "is-malformed"])
def test_split_arxiv_id_rejects(raw):
    with pytest.raises(InvalidRecord):
        split_arxiv_id(raw)


def test_title_wraps_join():
    assert clean_title("Evaluation of Silicon Photomultipliers for use as Photosensors in Liquid\n  Xenon Detectors") == (
        "Evaluation of Silicon Photomultipliers for use as Photosensors in Liquid Xenon Detectors"
    )


def test_abstract_wraps_join_paragraphs_kept_latex_verbatim():
    raw = "  We introduce a novel $(k,\\ell)$-pebble\ngame with $x<y$ \\& more.\n  In particular,\nwe present.\n"
    assert clean_abstract(raw) == "We introduce a novel $(k,\\ell)$-pebble game with $x<y$ \\& more.\nIn particular, we present."


def test_find_links_code_and_project():
    code, project = find_links(
        "Our code is at https://github.com/8421BCD/fullrank. See the page https://foo.github.io/bar/.",
        "Project: https://example.org/proj; DOI https://doi.org/10.1/x",
    )
    assert code == "https://github.com/8421BCD/fullrank"
    assert project == "https://foo.github.io/bar/"


def test_find_links_stops_at_latex():
    code, _ = find_links("at: https://github.com/LCLM-Horizon/Survey{\\color[RGB]{175,36,67}{LCLM}}.")
    assert code == "https://github.com/LCLM-Horizon/Survey"


def test_parse_datetime_forms():
    assert parse_datetime("2024-10-22T17:59:30.000Z") == dt.datetime(2024, 10, 22, 17, 59, 30)
    assert parse_datetime("Mon, 2 Apr 2007 19:18:42 GMT") == dt.datetime(2007, 4, 2, 19, 18, 42)
    with pytest.raises(InvalidRecord):
        parse_datetime("yesterday")


def record(**kw) -> PaperRecord:
    base = dict(arxiv_id="2401.00001", title="T", abstract="A", authors=[Author("X")])
    base.update(kw)
    return normalize(PaperRecord(**base))


def test_normalize_rejects_missing_title():
    with pytest.raises(InvalidRecord, match="no title"):
        record(title="  \n ")


def test_normalize_drops_non_arxiv_categories():
    r = record(categories=["cs.CV", "I.4.2; E.4", "68T07, 92C55", "cond-mat.str-el", "cs.CV"])
    assert r.categories == ["cs.CV", "cond-mat.str-el"]


def row(**kw):
    return record_to_row(record(**kw))


def test_merge_newer_version_replaces_text_keeps_missing_fields():
    stored = complete_new(row(version=1, title="Old", doi="10.1/x"))
    merged = merge(stored, row(version=2, title="New"))
    assert merged.version == 2 and merged.title == "New" and merged.doi == "10.1/x"
    assert merged.content_hash != stored.content_hash


def test_merge_older_version_changes_nothing():
    stored = complete_new(row(version=3, title="Three"))
    merged = merge(stored, row(version=1, title="One", doi="10.1/y"))
    assert merged.content_hash == stored.content_hash
    assert merged.title == "Three" and merged.version == 3


def test_merge_unversioned_record_only_fills_gaps_of_versioned_paper():
    stored = complete_new(row(version=2, title="Two"))
    merged = merge(stored, row(title="Listing title", comment="12 pages"))
    assert merged.title == "Two" and merged.comment == "12 pages"


def test_merge_imported_upvotes_only_grow():
    stored = complete_new(row(upvotes=64))
    assert merge(stored, row(upvotes=74)).upvotes_imported == 74
    assert merge(stored, row(upvotes=10)).upvotes_imported == 64


def test_content_hash_covers_every_hashed_field():
    from dailypapers.ingest.normalize import HASHED_FIELDS, content_hash

    base = complete_new(row(version=1, doi="10.1/x", comment="c"))
    seen = {content_hash(base)}
    for name in HASHED_FIELDS:
        value = getattr(base, name)
        if isinstance(value, list):
            value = value + ([{"name": "Someone"}] if name == "authors" else ["cs.XX"])
        elif isinstance(value, int):
            value = value + 1
        elif value is None:
            value = dt.datetime(2020, 1, 1) if name.endswith("_at") else "set"
        else:
            value = value + " changed"
        seen.add(content_hash(base._replace(**{name: value})))
    assert len(seen) == len(HASHED_FIELDS) + 1


def test_paper_columns_are_the_papers_table_columns_ingest_writes():
    from dailypapers.store.schema import Paper
    from dailypapers.types import PAPER_COLUMNS, PaperRow

    assert PAPER_COLUMNS == PaperRow._fields
    assert set(PAPER_COLUMNS) <= set(Paper.__table__.c.keys())
    assert not {"id", "first_featured", "upvote_count", "comment_count", "created_at", "changed_at"} & set(PAPER_COLUMNS)


def test_card_fields_are_papers_columns_and_a_card_is_immutable():
    import dataclasses

    from dailypapers.store.schema import Paper
    from dailypapers.types import CARD_FIELDS, FULL_FIELDS, PaperCard, PaperFull

    columns = set(Paper.__table__.c.keys())
    assert set(CARD_FIELDS) <= columns and set(FULL_FIELDS) <= columns
    assert CARD_FIELDS == FULL_FIELDS[: len(CARD_FIELDS)]
    assert {f.name for f in dataclasses.fields(PaperFull)} == set(FULL_FIELDS) | {"versions"}
    card = PaperCard(id=1, arxiv_id="2410.17243", title="T")
    with pytest.raises(dataclasses.FrozenInstanceError):
        card.title = "changed"
    assert not hasattr(card, "__dict__")  # slotted
