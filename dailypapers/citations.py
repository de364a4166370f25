"""Citations: papers written as BibTeX, RIS and CSL-JSON the way reference managers (Zotero,
Mendeley, Paperpile) import them, and such files read back into arXiv ids and titles, whoever
wrote them (Zotero's exports of each format included), plus plain lists of arXiv ids or URLs.

Written and read with well-kept libraries: bibtexparser 2 for BibTeX, rispy for RIS; CSL-JSON is
plain JSON. An arXiv paper is cited as arXiv itself cites it: `@misc` with eprint, archivePrefix
and primaryClass, its DataCite DOI (10.48550/arXiv.ID) and its abstract page's URL; authors as
"Last, First and ...". Ground module: it knows nothing of the store."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .arxiv import id_month, split_arxiv_id
from .errors import DailyPapersError, InvalidRecord

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
FORMATS = {"bib": "BibTeX", "ris": "RIS", "json": "CSL-JSON"}
MEDIA_TYPES = {
    "bib": "application/x-bibtex; charset=utf-8",
    "ris": "application/x-research-info-systems; charset=utf-8",
    "json": "application/vnd.citationstyles.csl+json; charset=utf-8",
}
MAX_ENTRIES = 5_000  # entries one import may hold

# Surname particles that belong to the surname ("Ludwig van Beethoven" -> "van Beethoven, Ludwig").
PARTICLES = frozenset({"van", "von", "der", "den", "de", "del", "della", "da", "di", "du", "dos", "das", "la", "le", "ter", "ten", "zu", "al", "el", "bin", "ibn"})
SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})


class CitationError(DailyPapersError):
    """A file that cannot be read as any citation format (one line, shown as it is)."""


@dataclass(frozen=True)
class Cited:
    """What a citation says of a paper: the fields every format writes."""

    arxiv_id: str
    title: str
    authors: tuple[str, ...]
    published: dt.date | None = None
    primary_category: str | None = None
    abstract: str | None = None
    journal_ref: str | None = None

    @property
    def year_month(self) -> tuple[int, int] | None:
        """When the paper was first submitted: its date, else the month its arXiv id names."""
        if self.published:
            return self.published.year, self.published.month
        try:
            return id_month(self.arxiv_id)
        except InvalidRecord:
            return None

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}"

    @property
    def doi(self) -> str:
        """arXiv's DataCite DOI of the paper (every arXiv paper has one)."""
        return f"10.48550/arXiv.{self.arxiv_id}"


def cited(paper) -> Cited:
    """A store card (types.PaperCard or PaperFull) as a citation."""
    published = getattr(paper, "published_at", None)
    return Cited(
        arxiv_id=paper.arxiv_id,
        title=" ".join((paper.title or "").split()),
        authors=tuple(a["name"] for a in paper.authors or () if a.get("name")),
        published=published.date() if isinstance(published, dt.datetime) else published,
        primary_category=paper.primary_category or (paper.categories[0] if paper.categories else None),
        abstract=" ".join((paper.abstract or "").split()) or None,
        journal_ref=getattr(paper, "journal_ref", None),
    )


# --- names -------------------------------------------------------------------------------------


def split_name(name: str) -> tuple[str, str]:
    """(family, given) of a name as arXiv writes it ("Given Names Surname"); "Surname, Given" is
    taken as written. Particles join the surname, suffixes stay after it ("King, Jr.")."""
    name = " ".join(name.split())
    if "," in name:
        family, _, given = name.partition(",")
        return family.strip(), given.strip()
    words = name.split(" ")
    if len(words) == 1:
        return name, ""
    suffix = ""
    if len(words) > 2 and words[-1].lower() in SUFFIXES:
        suffix, words = words[-1], words[:-1]
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in PARTICLES:
        start -= 1
    family = " ".join(words[start:]) + (f" {suffix}" if suffix else "")
    return family, " ".join(words[:start])


