"""The front end's plain ES modules are type-checked: TypeScript's tsc --noEmit, strict, over
every module in inbox/web/static (their JSDoc types), from inbox/web/typecheck (package.json
pins typescript; nothing there is served). npm ci runs only when node_modules is missing or the
lock changed. Without node and npm the test skips (fails under TSUNAGU_TEST_STRICT=1)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tomllib
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from tests import skips

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "inbox" / "web" / "static"
TYPECHECK = ROOT / "inbox" / "web" / "typecheck"
STAMP = TYPECHECK / "node_modules" / ".tsunagu-lock-sha256"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        return skips.skip_or_fail(f"{name} is not installed", "apt-get install nodejs npm")
    return found


def _install(npm: str) -> None:
    """npm ci, unless node_modules already holds what the lock names."""
    lock = hashlib.sha256((TYPECHECK / "package-lock.json").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == lock:
        return
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=TYPECHECK,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    STAMP.write_text(lock)


@pytest.mark.timeout(900)
def test_front_end_type_checks_strict() -> None:
    node, npm = _tool("node"), _tool("npm")
    _install(npm)
    tsc = TYPECHECK / "node_modules" / "typescript" / "bin" / "tsc"
    done = subprocess.run(
        [node, str(tsc), "--noEmit", "-p", str(TYPECHECK)],
        cwd=TYPECHECK,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"tsc found errors:\n{done.stdout}\n{done.stderr}"


def test_typecheck_is_strict_and_covers_every_module() -> None:
    """The config cannot quietly loosen: strict, JS checked, every static module included, and
    every module asks for checking itself (// @ts-check, for editors)."""
    config = json.loads((TYPECHECK / "tsconfig.json").read_text())
    options = config["compilerOptions"]
    assert options["strict"] is True
    assert options["checkJs"] is True and options["allowJs"] is True
    assert options.get("noEmit") is True
    assert config["include"] == ["../static/**/*.js"]
    assert "skipDefaultLibCheck" not in options
    package = json.loads((TYPECHECK / "package.json").read_text())
    assert re.fullmatch(r"\d+\.\d+\.\d+", package["devDependencies"]["typescript"]), "pin it"
    assert "dependencies" not in package
    modules = sorted(STATIC.rglob("*.js"))
    assert len(modules) > 10
    unchecked = [
        str(m.relative_to(STATIC))
        for m in modules
        if not m.read_text().startswith("// @ts-check\n")
    ]
    assert not unchecked, f"modules without // @ts-check on top: {unchecked}"


def _glob_matches(pattern: str, path: str) -> bool:
    """setuptools' glob: `*` stays within one folder."""
    parts, wanted = path.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(map(fnmatchcase, parts, wanted))


def test_glob_matching_stays_within_a_folder() -> None:
    assert _glob_matches("web/static/*", "web/static/i18n.js")
    assert not _glob_matches("web/static/*", "web/static/lib/api.js")
    assert _glob_matches("web/static/*/*", "web/static/lib/api.js")


def test_package_data_ships_every_static_file() -> None:
    """An installed wheel serves the same files as the checkout: the package-data globs of
    pyproject.toml cover every file under inbox/web/static, subfolders included."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["inbox"]
    missing = [
        str(path.relative_to(STATIC))
        for path in STATIC.rglob("*")
        if path.is_file()
        and not any(_glob_matches(g, path.relative_to(ROOT / "inbox").as_posix()) for g in globs)
    ]
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"
