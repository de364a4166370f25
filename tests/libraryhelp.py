"""Exports written the way Zotero 7 writes them, for the library's import tests: its built-in
BibTeX, RIS and CSL-JSON translators (export format, not Better BibTeX's), applied to
arXiv preprints that Zotero saved from arxiv.org (item type Preprint, repository arXiv, archive ID
"arXiv:ID", the DataCite DOI, the abs URL with http://, note "arXiv:ID [archive]", the arXiv
categories as Zotero's "Computer Science - ..." tags). They follow Zotero's export format field for
field (names, order, escaping, capitals protected in BibTeX titles, date forms), so the tests read
what a member's real export holds; they are made from papers of the real corpus, not copied."""

from __future__ import annotations

import datetime as dt
import json
import re

from dailypapers.arxiv import id_month
from dailypapers.citations import split_name

ARCHIVES = {"cs": "Computer Science", "math": "Mathematics", "stat": "Statistics", "physics": "Physics", "eess": "Electrical Engineering and Systems Science", "q-bio": "Quantitative Biology"}
ACCESSED = "2026-11-02"


def _archive(category: str | None) -> str:
    return (category or "cs").split(".")[0]


def _tags(paper) -> list[str]:
    return [f"{ARCHIVES.get(_archive(c), _archive(c))} - {c}" for c in paper.categories or []]


def _zotero_tex(text: str) -> str:
    """Zotero's BibTeX escaping: LaTeX specials escaped, capitals protected word by word."""
    out = []
    for ch in text:
        if ch in "#$%&_{}":
            out.append("\\" + ch)
        elif ch == "\\":
            out.append("{\\textbackslash}")
        elif ch == "^":
            out.append("{\\textasciicircum}")
        elif ch == "~":
            out.append("{\\textasciitilde}")
        else:
            out.append(ch)
    text = "".join(out)
    words = text.split(" ")
    return " ".join(w if i == 0 or not re.search(r"[A-Z]", w) else "{" + w + "}" for i, w in enumerate(words))


def _date(paper) -> dt.date:
    """When Zotero says the paper was published: arXiv's date of the first version (the month its
    id names when the corpus has no date)."""
    if paper.published_at:
        return paper.published_at.date()
    return dt.date(*id_month(paper.arxiv_id), 1)


def _key(paper) -> str:
    family = split_name(paper.authors[0]["name"])[0].lower() if paper.authors else "anonymous"
    word = next((w.lower() for w in re.findall(r"[A-Za-z]+", paper.title) if w.lower() not in {"a", "an", "the"}), "paper")
    return f"{re.sub(r'[^a-z]', '', family)}_{word}_{_date(paper).year}"


def zotero_bibtex(papers, extra: str = "") -> str:
    blocks = []
    for p in papers:
        date = _date(p)
        authors = " and ".join(", ".join(x for x in split_name(a["name"]) if x) for a in p.authors)
        fields = [
            ("title", "{" + _zotero_tex(p.title) + "}"),
            ("url", "{http://arxiv.org/abs/" + p.arxiv_id + "}"),
            ("doi", "{10.48550/arXiv." + p.arxiv_id + "}"),
            ("abstract", "{" + _zotero_tex(" ".join(p.abstract.split())) + "}"),
            ("urldate", "{" + ACCESSED + "}"),
            ("publisher", "{arXiv}"),
            ("author", "{" + authors + "}"),
            ("month", date.strftime("%b").lower()),
            ("year", "{" + str(date.year) + "}"),
            ("note", "{arXiv:" + p.arxiv_id + " [" + _archive(p.primary_category) + "]}"),
            ("keywords", "{" + ", ".join(_tags(p)) + "}"),
        ]
        body = "".join(f"\t{k} = {v},\n" for k, v in fields)
        blocks.append(f"\n@misc{{{_key(p)},\n{body}}}\n")
    return "".join(blocks) + extra


def zotero_ris(papers, extra: str = "") -> str:
    out = []
    for p in papers:
        date = _date(p)
        lines = ["TY  - PREPRINT", f"TI  - {p.title}"]
        lines += [f"AU  - {', '.join(x for x in split_name(a['name']) if x)}" for a in p.authors]
        lines += [
            f"AB  - {' '.join(p.abstract.split())}",
            f"DA  - {date:%Y/%m/%d}/",
            f"PY  - {date.year}",
            "DP  - arXiv.org",
            "PB  - arXiv",
            f"UR  - http://arxiv.org/abs/{p.arxiv_id}",
            f"Y2  - {ACCESSED.replace('-', '/')}/09:12:44",
            f"DO  - 10.48550/arXiv.{p.arxiv_id}",
            f"N1  - arXiv:{p.arxiv_id} [{_archive(p.primary_category)}]",
        ]
        lines += [f"KW  - {t}" for t in _tags(p)]
        lines.append("ER  - ")
        out.append("\n".join(lines) + "\n\n")
    return "".join(out) + extra


def zotero_csl(papers, extra: list[dict] | None = None) -> str:
    items = []
    for n, p in enumerate(papers):
        date = _date(p)
        y, m, d = date.year, date.month, date.day
        items.append({
            "id": f"http://zotero.org/users/local/kQ3xZp7R/items/{n:08X}",
            "type": "article",
            "abstract": " ".join(p.abstract.split()),
            "DOI": f"10.48550/arXiv.{p.arxiv_id}",
            "note": f"arXiv:{p.arxiv_id} [{_archive(p.primary_category)}]",
            "number": f"arXiv:{p.arxiv_id}",
            "publisher": "arXiv",
            "source": "arXiv.org",
            "title": p.title,
            "URL": f"http://arxiv.org/abs/{p.arxiv_id}",
            "author": [dict(zip(("family", "given"), split_name(a["name"]))) for a in p.authors],
            "accessed": {"date-parts": [["2026", 11, 2]]},
            "issued": {"date-parts": [[str(y), m, d]]},
        })
    return json.dumps(items + (extra or []), indent="\t", ensure_ascii=False)
