"""The linters are part of the test run: ruff, mypy (strict), the import contracts, and no import
circle between our modules."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PACKAGES = ("inbox", "channels", "routing", "storage")


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


def imports_in_circles(graph: grimp.ImportGraph) -> list[tuple[str, str]]:
    """Each import a -> b where b reaches a back, directly or through other modules."""
    return sorted(
        (importer, imported)
        for importer in graph.modules
        for imported in graph.find_modules_directly_imported_by(importer)
        if graph.chain_exists(importer=imported, imported=importer)
    )


def test_no_import_circle() -> None:
    """Every import counts, also one inside a function (which hid inbox/web's circle) and one
    under `if TYPE_CHECKING:` (grimp could leave those out, but a circle of types still ties two
    modules together). A circle is broken by moving what both sides share into a module of its
    own, not by hiding an import in a function."""
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    found = [
        f"  {importer} -> {imported} (l.{detail['line_number']})"
        for importer, imported in imports_in_circles(graph)
        for detail in graph.get_import_details(importer=importer, imported=imported)
    ]
    assert not found, "imports that close a circle:\n" + "\n".join(found)


def test_the_circle_finder_finds_a_circle() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in [("a.x", "a.y"), ("a.y", "a.z"), ("a.z", "a.x"), ("a.z", "a.w")]:
        graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="")
    assert imports_in_circles(graph) == [("a.x", "a.y"), ("a.y", "a.z"), ("a.z", "a.x")]
