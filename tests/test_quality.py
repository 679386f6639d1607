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


def import_circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The modules that import each other round a circle, each circle as its sorted modules:
    the strongly connected components of more than one module (Tarjan's, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        while work:
            module, imported = work[-1]
            for other in imported:
                if other not in index:
                    index[other] = low[other] = len(index)
                    stack.append(other)
                    on_stack.add(other)
                    work.append(
                        (other, iter(sorted(graph.find_modules_directly_imported_by(other))))
                    )
                    break
                if other in on_stack:
                    low[module] = min(low[module], index[other])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[module])
                if low[module] == index[module]:
                    component = []
                    while (member := stack.pop()) != module:
                        component.append(member)
                        on_stack.discard(member)
                    on_stack.discard(module)
                    if component:
                        circles.append(sorted([module, *component]))
    return circles


def describe(graph: grimp.ImportGraph, circle: list[str]) -> str:
    members = set(circle)
    lines = [f"{len(circle)} modules: {', '.join(circle)}"]
    for importer in circle:
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & members):
            details = graph.get_import_details(importer=importer, imported=imported)
            at = ", ".join(f"l.{d['line_number']}" for d in details)
            lines.append(f"  {importer} -> {imported} ({at})")
    return "\n".join(lines)


def test_no_import_circle() -> None:
    """Every import counts, also one inside a function (which hid inbox/web's circle) and one
    under `if TYPE_CHECKING:` (grimp could leave those out, but a circle of types is still two
    modules that cannot be understood apart). A circle is broken by moving what both sides share
    into a module of its own, not by hiding an import in a function."""
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    circles = import_circles(graph)
    assert not circles, "import circles:\n" + "\n".join(describe(graph, c) for c in circles)


def test_the_circle_finder_finds_a_circle() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in [("a.x", "a.y"), ("a.y", "a.z"), ("a.z", "a.x"), ("a.z", "a.w")]:
        graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="")
    graph.add_import(importer="a.w", imported="a.v", line_number=1, line_contents="")
    assert import_circles(graph) == [["a.x", "a.y", "a.z"]]
