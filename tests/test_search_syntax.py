"""Search as arXiv users type it, on real stores (SQLite and PostgreSQL): arXiv ids in any form find
the paper first; ti:/au:/abs:/co:/cat:/all:/id: prefixes, AND/OR/ANDNOT, -exclusions and grouping;
author names without accents and with initials; and any text at all gives results or a BadQuery."""

from __future__ import annotations

import gzip
import json
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from support import db_for, drop_pg_database, make_settings
from dailypapers import search as S
from dailypapers.index.queries import match_query
from dailypapers.index.query import parse
from dailypapers.jobs.ingest import ingest_job
from dailypapers.store.engine import Store
from test_embeddings import MODELS
from test_search import CRAFTED, TAG, memo_embedder, write_jsonl  # noqa: F401 - the fixture is used by name

# Real papers of the listing subset, chosen for their authors' names.
REAL = {
    "2503.16655": "André Freitas",
    "2503.14485": "Vishal M. Patel",
    "2503.14503": "Vishal M. Patel",
    "2503.13730": "Maitreya Patel",
    "2503.12964": "Zeeshan Patel",
    "2503.12028": "F. Çengel",
    "2503.12284": "Sławomir Tadeja",
    "2503.12552": "Matthias Nießner",
    "2503.13354": "Jean-François Aujol",
    "2503.14828": "Julia Maria Struß",
    "2503.11731": "Xianming Zeng",
}
EXTRA = [
    {
        "id": "2601.00003",
        "title": "Patch-level contrastive pretraining for remote sensing",
        "authors": ["Vishal Q. Patel", "Adrian Del Maestro", "Søren Kierkegaard Jr."],
        "categories": ["cs.CV", "eess.IV"],
        "comment": "Accepted at the Quokka Workshop 2026",
        "abstract": "Remote sensing images of quokka habitats are pretrained with a patch-level contrastive "
        "objective; graph networks are not used here.",
        "listed": "2026-01-20",
    },
    {
        "id": "hep-th/9901001",
        "title": "Branes at conical singularities and holography",
        "authors": ["Łukasz Wójcik", "Jörg Müller"],
        "categories": ["hep-th"],
        "comment": None,
        "abstract": "We study D3-branes at conical singularities and their holographic duals.",
        "listed": "1999-01-04",
    },
    {
        "id": "math.GT/0309136",
        "title": "Knot Floer homology and the four-ball genus",
        "authors": ["Peter Ozsváth", "Zoltán Szabó"],
        "categories": ["math.GT"],
        "comment": None,
        "abstract": "We use knot Floer homology to bound the four-ball genus of knots.",
        "listed": "2003-09-09",
    },
]


def listing_records(listing, ids) -> list[dict]:
    out = []
    with gzip.open(listing, "rt") as f:
        for line in f:
            record = json.loads(line)
            if record["id"] in ids:
                out.append(record)
    assert len(out) == len(ids), "the listing subset lacks a paper these tests name"
    return out


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request, tmp_path_factory, listing_subset):
    """Real papers chosen for their authors, the crafted ones, and old-style ids; fully indexed."""
    tmp = tmp_path_factory.mktemp("syntax")
    url, pg = db_for(request, tmp, request.param)
    store = Store(make_settings(url, tmp, models_dir=MODELS))
    records = listing_records(listing_subset, set(REAL)) + CRAFTED + EXTRA
    ingest_job(store).run([str(write_jsonl(tmp / "papers.jsonl", records))])
    report = S.index_new_papers(store)
    assert report.embedded == len(records)
    yield store
    store.dispose()
    if pg:
        drop_pg_database(*pg)


def ids(store, text, **kw) -> list[str]:
    return [h.paper.arxiv_id for h in S.search(store, S.SearchQuery(text=text, limit=kw.pop("limit", 50), **kw)).hits]


# --- arXiv ids --------------------------------------------------------------------------------------

FORMS = [
    "2503.16655",
    "2503.16655v2",
    "arXiv:2503.16655",
    "arxiv:2503.16655v1",
    "https://arxiv.org/abs/2503.16655",
    "arxiv.org/pdf/2503.16655v1",
    "https://arxiv.org/pdf/2503.16655.pdf",
    "http://export.arxiv.org/abs/2503.16655v3",
    "https://huggingface.co/papers/2503.16655",
    "id:2503.16655",
]


