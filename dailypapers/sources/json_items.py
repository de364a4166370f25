"""The items of one JSON document that holds a list of them (HF daily_papers), decoded one at a
time, so that an item which cannot be read (nested too deeply, invalid, too large) costs only
itself: the reader skips to the end of that item and goes on with the next.

Each item is decoded by the standard library's decoder (`raw_decode` at the item's offset). Only
when an item fails is it skipped by counting brackets outside strings; where even that cannot find
the item's end (a broken string, a missing comma), the rest of the file is reported unreadable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ..types import Rejection
from .common import MAX_RECORD_BYTES

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")
# A whole string (escapes included) or one bracket: what counting brackets outside strings needs.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


def _space(text: str, pos: int) -> int:
    return _SPACE.match(text, pos).end()  # type: ignore[union-attr]


def _end_of_value(text: str, pos: int) -> int | None:
    """Where the array or object starting at `pos` ends, brackets counted outside strings; None
    when it is not one or never closes."""
    if text[pos : pos + 1] not in ("[", "{"):
        return None
    depth = 0
    for match in _TOKEN.finditer(text, pos):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
        elif token in ("]", "}"):
            depth -= 1
            if depth == 0:
                return match.end()
    return None


def _decode(text: str, pos: int, position: str) -> tuple[Any, int | None]:
    """(the value, where it ends), or (a Rejection, where the bad item ends or None)."""
    try:
        value, end = _DECODER.raw_decode(text, pos)
    except RecursionError:
        reason = "invalid JSON: nested too deeply"
    except json.JSONDecodeError as exc:
        reason = f"invalid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})"
    except ValueError as exc:  # an integer of over 4,300 digits
        reason = f"invalid JSON: {str(exc).split(';')[0]}"
    else:
        if end - pos > MAX_RECORD_BYTES:
            return Rejection(position, f"{end - pos:,} characters, more than the {MAX_RECORD_BYTES:,} an item may take"), end
        return value, end
    return Rejection(position, reason), _end_of_value(text, pos)


def items(data: bytes) -> Iterator[tuple[str, Any]]:
    """(position, decoded item or Rejection) for each item of a JSON list, or of a lone object.
    Bytes that are not UTF-8 become lone surrogates, which validation rejects with their item."""
    text = data.decode("utf-8", "surrogateescape").lstrip("\ufeff")
    pos = _space(text, 0)
    if text.startswith("{", pos):
        value, end = _decode(text, pos, "item 0")
        yield "item 0", value
        if end is not None and _space(text, end) != len(text):
            yield "file", Rejection("file", "unexpected data after the first object")
        return
    if not text.startswith("[", pos):
        yield "file", Rejection("file", "not a JSON list of items")
        return
    pos = _space(text, pos + 1)
    if text.startswith("]", pos):
        return
    index = 0
    while True:
        position = f"item {index}"
        value, end = _decode(text, pos, position)
        if end is None:  # a bad item whose end cannot be found: nothing after it can be trusted
            yield position, Rejection(position, f"{value.reason}; the rest of the file is unreadable")
            return
        yield position, value
        end = _space(text, end)
        if end >= len(text):
            yield "file", Rejection("file", f"the list ends after item {index} without its closing bracket (cut short?)")
            return
        if text[end] not in ",]":
            yield "file", Rejection(f"item {index + 1}", f"invalid JSON after item {index}; the rest of the file is unreadable")
            return
        if text[end] == "]":
            if _space(text, end + 1) != len(text):
                yield "file", Rejection("file", "unexpected data after the list of items")
            return
        pos = _space(text, end + 1)
        index += 1
