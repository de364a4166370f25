"""The layers point down and no module imports in a cycle: import-linter checks the contracts in
pyproject.toml ([tool.importlinter]); this runs it, so a wrong-way import fails the suite (and CI)
with import-linter's report of the offending import chains."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _lint_imports() -> str:
    beside = Path(sys.executable).parent / "lint-imports"
    command = str(beside) if beside.exists() else shutil.which("lint-imports")
    assert command, "lint-imports not found: install the test extras (pip install -e '.[test]')"
    return command


def test_the_import_contracts_hold():
    done = subprocess.run(
        [_lint_imports(), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # this tree, not an installed copy
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout, done.stdout[-8000:]


def test_the_contracts_name_every_rule_of_the_layering():
    """The rules issue 13 set stay stated: layers, the four forbidden imports and no cycles."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts = {c["id"]: c for c in config["contracts"]}
    assert contracts["layers"]["type"] == "layers"
    order = [layer.split(":")[0].strip(" ()") for layer in contracts["layers"]["layers"]]
    assert order == [f"dailypapers.{name}" for name in ("cli", "web", "search", "ranking", "index", "ingest", "sources", "store", "config")]
    forbidden = {(c["source_modules"][0], m) for c in contracts.values() if c["type"] == "forbidden" for m in c["forbidden_modules"]}
    assert forbidden == {
        ("dailypapers.ranking", "dailypapers.store"), ("dailypapers.ranking", "dailypapers.index"),
        ("dailypapers.sources", "dailypapers.ingest"), ("dailypapers.sources", "dailypapers.store"),
        ("dailypapers.digest", "dailypapers.web"), ("dailypapers.web", "dailypapers.sources"),
    }  # fmt: skip
    assert not any(c.get("allow_indirect_imports") for c in contracts.values())
    assert contracts["acyclic"]["type"] == "acyclic_siblings" and contracts["acyclic"]["ancestors"] == ["dailypapers"]