@pytest.mark.parametrize("form", FORMS)
def test_an_arxiv_id_in_any_form_finds_the_paper(store, form):
    assert ids(store, form) == ["2503.16655"]
    page = S.search(store, S.SearchQuery(text=form))
    assert page.total == 1 and page.hits[0].found_by == "id"


def test_old_style_ids_find_their_papers(store):
    assert ids(store, "hep-th/9901001") == ["hep-th/9901001"]
    assert ids(store, "arXiv:hep-th/9901001v2") == ["hep-th/9901001"]
    assert ids(store, "https://arxiv.org/abs/math.GT/0309136") == ["math.GT/0309136"]
    assert ids(store, "math.gt/0309136") == ["math.GT/0309136"]


def test_an_id_mixed_with_words_comes_first_and_the_words_still_search(store):
    # The paper shares no word with the query: it is first because it was named.
    found = ids(store, "quokka detection 2503.16655")
    assert found[0] == "2503.16655" and "2601.00001" in found[1:] and found.count("2503.16655") == 1
    for sort in ("date", "upvotes"):
        assert ids(store, "arXiv:2503.16655 quokka", sort=sort)[0] == "2503.16655"
    # With a filter-only rest: the paper first, then the listing, paged without repeats.
    listing = ids(store, "2503.11731 cat:cs.CV", limit=100)
    assert listing[0] == "2503.11731" and len(listing) == len(set(listing)) > 3
    first = ids(store, "2503.11731 cat:cs.CV", limit=2)
    second = ids(store, "2503.11731 cat:cs.CV", limit=2, offset=2)
    assert first + second == listing[:4]
    # An id the store does not hold finds nothing by itself, and does not stop the words.
    assert ids(store, "2412.99999") == []
    assert ids(store, "2412.99999 quokka")[0] == "2601.00001"
    # Numbers that are not arXiv ids are words.
    for text in ("2503.99", "1234.5678", "2513.12345", "1501.1234", "hep-th/9913001"):
        assert parse(text).ids == () and parse(text).plain == text, text


def test_named_papers_keep_to_the_date_and_category_filters(store):
    """A saved search naming a paper must not repeat it in every digest: the form's filters hold."""
    import datetime as dt

    assert ids(store, "2503.16655", since=dt.date(2026, 1, 1)) == []
    assert ids(store, "2503.16655", categories=("cs.CV",)) == []
    assert ids(store, "2503.16655", categories=("cs.CL",)) == ["2503.16655"]


def test_a_lone_id_is_recognised_for_the_page_redirect():
    assert S.lone_arxiv_id("  https://arxiv.org/pdf/2503.11731v2.pdf ") == "2503.11731"
    assert S.lone_arxiv_id("math.GT/0309136v1") == "math.GT/0309136"
    assert S.lone_arxiv_id("id:hep-th/9901001") == "hep-th/9901001"
    for text in ("2503.11731 diffusion", "2503.11731 2503.11732", "diffusion", "", "2503.99", "-2503.11731"):
        assert S.lone_arxiv_id(text) is None, text


# --- fields and operators ------------------------------------------------------------------------------


def test_field_prefixes(store):
    assert ids(store, "ti:quokka") == ["2601.00001"]
    assert ids(store, 'ti:"sparse attention"') == ["2601.00001"]
    assert ids(store, "ti:smoothing") == []  # only in the abstract
    assert ids(store, "abs:smoothing") == ["2601.00002"]
    assert ids(store, "abs:habitat") == ["2601.00003"]  # stemmed like the index
    assert set(ids(store, "abs:quokkas")) == {"2601.00001", "2601.00003"}
    assert ids(store, "co:quokka") == ["2601.00003"] and ids(store, "co:workshops") == ["2601.00003"]  # the comment
    assert set(ids(store, "all:quokka")) == {"2601.00001", "2601.00003"} and ids(store, "all:workshop") == ["2601.00003"]
    assert ids(store, "au:Hopper") == ["2601.00002"]
    assert ids(store, "TI:Quokka AU:lovelace") == ["2601.00001"]  # prefixes in any case
    assert ids(store, "title:quokka") == ["2601.00001"] and ids(store, "abstract:molecules") == ["2601.00002"]
    # cat: an archive stands for all its categories; several at the top level: any of them.
    assert set(ids(store, "cat:hep-th cat:math.GT")) == {"hep-th/9901001", "math.GT/0309136"}
    assert set(ids(store, "cat:math")) == {"math.GT/0309136", "2503.13354"}  # math.GT, math.NA
    assert "2601.00003" in ids(store, "cat:eess") and "2601.00003" in ids(store, "cat:eess.*")
    # A field applies to a group; arXiv writes spaces in names as underscores.
    assert set(ids(store, "ti:(quokka OR molecule)")) == {"2601.00001", "2601.00002"}
    assert ids(store, "au:del_maestro") == ["2601.00003"]
    assert set(ids(store, "au:(Hopper OR Lovelace)")) == {"2601.00001", "2601.00002"}