def bibtex_name(name: str) -> str:
    family, given = split_name(name)
    if " jr" in family.lower() or " sr" in family.lower() or family.lower().endswith((" ii", " iii", " iv")):
        base, _, suffix = family.rpartition(" ")
        return f"{tex_escape(base)}, {tex_escape(suffix)}, {tex_escape(given)}" if given else tex_escape(family)
    if " " in family and not given:
        return "{" + tex_escape(family) + "}"  # a one-part name of several words: keep it whole
    return f"{tex_escape(family)}, {tex_escape(given)}" if given else tex_escape(family)


# --- BibTeX ------------------------------------------------------------------------------------

_SPECIAL = {"&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_"}
_TEXT_ONLY = {"~": r"{\textasciitilde}", "^": r"{\textasciicircum}", "<": r"{\textless}", ">": r"{\textgreater}"}


def _unmatched_braces(text: str) -> set[int]:
    """Positions of the braces that close nothing or are never closed (escaped ones aside)."""
    opened: list[int] = []
    lone: set[int] = set()
    escaped = False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "{":
            opened.append(i)
        elif ch == "}":
            if opened:
                opened.pop()
            else:
                lone.add(i)
    return lone | set(opened)


def tex_escape(text: str) -> str:
    """Text as a BibTeX field value holds it: LaTeX's special characters escaped outside math
    ($...$, kept as written, as arXiv's titles write formulas), commands already written in LaTeX
    (\\"o, \\alpha) kept, braces kept where they pair and escaped where they do not, so the value
    always parses as one group."""
    text = "".join(ch for ch in text if ch >= " " or ch in "\t\n").replace("\t", " ")
    dollars = [i for i, ch in enumerate(text) if ch == "$" and (i == 0 or text[i - 1] != "\\")]
    math_ok = len(dollars) % 2 == 0
    lone = _unmatched_braces(text)
    out: list[str] = []
    in_math = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            nxt = text[i + 1] if i + 1 < len(text) else ""
            if nxt.isalpha() or (nxt and nxt in "&%#_$\\{}\"'`^~=.,;: "):
                out.append(ch + nxt)
                i += 2
                continue
            out.append(r"{\textbackslash}")
        elif ch == "$":
            if math_ok:
                in_math = not in_math
                out.append(ch)
            else:
                out.append(r"\$")
        elif ch in "{}":
            out.append("\\" + ch if i in lone else ch)
        elif ch in _SPECIAL and not (in_math and ch == "_"):
            out.append(_SPECIAL[ch])
        elif ch in _TEXT_ONLY and not in_math:
            out.append(_TEXT_ONLY[ch])
        elif ch == "@":
            out.append("{@}")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _key_word(title: str) -> str:
    for word in re.findall(r"[A-Za-z]+", re.sub(r"\$[^$]*\$|\\[A-Za-z]+", " ", title)):
        if word.lower() not in {"a", "an", "the", "on", "of", "for", "in", "to", "and", "with", "towards", "toward"}:
            return word.lower()
    return "paper"


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def citation_key(c: Cited) -> str:
    """arXiv's own style: first author's surname, year, first significant word of the title."""
    surname = split_name(c.authors[0])[0] if c.authors else "anonymous"
    surname = re.sub(r"[^a-z]", "", _ascii(surname).lower()) or "anonymous"
    year = str(c.year_month[0]) if c.year_month else ""
    return f"{surname}{year}{_key_word(c.title)}"


