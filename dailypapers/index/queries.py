"""tantivy queries for a parsed query (query.py), built with tantivy's Query API: each word is
analysed as its field is indexed and becomes a term or phrase query, so nothing a user types is ever
read as tantivy's own query syntax.

Plain words search the title, abstract and authors, as one flat OR of a term per word and field
(the title boosted by TITLE_BOOST, authors by AUTHOR_BOOST): the query tantivy's parser used to build
for them, so BM25 scores are unchanged. Everything that is not words (authors, categories, papers,
the form's filters) scores nothing and only restricts.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

import tantivy

from . import names
from .querytree import Author, BadQuery, Bool, Category, Paper, ParsedQuery, Text, positive_leaves, words_of

Q = tantivy.Query
OCCUR = {"must": tantivy.Occur.Must, "should": tantivy.Occur.Should, "not": tantivy.Occur.MustNot}
EPOCH = dt.date(1970, 1, 1)
TITLE_BOOST = 1.0  # 2.0 lost 5 points of nDCG@10 on SciFact and 1 on CACM
AUTHOR_BOOST = 0.5


def _analyzer(*filters) -> tantivy.TextAnalyzer:
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    for f in (tantivy.Filter.remove_long(40), tantivy.Filter.lowercase(), *filters):
        builder = builder.filter(f)
    return builder.build()


# tantivy's built-in en_stem and default analyses, rebuilt here to analyse query words as the index
# did its text (tests/test_search_syntax.py checks they agree on the corpus's words).
EN_STEM = _analyzer(tantivy.Filter.stemmer("english"))
DEFAULT = _analyzer()
ANALYZERS = {
    "title": EN_STEM,
    "abstract": EN_STEM,
    "comment": EN_STEM,
    "authors": names.FOLD,
    "journal_ref": DEFAULT,
    "report_no": DEFAULT,
}
_ANY = (("title", TITLE_BOOST), ("abstract", 1.0), ("authors", AUTHOR_BOOST))
SCOPES = {
    "any": _ANY,
    "ti": (("title", 1.0),),
    "abs": (("abstract", 1.0),),
    "co": (("comment", 1.0),),
    "jr": (("journal_ref", 1.0),),
    "rn": (("report_no", 1.0),),
    "all": _ANY + (("comment", 1.0), ("journal_ref", 1.0), ("report_no", 1.0)),
}


# --- words ---------------------------------------------------------------------------------------------


def _field_query(schema: tantivy.Schema, field: str, tokens: list[str], boost: float) -> tantivy.Query | None:
    if not tokens:
        return None
    query = Q.term_query(schema, field, tokens[0]) if len(tokens) == 1 else Q.phrase_query(schema, field, tokens)
    return query if boost == 1.0 else Q.boost_query(query, boost)


def _text_clauses(schema: tantivy.Schema, leaf: Text, fields=None) -> list[tantivy.Query]:
    """One query per field for a phrase; one per word and field for plain words."""
    units = [" ".join(leaf.words)] if leaf.phrase else leaf.words
    fields = fields or SCOPES[leaf.scope]
    out = []
    for unit in units:
        analysed: dict[int, list[str]] = {}  # title and abstract share an analysis: done once
        for field, boost in fields:
            analyzer = ANALYZERS[field]
            tokens = analysed.get(id(analyzer))
            if tokens is None:
                tokens = analysed[id(analyzer)] = analyzer.analyze(unit)
            if (query := _field_query(schema, field, tokens, boost)) is not None:
                out.append(query)
    return out


def _any(clauses: list[tantivy.Query]) -> tantivy.Query:
    """A query matching what any of the clauses matches (nothing when there are none)."""
    if not clauses:
        return Q.empty_query()
    if len(clauses) == 1:
        return clauses[0]
    return Q.boolean_query([(tantivy.Occur.Should, c) for c in clauses])


def words_query(schema: tantivy.Schema, words, fields: tuple[str, ...]) -> tantivy.Query | None:
    """BM25 over plain words in some fields (similar papers' full-text fallback), or None."""
    clauses = _text_clauses(schema, Text("any", tuple(words)), tuple((f, 1.0) for f in fields))
    return _any(clauses) if clauses else None


# --- authors, categories, papers ---------------------------------------------------------------------


def author_query(schema: tantivy.Schema, name: str) -> tantivy.Query:
    """Papers with an author of this name (names.py says how names match)."""
    found = names.pattern(name)
    if found is None:
        return Q.empty_query()
    kind, value = found
    if kind == "word":
        return Q.term_query(schema, "authors", value)
    try:
        return Q.regex_query(schema, "author_keys", value)
    except ValueError:  # the pattern is built from letters and digits only; kept as a safety net
        raise BadQuery(f"cannot search for the author {name[:60]!r}") from None


def category_query(schema: tantivy.Schema, categories) -> tantivy.Query:
    """Papers in any of the categories; one without a subject class (cs, math, hep-th) stands for
    itself and every category of its archive."""
    exact = [c for c in categories if "." in c]
    parts = [Q.term_set_query(schema, "categories", exact)] if exact else []
    parts += [Q.regex_query(schema, "categories", re.escape(c) + r"(?:\..+)?") for c in categories if "." not in c]
    return _any(parts)


def papers_query(schema: tantivy.Schema, arxiv_ids) -> tantivy.Query:
    return Q.term_set_query(schema, "arxiv_id", list(arxiv_ids))


# --- the tree ---------------------------------------------------------------------------------------------

_EVERYTHING = Q.const_score_query(Q.all_query(), 0.0)


def _leaf(schema: tantivy.Schema, node) -> tantivy.Query | None:
    if isinstance(node, Text):
        return _any(_text_clauses(schema, node))
    if isinstance(node, Author):
        return Q.const_score_query(author_query(schema, node.name), 0.0)
    if isinstance(node, Category):
        return Q.const_score_query(category_query(schema, [node.name]), 0.0)
    if isinstance(node, Paper):
        return Q.const_score_query(papers_query(schema, [node.arxiv_id]), 0.0)
    return _bool(schema, node)


def _bool(schema: tantivy.Schema, node: Bool) -> tantivy.Query | None:
    subs: list[tuple[tantivy.Occur, tantivy.Query]] = []
    wants_one = False  # some clause may match; with no required one, at least one must
    seen: set = set()  # a word or phrase given twice counts once, as tantivy's parser had it
    for occur, child in node.clauses:
        if occur == "should":
            wants_one = True
            if isinstance(child, Text) and not child.phrase:  # flat, as tantivy's parser made it
                words = tuple(dict.fromkeys(w for w in child.words if (child.scope, w) not in seen))
                seen.update((child.scope, w) for w in words)
                subs += [(tantivy.Occur.Should, q) for q in _text_clauses(schema, Text(child.scope, words))]
                continue
        key = (occur, child.scope, child.words, child.phrase) if isinstance(child, Text) else (occur, child)
        if key in seen:
            continue
        seen.add(key)
        query = _leaf(schema, child)
        if query is not None:
            subs.append((OCCUR[occur], query))
    kinds = {occur for occur, _ in subs}
    if tantivy.Occur.Must not in kinds and tantivy.Occur.Should not in kinds:
        if wants_one:
            return Q.empty_query()  # words that cannot match (too long to be indexed, say)
        if not subs:
            return None
        subs.insert(0, (tantivy.Occur.Must, _EVERYTHING))  # exclusions alone: everything else
    if len(subs) == 1:
        return subs[0][1]
    return Q.boolean_query(subs)


def match_query(schema: tantivy.Schema, parsed: ParsedQuery) -> tantivy.Query | None:
    """The whole query: what matches it, with BM25 from its words (authors, categories and papers
    score nothing). None when the tree is empty (a query of ids or top-level categories alone)."""
    return _bool(schema, parsed.tree)


def required_query(schema: tantivy.Schema, parsed: ParsedQuery) -> tantivy.Query | None:
    """What every result must meet, scoring nothing: the query without its top level's plain words,
    which only rank (the semantic side keeps to this). None when only words were given."""
    kept = tuple((occur, node) for occur, node in parsed.tree.clauses if occur != "should")
    query = _bool(schema, Bool(kept)) if kept else None
    return None if query is None else Q.const_score_query(query, 0.0)


def highlight_query(schema: tantivy.Schema, parsed: ParsedQuery, field: str) -> tantivy.Query | None:
    """The positive words and phrases that search this field (for marking them in snippets)."""
    clauses = []
    for leaf in positive_leaves(parsed.tree):
        if isinstance(leaf, Text) and any(f == field for f, _ in SCOPES[leaf.scope]):
            clauses += _text_clauses(schema, leaf, ((field, 1.0),))
    return _any(clauses) if clauses else None


def resolve(searcher: tantivy.Searcher, schema: tantivy.Schema, parsed: ParsedQuery) -> ParsedQuery:
    """A query that was only a person's name: that author when someone has the name, else its
    words (Graph Networks, Sparse Attention)."""
    if not parsed.has_guess:
        return parsed
    (_, author), *rest = parsed.tree.clauses
    if searcher.search(author_query(schema, author.name), 1).hits:
        return parsed
    words = Text("any", words_of(author.name), False, author.name)
    return replace(parsed, tree=Bool((("should", words), *rest)), plain=author.name)


# --- the form's filters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """Restrictions on which papers may match: a span of days (inclusive; a paper's day is the day
    it was first featured, else its submission day), any of some categories (an archive such as cs
    counts for all of it), whether it links code."""

    since: dt.date | None = None
    until: dt.date | None = None
    categories: tuple[str, ...] = ()
    has_code: bool | None = None

    @property
    def active(self) -> bool:
        return bool(self.since or self.until or self.categories or self.has_code is not None)


def filter_queries(schema: tantivy.Schema, filters: Filters) -> list[tantivy.Query]:
    """One query per restriction (categories, days, code), each scoring nothing."""
    out: list[tantivy.Query] = []
    if filters.categories:
        out.append(category_query(schema, filters.categories))
    if filters.since or filters.until:
        lo = (filters.since - EPOCH).days if filters.since else None
        hi = (filters.until - EPOCH).days if filters.until else None
        if lo is not None and hi is not None and lo > hi:
            raise BadQuery(f"the date range is empty: {filters.since} is after {filters.until}")
        out.append(Q.range_query(schema, "day_num", tantivy.FieldType.Integer, lo, hi))
    if filters.has_code is not None:
        out.append(Q.term_query(schema, "has_code", 1 if filters.has_code else 0))
    return [Q.const_score_query(q, 0.0) for q in out]


def compose(text: tantivy.Query | None, restrictions: list[tantivy.Query]) -> tantivy.Query | None:
    """The text query under every restriction; None when there is neither."""
    parts = ([text] if text is not None else []) + restrictions
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return Q.boolean_query([(tantivy.Occur.Must, q) for q in parts])


def excluding(query: tantivy.Query | None, without: tantivy.Query | None = None) -> tantivy.Query:
    """The query (everything when None), less what `without` matches."""
    query = query if query is not None else _EVERYTHING
    return query if without is None else Q.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.MustNot, without)])


def either(*queries: tantivy.Query) -> tantivy.Query:
    """What any of the queries matches."""
    return _any(list(queries))