def test_boolean_operators_and_exclusions(store):
    assert set(ids(store, "quokka OR molecules")) == {"2601.00001", "2601.00002", "2601.00003"}
    assert ids(store, "quokka AND detection") == ["2601.00001"]
    assert ids(store, "quokka ANDNOT detection") == ["2601.00003"]
    # Plain words rank (the semantic side adds papers like them); exclusions hold on both sides.
    for text in ("quokka -detection", 'quokka -"quokka detection"', "quokka -au:Lovelace", "quokka NOT au:lovelace"):
        found = ids(store, text)
        assert found[0] == "2601.00003" and "2601.00001" not in found and len(found) > 5, text
        assert ids(store, text, mode="fulltext") == ["2601.00003"], text
    assert ids(store, "au:Hopper OR au:Turing ANDNOT ti:sparse") == ["2601.00002"]
    # AND and ANDNOT bind tighter than OR, which binds tighter than plain juxtaposition.
    assert set(ids(store, "au:Hopper OR au:Lovelace AND ti:quokka")) == {"2601.00001", "2601.00002"}
    assert set(ids(store, "(au:Hopper OR au:Lovelace) AND ti:quokka")) == {"2601.00001"}
    # arXiv's own example shape: an author, less a group of titles.
    assert ids(store, "au:del_maestro ANDNOT (ti:checkerboard OR ti:Pyrochlore)") == ["2601.00003"]
    assert ids(store, "au:del_maestro ANDNOT (ti:checkerboard OR ti:remote)") == []
    # Lower-case and, or, not are words; so are operators with nothing to join.
    assert ids(store, "quokka and detection")[0] == "2601.00001"
    assert ids(store, "OR quokka AND")[0] in {"2601.00001", "2601.00003"}
    # A dash excludes only at the start of a term, and not before a digit: these are all words.
    for text in ("(H2A)-histone dimer", "state-of-the-art x)-y", "E2f-1, -2, -3 cells"):
        assert all(occur == "should" for occur, _ in parse(text).tree.clauses), text
    # Exclusions alone list everything else.
    everything = S.search(store, S.SearchQuery(text="cat:cs.CV")).total
    assert S.search(store, S.SearchQuery(text="cat:cs.CV -quokka")).total == everything - 2


def test_the_semantic_side_reads_only_the_positive_free_text(store):
    engines = S.engines_for(store)
    engines._query_cache.clear()
    S.search(store, S.SearchQuery(text='graph networks -molecules -"deep graph" au:Hopper cat:cs.LG NOT smoothing OR'))
    assert list(engines._query_cache) == ["graph networks"]
    parsed = parse('ti:(vision OR language) "sparse attention" quokka ANDNOT au:x -ignored 2503.16655')
    assert parsed.plain == "vision language sparse attention quokka"


# --- author names ----------------------------------------------------------------------------------------


