"""The systemd units that docs/deployment.md ships (deploy/systemd/) parse, and every ExecStart names
a `dailypapers` command with options that command accepts."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import ROOT

UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
INSTALLED = "/opt/dailypapers/venv/bin/dailypapers"


def read(unit) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True, comment_prefixes=("#", ";"))
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(unit.read_text())
    return parser


def test_units_shipped_and_named_in_the_guide():
    assert {u.name for u in UNITS} == {"dailypapers-web.service", "dailypapers-worker.service", "dailypapers-scheduler.service"}
    guide = (ROOT / "docs" / "deployment.md").read_text()
    for unit in UNITS:
        assert f"deploy/systemd/{unit.name}" in guide


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_unit_restarts_and_runs_a_real_command(unit):
    service = read(unit)["Service"]
    assert service["Restart"] == "always"
    assert service["EnvironmentFile"] and service["User"] == "dailypapers" and service["MemoryMax"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0] == INSTALLED
    # The command and its options as the unit gives them; --help stops before anything runs, while
    # an unknown command or option is still an error.
    done = subprocess.run([sys.executable, "-m", "dailypapers", *argv[1:], "--help"], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr


def test_units_verify_with_systemd(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    # systemd checks that ExecStart is executable: point it at this environment's command.
    installed = Path(sys.executable).parent / "dailypapers"
    script = str(installed if installed.is_file() else sys.executable)
    for unit in UNITS:
        (tmp_path / unit.name).write_text(unit.read_text().replace(INSTALLED, script))
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *sorted(str(p) for p in tmp_path.glob("*.service"))],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
