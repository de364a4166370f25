"""The search box's query language, as arXiv users type it, read into a tree (pure: no index here;
`queries.py` turns the tree into tantivy queries through its Query API, never its query parser; the
tree itself is `querytree.py`).

    quokka detection            words: each helps a paper rank, at least one must match
    "sparse attention"          a phrase: required, these words in this order
    ti:word  abs:word  co:word  jr:word  rn:word  all:word
                                the title, abstract, comments, journal reference, report number, or
                                any of them (also title:, abstract:, comment:); a "phrase" or a
                                (group) may follow the colon; required
    au:Hinton  au:"V. M. Patel"  au:del_maestro  author:"Patel, V."
                                an author: accents fold, initials match names (names.py); required
    cat:cs.CL  cat:cs           a category, or a whole archive; several at the top level: any of them
    2503.11731  arXiv:2503.11731v2  https://arxiv.org/abs/2503.11731  hep-th/9901001  id:2503.11731
                                that paper, first
    a AND b   a OR b   a ANDNOT b   NOT a   -a   -"a phrase"   -au:Name   ( ... )
                                arXiv's operators, in upper case. AND and ANDNOT bind tighter than OR,
                                and OR tighter than plain juxtaposition: `au:Hinton OR au:LeCun deep
                                learning` is (Hinton or LeCun) with the words deep, learning
    V. M. Patel   Patel, V.   Andre Freitas
                                a query that is only a person's name searches for that author (when
                                some author has the name; otherwise its words)

Any text is read: a stray quote or parenthesis, or an operator with nothing to join, counts for
nothing (or as a plain word). Only what cannot be searched at all raises BadQuery: an empty ti:, a
cat: that is no category, an id: that is no arXiv id, a query too long, too deeply nested or with too
many terms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The tree and its pure helpers live in querytree.py; callers import them through here too.
from .querytree import (  # noqa: F401
    Author,
    BadQuery,
    Bool,
    Category,
    Node,
    Paper,
    ParsedQuery,
    Text,
    arxiv_id,
    check_category,
    normalize_category,
    plain_text,
    positive_leaves,
    words_of,
)

MAX_QUERY_CHARS = 4000
MAX_WORDS = 64  # free words beyond these add little to BM25 and only cost time: dropped
MAX_TERMS = 64  # anything else (phrases, fields, groups) beyond these: BadQuery
MAX_DEPTH = 16  # nested parentheses


# --- reading ---------------------------------------------------------------------------------------------

FIELDS = {
    "ti": "ti", "title": "ti",
    "abs": "abs", "abstract": "abs",
    "co": "co", "comment": "co", "comments": "co",
    "jr": "jr", "rn": "rn", "all": "all",
    "au": "au", "author": "au", "authors": "au",
    "cat": "cat", "category": "cat",
    "id": "id",
}  # fmt: skip
OPERATORS = ("AND", "OR", "ANDNOT", "NOT")
_WORD = re.compile(r"\w+")
_INITIALS = re.compile(r"^(?:(?:[A-Z]\.-?)+|[A-Z])$")  # V. / V / V.M. / J.-F.


@dataclass(frozen=True)
class _Tok:
    kind: str  # "(" ")" "-" "op" "field" "phrase" "word"
    text: str = ""


_SCAN = re.compile(
    r'(?P<space>\s+)|(?P<paren>[()])|"(?P<phrase>[^"]*)"|(?P<quote>")'
    r"|(?P<field>(?i:" + "|".join(sorted(FIELDS, key=len, reverse=True)) + r"):)"
    r'|(?P<word>[^\s()"]+)'
)


def _lex(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        m = _SCAN.match(text, i)
        kind = m.lastgroup
        if kind == "word" and text[i] == "-" and (i == 0 or text[i - 1].isspace() or text[i - 1] == "("):
            # A dash excludes at the start of a term; "(H2A)-histone" is a compound, -2 a number.
            j = i
            while j < n and text[j] == "-":
                j += 1
            if j == n or text[j].isspace():
                i = j  # a lone dash
                continue
            if not text[j].isdigit():
                out.append(_Tok("-"))
                i = j
                continue
        i = m.end()
        if kind == "paren":
            out.append(_Tok(m.group()))
        elif kind == "phrase":
            out.append(_Tok("phrase", m.group("phrase")))
        elif kind == "quote" and out and out[-1].kind == "field":  # au:"First Last with no closing quote
            out.append(_Tok("phrase", text[i:]))
            i = n
        elif kind == "field":
            out.append(_Tok("field", FIELDS[m.group()[:-1].lower()]))
        elif kind == "word":
            word = m.group()
            out.append(_Tok("op" if word in OPERATORS else "word", word))
    return out  # spaces and stray quotes count for nothing


Item = tuple[str, Node]  # (occur, node)


class _Reader:
    """A recursive-descent reader over the tokens: seq := or+ ; or := and (OR and)* ;
    and := unary ((AND | ANDNOT) unary)* ; unary := (- | NOT)* primary ;
    primary := ( seq ) | field:value | field:( seq ) | "phrase" | word."""

    def __init__(self, tokens: list[_Tok]):
        self.tokens = tokens
        self.at = 0
        self.depth = 0
        self.terms = 0

    def peek(self) -> _Tok | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def seq(self, scope: str) -> list[Item]:
        items: list[Item] = []
        while (tok := self.peek()) is not None:
            if tok.kind == ")":
                if self.depth:
                    break
                self.at += 1  # a stray closing parenthesis
                continue
            item = self.or_(scope)
            if item is None:
                continue
            occur, node = item
            if occur == "must" and isinstance(node, Bool) and node.kind == "seq" and _only_words(node):
                items.extend(node.clauses)  # (plain words in parentheses) are plain words
            else:
                items.append(item)
        return items

    def or_(self, scope: str) -> Item | None:
        operands = [x for x in [self.and_(scope)] if x is not None]
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.text == "OR":
            self.at += 1
            right = self.and_(scope)
            if right is not None:
                operands.append(right)
        if len(operands) <= 1:
            return operands[0] if operands else None
        return "must", Bool(tuple(("should", _alone(item)) for item in operands), "or")

    def and_(self, scope: str) -> Item | None:
        first = self.unary(scope)
        clauses = [first] if first is not None else []
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.text in ("AND", "ANDNOT"):
            self.at += 1
            right = self.unary(scope)
            if right is None:
                continue
            if tok.text == "ANDNOT":
                right = ("must" if right[0] == "not" else "not", right[1])
            clauses.append(_required(right))
        if len(clauses) <= 1:
            return clauses[0] if clauses else None
        return "must", Bool(tuple(_required(c) for c in clauses), "and")

    def unary(self, scope: str) -> Item | None:
        negated = False
        while (tok := self.peek()) is not None and (tok.kind == "-" or (tok.kind == "op" and tok.text == "NOT")):
            self.at += 1
            negated = not negated
        item = self.primary(scope)
        if item is None or not negated:
            return item
        return _required(("not", item[1]))

    def primary(self, scope: str) -> Item | None:
        tok = self.peek()
        if tok is None or tok.kind in (")", "-"):
            return None
        self.at += 1
        if tok.kind == "(":
            return self.group(scope)
        if tok.kind == "field":
            return self.field(tok.text)
        if tok.kind == "phrase":
            return self.value(scope, tok.text, quoted=True)
        return self.value(scope, tok.text, quoted=False)  # a word, or an operator with nothing to join

    def group(self, scope: str) -> Item | None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise BadQuery(f"parentheses nested too deeply (at most {MAX_DEPTH} levels)")
        items = self.seq(scope)
        self.depth -= 1
        if (tok := self.peek()) is not None and tok.kind == ")":
            self.at += 1
        if not items:
            return None
        if len(items) == 1 and items[0][0] != "should":
            return items[0]
        return "must", Bool(tuple(items), "seq")

    def field(self, name: str) -> Item | None:
        tok = self.peek()
        if tok is None or tok.kind not in ("(", "phrase", "word"):
            raise BadQuery(f'{name}: needs a word, a "phrase" or a (group) after it, as in {EXAMPLES[name]}')
        self.at += 1
        if tok.kind == "(":
            return self.group(name)
        item = self.value(name, tok.text, quoted=tok.kind == "phrase")
        if item is None:
            raise BadQuery(f"{name}: needs words after it, as in {EXAMPLES[name]}")
        return _required(item)

    def value(self, scope: str, text: str, *, quoted: bool) -> Item | None:
        """One word or phrase, read as what its scope asks for."""
        self.terms += 1
        if scope == "au":
            name = " ".join(text.replace("_", " ").split())
            return ("must", Author(name)) if _WORD.search(name) else None
        if scope == "cat":
            return "must", Category(check_category(text))
        if scope == "id":
            found = arxiv_id(text)
            if found is None:
                raise BadQuery(f"id: needs an arXiv id: {text[:60]!r} is not an arXiv id (write id:2503.11731)")
            return "must", Paper(found)
        if scope == "any" and not quoted and (found := arxiv_id(text)) is not None:
            return "must", Paper(found)
        words = words_of(text)
        if not words:
            return None
        if quoted:
            return "must", Text(scope, words, True, text)
        self.terms -= 1  # plain words are counted (and capped) apart
        return "should", Text(scope, words, False, text)


EXAMPLES = {
    "ti": "ti:transformer", "abs": "abs:diffusion", "co": "co:CVPR", "jr": "jr:Nature", "rn": "rn:CERN",
    "all": "all:quokka", "au": 'au:Hinton or au:"Geoffrey Hinton"', "cat": "cat:cs.CL", "id": "id:2503.11731",
}  # fmt: skip


def _only_words(node: Bool) -> bool:
    return all(occur == "should" and isinstance(n, Text) and n.scope == "any" for occur, n in node.clauses)


def _required(item: Item) -> Item:
    """An item that must match (or must not): several plain words written as one (self-supervised)
    become a phrase."""
    occur, node = item
    if isinstance(node, Text) and not node.phrase:
        node = Text(node.scope, node.words, len(node.words) > 1, node.raw)
    return ("not" if occur == "not" else "must"), node


def _alone(item: Item) -> Node:
    """An operand of OR as a node of its own (an exclusion becomes "everything but")."""
    occur, node = _required(item)
    return Bool((("not", node),), "seq") if occur == "not" else node


def _looks_like_name(tokens: list[_Tok]) -> bool:
    """Whether a query of plain words is a person's name: Andre Freitas, V. M. Patel, Vishal M.
    Patel, J.-F. Aujol, Patel, V., Del Maestro, Adrian (capitalised words and initials)."""
    words = [t.text for t in tokens]
    if not 2 <= len(words) <= 5 or any(t.kind != "word" or arxiv_id(t.text) for t in tokens):
        return False

    def capitalised(w: str) -> bool:
        w = w.rstrip(",")
        return len(w) > 1 and w[0].isupper() and all(c.isalpha() or c in "-'’" for c in w) and not _INITIALS.match(w)

    commas = [i for i, w in enumerate(words) if w.endswith(",")]
    if commas:
        return len(commas) == 1 and commas[0] < len(words) - 1 and all(
            capitalised(w) or _INITIALS.match(w) for w in words
        ) and capitalised(words[0])
    return capitalised(words[-1]) and all(capitalised(w) or _INITIALS.match(w) for w in words[:-1])


def parse(text: str, *, syntax: bool = True) -> ParsedQuery:
    """Read a query (see the module's docstring). With `syntax` off, every \\w+ run is a plain
    word (benchmark queries are prose, not this language). Raises BadQuery for a query that cannot
    be searched, with the reason."""
    text = text or ""
    if len(text) > MAX_QUERY_CHARS:
        raise BadQuery(f"the query is too long ({len(text):,} characters; at most {MAX_QUERY_CHARS:,})")
    # Lone surrogates (from a command line's undecodable bytes) cannot reach the index or the model.
    text = text.encode("utf-8", "replace").decode("utf-8")
    if not syntax:
        words = words_of(text)[:MAX_WORDS]
        return ParsedQuery(Bool((("should", Text("any", words, False, text)),) if words else ()), plain=text.strip())
    tokens = _lex(text)
    name, tokens = _name_and_rest(tokens)
    reader = _Reader(tokens)
    if all(t.kind == "word" for t in tokens):  # the common case, plain words (and ids): read at once
        items = [item for t in tokens if (item := reader.value("any", t.text, quoted=False)) is not None]
    else:
        items = reader.seq("any")
    if reader.terms > MAX_TERMS:
        raise BadQuery(f"too many terms ({reader.terms}; at most {MAX_TERMS} phrases, fields and groups)")
    ids, categories, kept, words = [], [], [], 0
    for occur, node in items:
        if occur == "must" and isinstance(node, Paper):
            ids.append(node.arxiv_id)
        elif occur == "must" and isinstance(node, Category):
            categories.append(node.name)
        elif occur == "should" and isinstance(node, Text):
            room = MAX_WORDS - words
            if room > 0:
                kept.append((occur, node if len(node.words) <= room else Text(node.scope, node.words[:room], False, node.raw)))
                words += min(len(node.words), room)
        else:
            kept.append((occur, node))
    if name:
        kept.insert(0, ("must", Author(name, guessed=True)))
    tree = Bool(tuple(kept), "seq")
    return ParsedQuery(tree, tuple(dict.fromkeys(ids)), tuple(dict.fromkeys(categories)), plain_text(tree))


def _name_and_rest(tokens: list[_Tok]) -> tuple[str, list[_Tok]]:
    """A person's name that is the whole query but for cat: filters (a facet link adds those),
    and the tokens left to read; ("", tokens) when the query is not a name."""
    words, rest, i = [], [], 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == _Tok("field", "cat") and i + 1 < len(tokens) and tokens[i + 1].kind in ("word", "phrase"):
            rest += tokens[i : i + 2]
            i += 2
        elif tok.kind == "word":
            words.append(tok)
            i += 1
        else:
            return "", tokens
    if not _looks_like_name(words):
        return "", tokens
    return " ".join(t.text for t in words), rest


def lone_arxiv_id(text: str) -> str | None:
    """The arXiv id when a query is nothing but one (in any form, or as id:...), else None."""
    tokens = _lex((text or "")[:MAX_QUERY_CHARS])
    if len(tokens) == 1 and tokens[0].kind == "word":
        return arxiv_id(tokens[0].text)
    if len(tokens) == 2 and tokens[0] == _Tok("field", "id") and tokens[1].kind in ("word", "phrase"):
        return arxiv_id(tokens[1].text)
    return None