def test_author_names_match_without_accents(store):
    assert ids(store, "Andre Freitas")[0] == "2503.16655"
    assert ids(store, "au:andre freitas")[0] == "2503.16655"
    assert ids(store, 'au:"andre freitas"') == ["2503.16655"]
    assert ids(store, 'author:"André Freitas"') == ["2503.16655"]
    assert ids(store, "au:niessner") == ["2503.12552"] and ids(store, "au:Nießner") == ["2503.12552"]
    assert ids(store, 'au:"Slawomir Tadeja"') == ["2503.12284"]
    assert ids(store, "au:cengel") == ["2503.12028"] and ids(store, 'au:"F. Cengel"') == ["2503.12028"]
    assert ids(store, 'au:"Jean-Francois Aujol"') == ["2503.13354"] and ids(store, 'au:"J.-F. Aujol"') == ["2503.13354"]
    assert ids(store, "au:Struss") == ["2503.14828"]
    assert ids(store, "au:lukasz au:wojcik") == ["hep-th/9901001"] and ids(store, 'au:"Jorg Muller"') == ["hep-th/9901001"]
    assert ids(store, 'au:"Soren Kierkegaard"') == ["2601.00003"]  # "Jr." is not the surname


PATEL_M = {"2503.14485", "2503.14503"}


def test_author_names_match_with_initials(store):
    for text in ("V. M. Patel", 'au:"V M Patel"', 'au:"V. M. Patel"', "au:Patel_V_M", 'author:"Vishal M. Patel"', "Vishal M. Patel"):
        assert set(ids(store, text)) == PATEL_M, text  # not Vishal Q. Patel, nor Maitreya or Zeeshan
    for text in ("Patel, V.", 'au:"Patel, V."', "au:Patel_V", 'au:"Vishal Patel"', "Vishal Patel", 'au:"V. Patel"'):
        assert set(ids(store, text)) == PATEL_M | {"2601.00003"}, text
    assert set(ids(store, "au:Patel")) == PATEL_M | {"2601.00003", "2503.13730", "2503.12964"}
    assert ids(store, 'au:"M. Patel"') == ["2503.13730"]  # Maitreya: the first given name
    assert ids(store, 'au:"Q. V. Patel"') == [] and ids(store, 'au:"Patel Vishal"') == []
    assert ids(store, "A. Del Maestro") == ["2601.00003"] and ids(store, 'au:"Del Maestro, Adrian"') == ["2601.00003"]
    # A facet link appends cat: to the name: still that author, in that category.
    assert ids(store, "V. M. Patel cat:cs.GR") == ["2503.14485"]
    graph = S.search(store, S.SearchQuery(text="Graph Networks cat:cs.LG", limit=50))
    assert graph.hits and all("cs.LG" in h.paper.categories for h in graph.hits)
    # A name searched with other words is plain words; a capitalised phrase that is nobody's name too.
    assert ids(store, "super-resolution V. M. Patel")[0] == "2503.14503"
    assert ids(store, "Sparse Attention")[0] == "2601.00001"
    assert ids(store, "Graph Networks") != []


# --- any text at all ------------------------------------------------------------------------------------

SOUP = [
    "AND", "OR", "ANDNOT", "NOT", "(", ")", "(", ")", "-", '"', '"', "ti:", "au:", "abs:", "cat:", "co:", "all:", "jr:",
    "rn:", "id:", "author:", "title:", "category:", "cs.CL", "cs", "cs.*", "2503.16655", "arXiv:2503.16655v2",
    "https://arxiv.org/pdf/2503.16655.pdf", "hep-th/9901001", "V.", "M.", "J.-F.", "Patel", "Patel,", "André", "Ł", "ß",
    "quokka", "graph", "-graph", '-"graph networks"', "-au:Hopper", "_", "*", ":", "\\", "\x00", "\ud800", "a" * 50,
    "🚀", "中文", "+", "~", "^2", "[a TO z]", "{", "}", "/", "'", "|", "&&",
]
soup = st.lists(st.one_of(st.sampled_from(SOUP), st.text(max_size=4)), max_size=40).flatmap(
    lambda parts: st.sampled_from([" ", "", "  "]).map(lambda sep: sep.join(parts))
)
anything = st.text(alphabet=st.characters(exclude_categories=()), max_size=300)


def answers_or_refuses(store, text: str, sort: str) -> None:
    try:
        page = S.search(store, S.SearchQuery(text=text, sort=sort))
    except S.BadQuery as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert page.total >= len(page.hits)
    for hit in page.hits:
        assert set(TAG.findall(hit.title_html + hit.snippet_html)) <= {"<mark>", "</mark>"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=anything, sort=st.sampled_from(S.SORTS))
