"""A paper's versions as its page shows them: each version's date and title, and what changed in
the abstract since the version before, word by word (difflib), where both abstracts are known."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..types import StoredVersion

# Words with the spaces after them, so a diff joined back together reads as the text did.
_WORDS = re.compile(r"\S+\s*")
MAX_DIFF_WORDS = 5000  # an abstract is at most a few hundred words; beyond this, no word diff


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """The change from `old` to `new` as (kind, text) runs: kind is "same", "del" or "ins"."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    out: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, [w.strip() for w in a], [w.strip() for w in b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(("same", "".join(b[j1:j2])))
            continue
        if i2 > i1:
            out.append(("del", "".join(a[i1:i2])))
        if j2 > j1:
            out.append(("ins", "".join(b[j1:j2])))
    return out


@dataclass
class VersionView:
    version: int
    submitted_at: dt.datetime | None
    title: str | None
    title_changed: bool = False
    # What changed in the abstract since the version before: None when either abstract is unknown
    # (then `unknown` says which), [] when it did not change.
    diff: list[tuple[str, str]] | None = None
    unknown: str | None = None
    changes: int = 0  # runs deleted or inserted


def history(versions: Sequence[StoredVersion]) -> list[VersionView]:
    """The page's view of a version history (the store's, oldest first)."""
    out: list[VersionView] = []
    previous: StoredVersion | None = None
    for row in versions:
        view = VersionView(row.version, row.submitted_at, row.title)
        if previous is not None:
            old, new = previous.abstract, row.abstract
            view.title_changed = bool(previous.title and view.title and previous.title != view.title)
            if old and new:
                if len(old.split()) + len(new.split()) <= MAX_DIFF_WORDS:
                    view.diff = [] if old == new else word_diff(old, new)
                    view.changes = sum(1 for kind, _ in view.diff if kind != "same")
            else:
                missing = [f"v{v.version}" for v in (previous, row) if not v.abstract]
                view.unknown = " and ".join(missing)
        out.append(view)
        previous = row
    return out
