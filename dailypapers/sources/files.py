"""Input files: open (plain or gzip), recognise the format by content, and parse."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import SourceError, UnknownFormatError
from . import arxiv_api, hf_daily, jsonlines, oai_pmh
from .common import Item

KNOWN = "an arXiv API Atom feed, an OAI-PMH response, snapshot or listing JSON lines, or HF daily_papers JSON"


@dataclass(frozen=True)
class InputFile:
    path: Path
    format: str  # arxiv-api | oai-pmh | snapshot | listing | hf-daily
    compressed: bool

    def open(self) -> "CountingReader":
        raw = open(self.path, "rb")  # noqa: SIM115 - closed by the caller through the reader
        return CountingReader(raw, gzip.GzipFile(fileobj=raw) if self.compressed else raw, self.path)

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def parse(self, stream: IO[bytes]) -> Iterator[Item]:
        return PARSERS[self.format](stream)


class CountingReader(io.RawIOBase):
    """A readable stream that reports how far into the file on disk it has read (for progress),
    and turns a read that fails (a gzip file cut short or damaged, a disk error) into one
    SourceError naming the file and the fault."""

    def __init__(self, raw: IO[bytes], stream: IO[bytes], path: Path | None = None):
        self._raw = raw
        self._stream = stream
        self._path = path

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._stream.read(len(buffer))
        except (OSError, EOFError, zlib.error) as exc:
            raise self._fault(exc) from None
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        try:
            return self._stream.readline(size)
        except (OSError, EOFError, zlib.error) as exc:
            raise self._fault(exc) from None

    def _fault(self, exc: BaseException) -> SourceError:
        if isinstance(exc, EOFError):
            what = "the gzip file is cut short"
        elif isinstance(exc, (zlib.error, gzip.BadGzipFile)):
            what = "the gzip file is damaged"
        else:
            what = "could not be read"
        return SourceError(f"{self._path}: {what} ({exc})")

    def position(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._stream.close()
        self._raw.close()
        super().close()


PARSERS: dict[str, Callable[[IO[bytes]], Iterator[Item]]] = {
    "arxiv-api": arxiv_api.parse,
    "oai-pmh": oai_pmh.parse,
    "snapshot": jsonlines.parse_snapshot,
    "listing": jsonlines.parse_listing,
    "hf-daily": hf_daily.parse,
}


SNIFF_LINES = 20  # JSON lines looked at to tell a file's kind


def sniff(head: bytes) -> str | None:
    """The format of a file from its first bytes (decompressed), or None."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        if b"<OAI-PMH" in text[:4096]:
            return "oai-pmh"
        if b"<feed" in text[:4096] and b"http://www.w3.org/2005/Atom" in text[:4096]:
            return "arxiv-api"
        return None
    if text.startswith(b"["):
        return "hf-daily" if b'"paper"' in text[:65536] or text[1:].lstrip().startswith(b"]") else None
    if text.startswith(b"{"):
        # JSON lines: the first few lines that read as objects tell which kind, so that one bad
        # line does not make the whole file unknown. (The head's last line may be cut short.)
        lines = text.split(b"\n", SNIFF_LINES)[:SNIFF_LINES]
        for line in lines:
            kind = _json_line_kind(line)
            if kind is not None:
                return kind
        # A pretty-printed single object: an HF item, or nothing we know.
        return "hf-daily" if b'"paper"' in text[:4096] else None
    return None


def _json_line_kind(line: bytes) -> str | None:
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(obj, dict):
        return None
    if "paper" in obj:
        return "hf-daily"
    if "versions" in obj or "authors_parsed" in obj or "update_date" in obj:
        return "snapshot"
    if "id" in obj and "title" in obj and ("listed" in obj or "date" in obj):
        return "listing"
    return None


def detect(path: str | Path) -> InputFile:
    """Recognise a file's format; raise UnknownFormatError with one clear line otherwise."""
    path = Path(path)
    if not path.exists():
        raise UnknownFormatError(f"{path}: no such file")
    if path.is_dir():
        raise UnknownFormatError(f"{path}: is a folder, not a file")
    with open(path, "rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        compressed = magic == b"\x1f\x8b"
        try:
            head = (gzip.GzipFile(fileobj=raw) if compressed else raw).read(65536)
        except (OSError, EOFError, zlib.error) as exc:
            raise UnknownFormatError(f"{path}: damaged gzip file ({exc})") from None
    if not head.strip():
        raise UnknownFormatError(f"{path}: empty file")
    fmt = sniff(head)
    if fmt is None:
        raise UnknownFormatError(f"{path}: not a known input format (expected {KNOWN})")
    return InputFile(path, fmt, compressed)