@example(text="a" * 50 + " _", sort="relevance")  # words that cannot be indexed: a 500 before
@example(text="quokka\ud800", sort="relevance")  # a lone surrogate (from a command line's bytes): a 500 before
def test_any_text_gives_results_or_a_bad_query(store, text, sort):
    answers_or_refuses(store, text, sort)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=soup, sort=st.sampled_from(S.SORTS))
def test_operator_soup_gives_results_or_a_bad_query(store, text, sort):
    answers_or_refuses(store, text, sort)


@pytest.mark.parametrize(
    "text, message",
    [
        ("ti:", "ti: needs"),
        ('au:""', "au: needs"),
        ("cat:!!", "not an arXiv category"),
        ("id:quokka", "not an arXiv id"),
        ("(" * 40 + "quokka", "nested"),
        ("x" * 4001, "too long"),
        (" OR ".join(f'"w{i} v{i}"' for i in range(70)), "too many"),
    ],
)
def test_what_cannot_be_searched_says_why(store, text, message):
    with pytest.raises(S.BadQuery, match=re.escape(message)):
        S.search(store, S.SearchQuery(text=text))


# --- plain words rank as before --------------------------------------------------------------------------


def _real_words(listing) -> list[str]:
    words = set()
    with gzip.open(listing, "rt") as f:
        for line in f:
            record = json.loads(line)
            words.update(w.lower() for w in re.findall(r"\w+", " ".join([record["title"], record["abstract"], *record["authors"]])))
    return sorted(words | {"foo_bar", "x²", "ﬁnance", "straße", "i̇stanbul", "a" * 40, "a" * 41, "e\u0301te", "σας"})


def test_query_words_are_analysed_as_the_index_analyses_them(listing_subset, tmp_path):
    """queries.py rebuilds tantivy's en_stem and default analyses to turn query words into terms:
    on every word of the real papers they find what tantivy's own parser found."""
    import tantivy

    from dailypapers.index import queries

    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("n", stored=True)
    sb.add_text_field("title", tokenizer_name="en_stem")
    sb.add_text_field("journal_ref", tokenizer_name="default")
    schema = sb.build()
    index = tantivy.Index(schema, path=str(tmp_path))
    words = _real_words(listing_subset)[::2]
    writer = index.writer(50_000_000, 1)
    for n, word in enumerate(words):
        writer.add_document(tantivy.Document(n=n, title=word, journal_ref=word))
    writer.commit()
    index.reload()
    searcher = index.searcher()

    def found(query):
        return [] if query is None else [(round(s, 5), searcher.doc(a)["n"][0]) for s, a in searcher.search(query, 5).hits]

    differ = [
        (word, field)
        for word in words
        for field in ("title", "journal_ref")
        if found(index.parse_query(word, [field])) != found(queries._field_query(schema, field, queries.ANALYZERS[field].analyze(word), 1.0))
    ]
    assert len(words) > 8000 and differ == []


def test_plain_words_score_exactly_as_before(listing_subset, tmp_path):
    """The BM25 of plain words is what tantivy's parser gave for them (the benchmarks' figures hold):
    the 1,100 real titles as queries over the real papers, same papers, same scores."""
    from dailypapers.index.fulltext import FullTextIndex

    records = [json.loads(line) for line in gzip.open(listing_subset, "rt")]
    fulltext = FullTextIndex(tmp_path / "fulltext")
    fulltext.add_rows([
        {"id": i, "arxiv_id": r["id"], "title": r["title"], "abstract": r["abstract"], "authors": [{"name": a} for a in r["authors"]]}
        for i, r in enumerate(records)
    ])
    searcher = fulltext.searcher()
    for record in records:
        parsed = parse(record["title"], syntax=False)
        before = fulltext.index.parse_query(
            " ".join(parsed.tree.clauses[0][1].words), ["title", "abstract", "authors"], field_boosts={"title": 1.0, "authors": 0.5}
        )
        old = fulltext.top(before, 20, searcher=searcher)
        new = fulltext.top(match_query(fulltext.schema, parsed), 20, searcher=searcher)
        assert [p for p, _ in new] == [p for p, _ in old], record["title"]
        assert [s for _, s in new] == pytest.approx([s for _, s in old], rel=1e-6), record["title"]
