"""The linters are part of the test run: ruff, mypy (strict) and the import contracts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(tool: str, *args: str) -> None:
    exe = BIN / tool if (BIN / tool).exists() else shutil.which(tool)
    assert exe is not None, f"{tool} is not installed: pip install -e '.[test]'"
    done = subprocess.run([str(exe), *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{tool} failed:\n{done.stdout}\n{done.stderr}"


def test_ruff() -> None:
    _run("ruff", "check", ".")


@pytest.mark.timeout(600)
def test_mypy_strict() -> None:
    _run("mypy")


def test_import_contracts() -> None:
    _run("lint-imports")
