"""arXiv ids, versions, categories and the dates records carry: shared by every layer (the source
parsers, ingest, the web pages), importing nothing of ours but errors.py."""

from __future__ import annotations

import datetime as dt
import re

from .errors import InvalidRecord, shown

# ASCII digits only: \d would also take other scripts' digits, which int() reads but arXiv never uses.
NEW_ID = re.compile(r"^(\d{4}\.\d{4,5})(?:v(\d+))?$", re.ASCII)
# Old-style archives are at most 8 letters (cond-mat, plasm-ph); 16 keeps ids within their column.
OLD_ID = re.compile(r"^([a-z][a-z-]{0,15}(?:\.[A-Za-z]{2})?/\d{7})(?:v(\d+))?$", re.ASCII)
# arXiv categories (cs.CL, hep-th, cond-mat.str-el); listings sometimes mix in MSC or ACM classes.
CATEGORY = re.compile(r"^[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z]+(?:-[a-z]+)?)?$")
_ID_PREFIX = re.compile(r"^(?:arxiv:|oai:arxiv\.org:|https?://(?:export\.)?arxiv\.org/(?:abs|pdf)/)", re.IGNORECASE)

# Highest version number accepted (arXiv papers rarely pass v30).
MAX_VERSION = 1_000
_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def parse_version(label: str) -> int:
    """'v3' or '3' -> 3; anything else, 0, or a number above MAX_VERSION is an InvalidRecord."""
    digits = label[1:] if label[:1] in ("v", "V") else label
    if not _DIGITS.fullmatch(digits):
        raise InvalidRecord(f"bad version label {shown(label)}")
    if len(digits) > 6 or not 1 <= int(digits) <= MAX_VERSION:
        raise InvalidRecord(f"version {shown(digits, 30)} is not between 1 and {MAX_VERSION:,}")
    return int(digits)


def split_arxiv_id(raw: str) -> tuple[str, int | None]:
    """'2410.17243v2' -> ('2410.17243', 2); accepts arxiv:, oai: and abs/pdf URL forms."""
    value = _ID_PREFIX.sub("", raw.strip())
    if value.endswith(".pdf"):
        value = value[:-4]
    m = NEW_ID.match(value) or OLD_ID.match(value)
    if not m:
        raise InvalidRecord(f"not an arXiv identifier: {shown(raw)}")
    return m.group(1), parse_version(m.group(2)) if m.group(2) else None


def id_month(raw: str) -> tuple[int, int]:
    """The (year, month) an arXiv id names: the month the paper was first submitted.
    '2505.17282' -> (2025, 5) (YYMM.NNNNN, from April 2007); 'hep-th/9901001' -> (1999, 1)
    (archive/YYMMNNN, 1991 to March 2007). Raises InvalidRecord for anything else."""
    arxiv_id, _ = split_arxiv_id(raw)
    digits = arxiv_id.rsplit("/", 1)[-1]
    yy, month = int(digits[:2]), int(digits[2:4])
    year = 1900 + yy if "/" in arxiv_id and yy >= 91 else 2000 + yy
    if not 1 <= month <= 12:
        raise InvalidRecord(f"not an arXiv identifier (no month {month:02d}): {raw!r}")
    return year, month


def could_exist(raw: str, today: dt.date) -> bool:
    """Whether arXiv can have issued this id by `today`: a real month, not to come (a day of
    grace for time zones), in the scheme of its time (archive/YYMMNNN from 1991-08 to 2007-03,
    YYMM.NNNN from 2007-04, YYMM.NNNNN from 2015-01)."""
    try:
        year, month = id_month(raw)
    except InvalidRecord:
        return False
    arxiv_id = split_arxiv_id(raw)[0]
    latest = today + dt.timedelta(days=1)
    if (year, month) > (latest.year, latest.month):
        return False
    if "/" in arxiv_id:
        return (1991, 8) <= (year, month) <= (2007, 3)
    digits = len(arxiv_id.split(".", 1)[1])
    return (year, month) >= (2007, 4) and digits == (5 if (year, month) >= (2015, 1) else 4)


def parse_datetime(value: str | None) -> dt.datetime | None:
    """ISO 8601 (with Z or an offset) or RFC 2822 (the snapshot's versions), as naive UTC."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidRecord(f"not a date: {shown(value)}")
    value = value.strip()
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError) as exc:  # email's parser raises all of these
            raise InvalidRecord(f"not a date: {shown(value)}") from exc
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
        except OverflowError:
            raise InvalidRecord(f"date out of range: {shown(value)}") from None
    return parsed


def parse_date(value: str | None) -> dt.date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidRecord(f"not a date: {shown(value)}")
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError as exc:
        raise InvalidRecord(f"not a date: {shown(value)}") from exc