def to_bibtex(papers: Iterable[Cited], *, abstracts: bool = True) -> str:
    """@misc entries as arXiv's "Export BibTeX citation" writes them, with the DOI, the URL, the
    month and the abstract added (and the journal reference, when there is one, as the note); keys
    unique within the file (a, b, ... after a repeated one). Without `abstracts`, as short as
    arXiv's own (a paper page's Cite box)."""
    import bibtexparser
    from bibtexparser.model import Entry, Field

    library = bibtexparser.Library()
    used: dict[str, int] = {}
    for c in papers:
        key = citation_key(c)
        n = used.get(key, 0)
        used[key] = n + 1
        if n:
            key += _suffix(n)
        fields = [
            ("title", tex_escape(c.title)),
            ("author", " and ".join(bibtex_name(a) for a in c.authors) or "{Anonymous}"),
            ("year", str(c.year_month[0]) if c.year_month else None),
            ("month", MONTHS[c.year_month[1] - 1] if c.year_month else None),
            ("eprint", c.arxiv_id),
            ("archivePrefix", "arXiv"),
            ("primaryClass", c.primary_category),
            ("doi", c.doi),
            ("url", c.url),
            ("note", tex_escape(c.journal_ref) if c.journal_ref else None),  # where it was published
            ("abstract", tex_escape(c.abstract) if c.abstract and abstracts else None),
        ]
        # A month is a BibTeX macro (jan, feb, ...), written bare; the rest in braces.
        entry = Entry("misc", key, [Field(k, v if k == "month" else "{" + v + "}") for k, v in fields if v])
        library.add(entry)
    fmt = bibtexparser.BibtexFormat()
    fmt.indent = "  "
    fmt.block_separator = "\n"
    # Values are enclosed here (month bare, as the macro it is): no enclosing middleware.
    return bibtexparser.write_string(library, unparse_stack=[], bibtex_format=fmt)


def _suffix(n: int) -> str:
    letters = ""
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(ord("a") + r) + letters
    return letters


# --- RIS and CSL-JSON --------------------------------------------------------------------------


def to_ris(papers: Iterable[Cited]) -> str:
    """RIS records as reference managers file arXiv preprints: TY JOUR with the journal "arXiv
    preprint arXiv:ID" (as Google Scholar writes it, so a formatted citation names the preprint),
    the arXiv id as accession number and note, the DOI and URL."""
    import rispy

    records = []
    for c in papers:
        family_given = [split_name(a) for a in c.authors]
        record = {
            "type_of_reference": "JOUR",
            "title": c.title,
            "authors": [f"{f}, {g}" if g else f for f, g in family_given],
            "journal_name": f"arXiv preprint arXiv:{c.arxiv_id}",
            "publisher": "arXiv",
            "doi": c.doi,
            "urls": [c.url],
            "accession_number": c.arxiv_id,
            "notes": [f"arXiv:{c.arxiv_id}" + (f" [{c.primary_category}]" if c.primary_category else "")]
            + ([c.journal_ref] if c.journal_ref else []),
        }
        if c.year_month:
            record["year"] = str(c.year_month[0])
            record["date"] = c.published.strftime("%Y/%m/%d") if c.published else f"{c.year_month[0]}/{c.year_month[1]:02d}"
        if c.abstract:
            record["abstract"] = c.abstract
        if c.primary_category:
            record["keywords"] = [c.primary_category]
        records.append(record)
    return rispy.dumps(records) if records else ""


def csl_items(papers: Iterable[Cited]) -> list[dict]:
    """CSL-JSON items as Zotero exports a preprint: type "article", arXiv the publisher, the id
    as "arXiv:ID" in number."""
    items = []
    used: dict[str, int] = {}
    for c in papers:
        key = citation_key(c)
        n = used.get(key, 0)
        used[key] = n + 1
        item = {
            "id": key + (_suffix(n) if n else ""),
            "type": "article",
            "title": c.title,
            "author": [{"family": f, "given": g} if g else {"literal": f} for f, g in (split_name(a) for a in c.authors)],
            "publisher": "arXiv",
            "number": f"arXiv:{c.arxiv_id}",
            "DOI": c.doi,
            "URL": c.url,
            "source": "arXiv.org",
        }
        if c.published:
            item["issued"] = {"date-parts": [[c.published.year, c.published.month, c.published.day]]}
        elif c.year_month:
            item["issued"] = {"date-parts": [list(c.year_month)]}
        if c.abstract:
            item["abstract"] = c.abstract
        if c.primary_category:
            item["keyword"] = c.primary_category
        if c.journal_ref:
            item["note"] = c.journal_ref
        items.append(item)
    return items


def to_csl_json(papers: Iterable[Cited]) -> str:
    return json.dumps(csl_items(papers), ensure_ascii=False, indent=2) + "\n"


