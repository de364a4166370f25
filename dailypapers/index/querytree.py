"""A parsed search query: the tree the query language is read into (`query.py`), and the pure
pieces both its reader and the index's query builder use (categories, arXiv ids, words). No index
here; `queries.py` turns the tree into tantivy queries."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Union

from ..errors import DailyPapersError

_WORD = re.compile(r"\w+")


class BadQuery(DailyPapersError):
    """A search query that cannot be run; the message says why (the web answers 400 with it)."""


# --- the tree -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """Words to find. `scope` names the fields: "any" (title, abstract, authors: what plain words
    search), "ti", "abs", "co", "jr", "rn" or "all". A phrase wants its words in order; otherwise
    each word counts on its own. `raw` is the text as typed (what the embedding model reads)."""

    scope: str
    words: tuple[str, ...]
    phrase: bool = False
    raw: str = ""


@dataclass(frozen=True)
class Author:
    """An author's name as typed. `guessed`: read from a query that is only a name (not au:), so it
    is searched as plain words when no author has that name (`fulltext.resolve`)."""

    name: str
    guessed: bool = False


@dataclass(frozen=True)
class Category:
    """A category in arXiv's spelling, or an archive (cs, math, hep-th) standing for all of it."""

    name: str


@dataclass(frozen=True)
class Paper:
    """One paper, by its arXiv id without version."""

    arxiv_id: str


@dataclass(frozen=True)
class Bool:
    """Clauses, each (occur, node) with occur "must", "should" or "not". With a "must", the
    "should" clauses only rank; without, at least one must match; "not" clauses alone leave
    everything else. `kind` says what made it: "seq" (juxtaposition), "and" or "or"."""

    clauses: tuple[tuple[str, "Node"], ...] = ()
    kind: str = "seq"


Node = Union[Text, Author, Category, Paper, Bool]


@dataclass(frozen=True)
class ParsedQuery:
    """A query read into its parts. `tree` is what to match and rank; `ids` the papers named by
    arXiv id at the top level (they come first); `categories` the top level's cat: (any of them,
    merged with the form's categories); `plain` the positive text, for the embedding model."""

    tree: Bool = field(default_factory=Bool)
    ids: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    plain: str = ""

    @property
    def has_text(self) -> bool:
        """Whether any words are searched for (else the query only filters)."""
        return any(isinstance(n, Text) for n in positive_leaves(self.tree))

    @property
    def has_guess(self) -> bool:
        return any(isinstance(n, Author) and n.guessed for n in positive_leaves(self.tree))

    @property
    def is_empty(self) -> bool:
        return not (self.tree.clauses or self.ids or self.categories)


def positive_leaves(node: Node):
    """The leaves of a tree that are not excluded (under an even number of "not")."""
    stack = [(node, False)]
    while stack:
        item, negated = stack.pop()
        if isinstance(item, Bool):
            stack.extend((child, negated != (occur == "not")) for occur, child in reversed(item.clauses))
        elif not negated:
            yield item


# --- categories and arXiv ids --------------------------------------------------------------------------

_CATEGORY = re.compile(r"^[A-Za-z][A-Za-z-]*(\.[A-Za-z][A-Za-z-]*)?$")


def normalize_category(value: str) -> str:
    """arXiv's spelling of a category: archive in lower case, a short subject class in upper case
    (cs.cl -> cs.CL, math.ag -> math.AG; physics.acc-ph and hep-th stay as they are)."""
    archive, _, subject = value.partition(".")
    if not subject:
        return archive.lower()
    return f"{archive.lower()}.{subject.upper() if len(subject) <= 2 else subject.lower()}"


def check_category(value: str) -> str:
    """The category in arXiv's spelling (cs.* means the archive cs), or BadQuery."""
    value = (value or "").strip()
    if value.endswith(".*"):
        value = value[:-2]
    if not _CATEGORY.match(value):
        raise BadQuery(f"not an arXiv category: {value[:60]!r} (write cat:cs.CL, or cat:cs for all of cs)")
    return normalize_category(value)


_ARXIV = re.compile(
    r"""^(?:arxiv:
        | (?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html|format)/
        | (?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/papers/
        )?
        (?:(?P<new>(?P<yymm>\d{4})\.(?P<num>\d{4,5}))
          |(?P<archive>[a-z][a-z-]*)(?:\.(?P<subject>[a-z]{2}))?/(?P<old>(?P<yy>\d{2})(?P<mm>\d{2})\d{3}))
        (?:v\d{1,6})?(?:\.pdf)?/?(?:[?\#].*)?$""",
    re.IGNORECASE | re.VERBOSE,
)


def arxiv_id(token: str) -> str | None:
    """The arXiv id (without version) that a token names in any of its forms: 2503.11731,
    2503.11731v2, arXiv:2503.11731, abs/pdf/html URLs of arxiv.org, Hugging Face paper URLs, and
    old-style hep-th/9901001 or math.GT/0309136; None when it names none."""
    m = _ARXIV.match(token.strip().rstrip(".,;:!?"))
    if not m:
        return None
    if m.group("new"):
        yymm, num = m.group("yymm"), m.group("num")
        year, month = int(yymm[:2]), int(yymm[2:])
        if not 1 <= month <= 12 or (year, month) < (7, 4) or len(num) != (5 if yymm >= "1501" else 4):
            return None
        return m.group("new")
    year, month = int(m.group("yy")), int(m.group("mm"))
    if not 1 <= month <= 12 or 8 <= year <= 90:  # old-style ids ran from 1991 to March 2007
        return None
    subject = m.group("subject")
    return m.group("archive").lower() + (f".{subject.upper()}" if subject else "") + "/" + m.group("old")


def words_of(text: str) -> tuple[str, ...]:
    """The lower-cased \\w+ words of a text."""
    return tuple(w.lower() for w in _WORD.findall(text))


def plain_text(tree: Bool) -> str:
    """The positive text of a tree, as typed: what the embedding model reads (no operators, no
    excluded words, no authors, categories or ids)."""
    return " ".join(n.raw for n in positive_leaves(tree) if isinstance(n, Text) and n.raw).strip()