def export(kind: str, papers: Sequence[Cited]) -> str:
    if kind == "bib":
        return to_bibtex(papers)
    if kind == "ris":
        return to_ris(papers)
    if kind == "json":
        return to_csl_json(papers)
    raise CitationError(f"exports are {', '.join(FORMATS)}")


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One entry of an imported file: where it was, how the report names it, and what can place
    it (an arXiv id, else a title)."""

    number: int  # 1, 2, ... in the file's order
    label: str
    arxiv_id: str | None = None
    title: str | None = None
    problem: str | None = None  # why it cannot be placed whatever the store holds


_ID_IN_TEXT = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf|html)/|arxiv[:\s.]*|10\.48550/arxiv\.)"
    r"([a-z][a-z-]*(?:\.[a-z]{2})?/\d{7}|\d{4}\.\d{4,5})(?:v\d+)?",
    re.IGNORECASE,
)
_BARE_ID = re.compile(r"^(?:[a-z][a-z-]*(?:\.[A-Za-z]{2})?/\d{7}|\d{4}\.\d{4,5})(?:v\d+)?$")


def arxiv_id_in(*texts: str | None) -> str | None:
    """The first arXiv id any of the texts names (an abs/pdf URL, the arXiv DOI, "arXiv:ID")."""
    for text in texts:
        if not text:
            continue
        m = _ID_IN_TEXT.search(text)
        if m:
            try:
                return split_arxiv_id(m.group(1))[0]
            except InvalidRecord:
                continue
    return None


def _bare_id(value: str | None) -> str | None:
    value = (value or "").strip()
    if value.lower().startswith("arxiv:"):
        value = value[6:]
    if _BARE_ID.match(value):
        try:
            return split_arxiv_id(value)[0]
        except InvalidRecord:
            return None
    return None


def _plain(text: str) -> str:
    """A BibTeX value as plain text: escapes, accents and text commands decoded (pylatexenc),
    math kept as written, braces gone."""
    if "\\" in text or "{" in text:
        from pylatexenc.latex2text import LatexNodes2Text

        try:
            text = re.sub(r"(?<!\\)%", r"\\%", text)  # a bare % in a value is text, not a comment
            text = LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=True).latex_to_text(text)
        except Exception:  # noqa: BLE001 - pylatexenc gives up on odd input: fall back to the raw text
            pass
    return " ".join(text.split())


def title_key(title: str) -> str:
    """A title folded for matching: LaTeX decoded, math and punctuation and case and accents gone."""
    text = unicodedata.normalize("NFKD", re.sub(r"\\[A-Za-z]+", "", title))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return "".join(ch for ch in text if ch.isalnum() and unicodedata.category(ch) != "Lm")


def _label(title: str | None, fallback: str) -> str:
    text = " ".join(title.split()) if title else fallback
    return text if len(text) <= 120 else text[:119] + "…"


def _entry(
    number: int, *, title: str | None, ids: Sequence[str | None], fallback: str, eprint: str | None = None,
    prefix: str | None = None,
) -> Entry:
    arxiv_id = None
    if eprint and (prefix is None or prefix.lower() == "arxiv"):
        arxiv_id = _bare_id(eprint) or arxiv_id_in(eprint)
    arxiv_id = arxiv_id or arxiv_id_in(*ids)
    title = " ".join(title.split()) if title else None
    problem = None if arxiv_id or title else "no arXiv id and no title"
    return Entry(number, _label(title, arxiv_id or fallback), arxiv_id, title, problem)


def detect(text: str) -> str:
    """The format of an imported text: bibtex, ris, csl-json or ids."""
    body = text.lstrip("\ufeff \t\r\n")
    if body[:1] in "[{":
        return "csl-json"
    if re.search(r"^\s*TY {1,2}- ", body, re.M):
        return "ris"
    if re.search(r"^\s*@[A-Za-z]+\s*[{(]", body, re.M):
        return "bibtex"
    return "ids"


def read(text: str) -> tuple[str, list[Entry]]:
    """(format, entries) of an imported text; CitationError for a file that cannot be read as its
    format (nothing of it is used then)."""
    kind = detect(text)
    entries = {"bibtex": read_bibtex, "ris": read_ris, "csl-json": read_csl_json, "ids": read_ids}[kind](text.lstrip("\ufeff"))
    if not entries:
        raise CitationError(f"the {kind.replace('ids', 'list')} holds no entries")
    if len(entries) > MAX_ENTRIES:
        raise CitationError(f"at most {MAX_ENTRIES:,} entries can be imported at once; this file has {len(entries):,}")
    return kind, entries


def read_bibtex(text: str) -> list[Entry]:
    import bibtexparser

    try:
        library = bibtexparser.parse_string(text)
    except Exception as exc:  # noqa: BLE001 - the parser's own errors vary
        raise CitationError(f"not readable as BibTeX: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    if library.failed_blocks:
        block = library.failed_blocks[0]
        line = getattr(block, "start_line", None)
        where = f" at line {line + 1}" if isinstance(line, int) else ""
        raise CitationError(f"BibTeX entry{where} cannot be read ({type(block).__name__}); nothing was imported")
    out = []
    for number, entry in enumerate(library.entries, 1):
        f = {k.lower(): (v.value if isinstance(v.value, str) else str(v.value)) for k, v in entry.fields_dict.items()}
        title = _plain(f["title"]) if f.get("title") else None
        out.append(
            _entry(
                number, title=title, fallback=f"@{entry.entry_type}{{{entry.key}}}",
                eprint=f.get("eprint"), prefix=f.get("archiveprefix") or f.get("eprinttype"),
                ids=[f.get("doi"), f.get("url"), f.get("note"), f.get("journal"), f.get("number"), f.get("howpublished"), f.get("arxivid"), entry.key],
            )
        )
    return out


def read_ris(text: str) -> list[Entry]:
    import rispy

    try:
        records = rispy.loads(text, skip_unknown_tags=True)
    except Exception as exc:  # noqa: BLE001 - rispy raises IOError and others for malformed files
        raise CitationError(f"not readable as RIS: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    out = []
    for number, r in enumerate(records, 1):
        title = r.get("title") or r.get("primary_title") or r.get("translated_title")
        urls = r.get("urls") or []
        notes = r.get("notes") or []
        ids = [r.get("doi"), *urls, r.get("number"), r.get("journal_name"), r.get("secondary_title"), r.get("note"), *notes,
               r.get("accession_number"), r.get("id")]
        out.append(_entry(number, title=title, ids=[str(x) for x in ids if x], fallback=f"record {number}",
                          eprint=r.get("accession_number") if _bare_id(r.get("accession_number")) else None))
    return out


def read_csl_json(text: str) -> list[Entry]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CitationError(f"not readable as CSL-JSON: {exc}") from None
    if isinstance(data, dict):
        data = data.get("items", [data]) if "items" in data or "title" in data or "id" in data else None
    if not isinstance(data, list) or not all(isinstance(i, dict) for i in data):
        raise CitationError("not readable as CSL-JSON: expected a list of items")
    out = []
    for number, item in enumerate(data, 1):
        def s(key):
            value = item.get(key)
            return value if isinstance(value, str) else None

        out.append(
            _entry(number, title=s("title"), fallback=f"item {number}",
                   ids=[s("DOI"), s("URL"), s("number"), s("archive_location"), s("note"), s("container-title"), s("id")])
        )
    return out


def read_ids(text: str) -> list[Entry]:
    """A plain list: arXiv ids or arXiv URLs, one a line (or separated by spaces or commas)."""
    out = []
    for number, token in enumerate((t for t in re.split(r"[\s,;]+", text) if t), 1):
        found = _bare_id(token) or arxiv_id_in(token)
        if found:
            out.append(Entry(number, found, found))
        else:
            shown = token if len(token) <= 80 else token[:79] + "…"
            out.append(Entry(number, shown, problem="not an arXiv id or arXiv URL"))
    if out and not any(e.arxiv_id for e in out):
        raise CitationError("not BibTeX, RIS, CSL-JSON or a list of arXiv ids or URLs")
    return out
