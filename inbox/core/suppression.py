"""Small-cell suppression for the grant report, with complementary suppression.

A table is a set of named cells (non-negative counts) and constraints "total cell = sum of part
cells" that the reader knows (a line and its total, a grid and its row and column totals).
`protected` cells (the program totals) are always shown.

- Primary: an unprotected cell with 0 < value < k is marked "small" (shown "<5" / "5未満").
  Zeros are shown (a zero says nobody, which identifies nobody), except where one is needed to
  hide a small cell: a zero chosen as a complement is marked "small" too ("<5" is true of it).
- Complementary: further unprotected cells are marked so that no suppressed cell's value can be
  worked out from the shown cells and the constraints: a zero "small", as above, and a cell of
  k or more "complementary" (shown "x" / "秘匿").

What the reader knows, and what every check here (and the property test) models exactly: the
shown values; the constraints; that a "small" cell is in [0, k-1] (it may be a zero hidden to
protect another); and that a "complementary" cell is >= k, because only zeros and cells of value
>= k are ever chosen as complements (a zero is marked "small", so a reader who knows the rule
learns exactly that much from an "x"). A suppressed cell is safe when at least two integer
values of it are consistent with all of that. Zeros cost nothing to hide, so they are the
complements chosen first: a line [1, 0, 0] under its shown total 1 becomes [<5, <5, 0], where
the 1 could be either (showing the zeros would give it away).

Limits, by construction and written here so the report can say so:
- k = 1 suppresses nothing.
- Protected cells are never suppressed, so they can pin a small cell no suppression can hide
  (a line of one item [3] under its protected total 3). Such cells are still marked "small"
  but are not protected further; `disclosed()` names them.

How: the constraints of a line or a grid (with its margins) form a network: each constraint is a
node, each cell an edge between the (at most two) constraints it belongs to, and cells in a single
constraint are edges to a free node. A change of the suppressed cells that keeps every constraint
is a circulation, so a suppressed cell can take another value exactly when a cycle through it can
carry one unit within every suppressed cell's bounds (small: [0, k-1]; complementary: [k, inf))
— a path search in the residual graph, exact for integers. For each small cell that is pinned,
the cheapest such cycle through cells that could still be suppressed (cost: their values, then
their number; smallest cells first) is found by Dijkstra and its cells become complementary.
Adding suppressions never pins a cell, so one pass protects every cell that can be protected;
a last pass shows again, largest first, every complement that is not needed.
Tables whose constraints are not such a network (a cell in three constraints, e.g. a 3-D table)
are refused with ValueError.

Stdlib only (the domain's ground floor).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Mark = Literal["", "small", "complementary"]
SMALL: Mark = "small"
COMPLEMENTARY: Mark = "complementary"


@dataclass(frozen=True, slots=True)
class Cell:
    """A count as the report shows it: its value, and its mark when suppressed."""

    value: int
    mark: Mark = ""

    @property
    def suppressed(self) -> bool:
        return self.mark != ""

    def as_json(self) -> dict[str, object]:
        """The report's CELL: {"value": 12}, or {"value": null, "mark": "small"}: a suppressed
        cell never carries its value."""
        if self.mark:
            return {"value": None, "mark": self.mark}
        return {"value": self.value}


@dataclass(frozen=True, slots=True)
class Constraint:
    """total = sum(parts), known to the reader."""

    total: str
    parts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Table:
    """Named non-negative counts, the constraints the reader knows, and the cells that are always
    shown (program totals). Checked when built: names exist, every constraint holds."""

    values: Mapping[str, int]
    constraints: tuple[Constraint, ...] = ()
    protected: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        for name, value in self.values.items():
            if value < 0:
                raise ValueError(f"cell {name!r}: a count cannot be negative ({value})")
        for name in self.protected:
            if name not in self.values:
                raise ValueError(f"protected cell {name!r} is not in the table")
        for constraint in self.constraints:
            names = (constraint.total, *constraint.parts)
            for name in names:
                if name not in self.values:
                    raise ValueError(f"constraint names a cell not in the table: {name!r}")
            if len(set(names)) != len(names):
                raise ValueError(f"constraint on {constraint.total!r} names a cell twice")
            parts_sum = sum(self.values[part] for part in constraint.parts)
            if parts_sum != self.values[constraint.total]:
                raise ValueError(
                    f"constraint does not hold: {constraint.total!r} is "
                    f"{self.values[constraint.total]}, its parts sum to {parts_sum}"
                )


# ---------------------------------------------------------------------------------------------
# The network: constraints are nodes (plus one free node), cells are edges.


@dataclass(frozen=True, slots=True)
class _Network:
    free: int  # the free node's number (= the number of constraints)
    ends: Mapping[str, tuple[int, int]]  # cell -> (tail, head); absent: in no constraint


def _network(table: Table) -> _Network:
    """Orient each constraint (sign +1 or -1) so that every cell enters one node and leaves the
    other; cells of a single constraint go to or from the free node."""
    member = _memberships(table)
    count = len(table.constraints)
    sign = _signs(count, member)
    free = count
    ends: dict[str, tuple[int, int]] = {}
    for name, places in member.items():
        # an edge enters the node where sign * coefficient is +1, leaves the one where it is -1
        enters = [node for node, coefficient in places if sign[node] * coefficient == 1]
        leaves = [node for node, coefficient in places if sign[node] * coefficient == -1]
        ends[name] = (leaves[0] if leaves else free, enters[0] if enters else free)
    return _Network(free=free, ends=ends)


def _memberships(table: Table) -> dict[str, list[tuple[int, int]]]:
    """cell -> [(constraint index, coefficient: +1 part, -1 total)], at most two each."""
    member: dict[str, list[tuple[int, int]]] = {}
    for index, constraint in enumerate(table.constraints):
        member.setdefault(constraint.total, []).append((index, -1))
        for part in constraint.parts:
            member.setdefault(part, []).append((index, 1))
    for name, places in member.items():
        if len(places) > 2:
            raise ValueError(
                f"cell {name!r} is in {len(places)} constraints: only lines and grids with "
                "their totals (each cell in at most two constraints) are supported"
            )
    return member


def _signs(count: int, member: Mapping[str, list[tuple[int, int]]]) -> list[int]:
    """A sign per constraint such that a cell in two constraints has opposite signed
    coefficients in them (it leaves one node and enters the other)."""
    links: list[list[tuple[int, int]]] = [[] for _ in range(count)]  # (other, required product)
    for places in member.values():
        if len(places) == 2:
            (first, a), (second, b) = places
            # sign[first] * a == -(sign[second] * b)  <=>  sign[first] * sign[second] == -a * b
            links[first].append((second, -a * b))
            links[second].append((first, -a * b))
    sign = [0] * count
    for start in range(count):
        if sign[start]:
            continue
        sign[start] = 1
        stack = [start]
        while stack:
            node = stack.pop()
            for other, product in links[node]:
                wanted = sign[node] * product
                if sign[other] == 0:
                    sign[other] = wanted
                    stack.append(other)
                elif sign[other] != wanted:
                    raise ValueError("the constraints do not form a line or grid network")
    return sign


# Bounds of a suppressed cell as the reader knows them; None: no upper bound.
_Bounds = tuple[int, int | None]


def _bounds(mark: Mark, k: int) -> _Bounds:
    return (0, k - 1) if mark == SMALL else (k, None)


def _complement_mark(value: int, k: int) -> Mark:
    """A zero hidden as a complement is told as "<k" (true of it), any other as "x" (>= k)."""
    return SMALL if value < k else COMPLEMENTARY


_Graph = dict[int, list[tuple[int, str]]]  # node -> [(next node, the cell the arc moves)]


def _arcs(network: _Network, values: Mapping[str, int], free: Mapping[str, _Bounds]) -> _Graph:
    """Residual graph over the cells whose value the reader does not know: tail -> head where a
    cell can grow by one, head -> tail where it can shrink by one."""
    graph: _Graph = {}
    for name, (low, high) in free.items():
        if name not in network.ends:
            continue
        tail, head = network.ends[name]
        value = values[name]
        if high is None or value < high:
            graph.setdefault(tail, []).append((head, name))
        if value > low:
            graph.setdefault(head, []).append((tail, name))
    return graph


def _path(graph: _Graph, start: int, goal: int, skip: str) -> list[str] | None:
    """The cells along a path from start to goal that does not move the cell `skip`."""
    came: dict[int, tuple[int, str]] = {}
    seen = {start}
    stack = [start]
    while stack:
        node = stack.pop()
        if node == goal:
            cells: list[str] = []
            while node != start:
                node, name = came[node]
                cells.append(name)
            return cells
        for nxt, name in graph.get(node, ()):
            if nxt not in seen and name != skip:
                seen.add(nxt)
                came[nxt] = (node, name)
                stack.append(nxt)
    return None


def _cycle(
    network: _Network,
    values: Mapping[str, int],
    free: Mapping[str, _Bounds],
    name: str,
    graph: _Graph,
) -> list[str] | None:
    """The cells of a unit cycle through the suppressed cell `name` within everyone's bounds
    (each of them can then take another value), or None: the reader can work `name` out."""
    low, high = free[name]
    value = values[name]
    up = high is None or value < high
    down = value > low
    if name not in network.ends:  # in no constraint: only its own bounds hold it
        return [name] if up or down else None
    tail, head = network.ends[name]
    path = _path(graph, head, tail, name) if up else None
    if path is None and down:
        path = _path(graph, tail, head, name)
    return None if path is None else [name, *path]


def _movable(
    network: _Network,
    values: Mapping[str, int],
    free: Mapping[str, _Bounds],
    names: Iterable[str],
    *,
    stop_early: bool = False,
) -> set[str]:
    """Which of `names` (suppressed) can take another value. A cycle found for one cell shows
    every cell on it movable, so most cells need no search of their own. `stop_early`: stop at
    the first that cannot (the caller only asks whether all can)."""
    graph = _arcs(network, values, free)
    movable: set[str] = set()
    for name in names:
        if name in movable:
            continue
        cycle = _cycle(network, values, free, name, graph)
        if cycle is None:
            if stop_early:
                break
            continue
        movable.update(cycle)
    return movable


def _cheapest_cycle(
    network: _Network,
    values: Mapping[str, int],
    free: Mapping[str, _Bounds],
    candidates: Iterable[str],
    target: str,
    k: int,
) -> list[str] | None:
    """The candidates to suppress so that `target` can move: the cheapest unit cycle through it,
    over suppressed cells (free) and candidates (cost: value, then one per cell)."""
    # arcs: node -> [(next node, cost, candidate name or "")]
    graph: dict[int, list[tuple[int, tuple[int, int], str]]] = {}
    for name, (low, high) in free.items():
        if name == target or name not in network.ends:
            continue
        tail, head = network.ends[name]
        if high is None or values[name] < high:
            graph.setdefault(tail, []).append((head, (0, 0), ""))
        if values[name] > low:
            graph.setdefault(head, []).append((tail, (0, 0), ""))
    for name in candidates:
        if name not in network.ends:
            continue
        tail, head = network.ends[name]
        cost = (values[name], 1)  # a zero first: hiding it tells the least
        graph.setdefault(tail, []).append((head, cost, name))  # a complement can always grow
        if values[name] > k:  # a zero ([0, k-1]) or a k ([k, inf)) cannot shrink
            graph.setdefault(head, []).append((tail, cost, name))
    low, high = free[target]
    tail, head = network.ends[target]
    best: tuple[tuple[int, int], list[str]] | None = None
    if high is None or values[target] < high:
        best = _shortest(graph, head, tail)
    if values[target] > low:
        other = _shortest(graph, tail, head)
        if other is not None and (best is None or other[0] < best[0]):
            best = other
    return None if best is None else best[1]


def _shortest(
    graph: Mapping[int, list[tuple[int, tuple[int, int], str]]], start: int, goal: int
) -> tuple[tuple[int, int], list[str]] | None:
    done: set[int] = set()
    queue: list[tuple[tuple[int, int], int, list[str]]] = [((0, 0), start, [])]
    while queue:
        cost, node, used = heapq.heappop(queue)
        if node in done:
            continue
        if node == goal:
            return cost, used
        done.add(node)
        for nxt, step, name in graph.get(node, ()):
            if nxt not in done:
                total = (cost[0] + step[0], cost[1] + step[1])
                heapq.heappush(queue, (total, nxt, [*used, name] if name else used))
    return None


# ---------------------------------------------------------------------------------------------


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")


def suppress(table: Table, k: int) -> dict[str, Mark]:
    """The mark of every cell of the table: "" shown, "small" (0 < value < k, or a zero hidden
    as a complement), "complementary" (a value >= k hidden so that no suppressed cell can be
    worked out). k = 1 suppresses nothing."""
    _check_k(k)
    values = table.values
    marks: dict[str, Mark] = dict.fromkeys(values, "")
    if k == 1:
        return marks
    network = _network(table)
    small = [n for n, v in values.items() if 0 < v < k and n not in table.protected]
    if not small:
        return marks
    for name in small:
        marks[name] = SMALL
    # Everything that could be suppressed at once: what is pinned even then is pinned always
    # (more suppression never pins), so it is out of reach and only its mark is shown.
    widest: dict[str, _Bounds] = {
        n: _bounds(SMALL if n in small else _complement_mark(v, k), k)
        for n, v in values.items()
        if n not in table.protected
    }
    out_of_reach = set(widest) - _movable(network, values, widest, widest)
    candidates = {n for n in widest if n not in small and n not in out_of_reach}
    free: dict[str, _Bounds] = {n: _bounds(SMALL, k) for n in small if n not in out_of_reach}
    targets = sorted(free, key=lambda n: (values[n], n))
    complements: set[str] = set()
    for target in targets:
        if _movable(network, values, free, [target]):
            continue
        cycle = _cheapest_cycle(network, values, free, sorted(candidates), target, k)
        assert cycle is not None  # the target moves in the widest suppression
        for name in cycle:
            marks[name] = _complement_mark(values[name], k)
            free[name] = _bounds(marks[name], k)
            candidates.discard(name)
            complements.add(name)
    # Show again every complement that is not needed, the largest first.
    for name in sorted(complements, key=lambda n: (-values[n], n)):
        trial = {n: b for n, b in free.items() if n != name}
        if set(targets) <= _movable(network, values, trial, targets, stop_early=True):
            free = trial
            marks[name] = ""
            complements.discard(name)
    # A complement the others pin tells nothing hidden: show it (this changes nothing else).
    for name in complements - _movable(network, values, free, complements):
        del free[name]
        marks[name] = ""
    return marks


def disclosed(table: Table, marks: Mapping[str, Mark], k: int) -> frozenset[str]:
    """The suppressed cells whose value can still be worked out from what is shown: after
    `suppress`, only small cells pinned by protected totals (module docstring)."""
    _check_k(k)
    network = _network(table)
    free = {n: _bounds(m, k) for n, m in marks.items() if m}
    return frozenset(set(free) - _movable(network, table.values, free, free))


# ---------------------------------------------------------------------------------------------
# The report's shapes.


@dataclass(frozen=True, slots=True)
class SuppressedLine:
    items: list[Cell]
    total: Cell | None  # None: the line's total is not shown


@dataclass(frozen=True, slots=True)
class SuppressedGrid:
    cells: list[list[Cell]]
    row_totals: list[Cell] | None
    col_totals: list[Cell] | None
    grand_total: Cell | None  # shown with both margins (the sum of either)


def suppress_line(
    values: Sequence[int], total_shown: bool, k: int, *, protect_total: bool = True
) -> SuppressedLine:
    """A breakdown (age groups, topics, months of one figure) and, when shown, its total (the
    sum of the items; protected unless `protect_total=False`)."""
    names = [f"i{index}" for index in range(len(values))]
    cells = dict(zip(names, values, strict=True))
    constraints: tuple[Constraint, ...] = ()
    protected: frozenset[str] = frozenset()
    if total_shown:
        cells["total"] = sum(values)
        constraints = (Constraint("total", tuple(names)),)
        protected = frozenset({"total"}) if protect_total else frozenset()
    marks = suppress(Table(cells, constraints, protected), k)
    return SuppressedLine(
        items=[Cell(cells[n], marks[n]) for n in names],
        total=Cell(cells["total"], marks["total"]) if total_shown else None,
    )


def _grid_table(
    rows: Sequence[Sequence[int]],
    row_totals: bool,
    col_totals: bool,
    protect: tuple[bool, bool, bool],  # grand total, row totals, column totals
) -> Table:
    """Cells "c<r>.<c>", row totals "r<r>", column totals "k<c>", the grand total "grand"."""
    protect_grand, protect_rows, protect_cols = protect
    width = len(rows[0]) if rows else 0
    if any(len(row) != width for row in rows):
        raise ValueError("every row of a grid needs the same number of cells")
    cells = {f"c{r}.{c}": value for r, row in enumerate(rows) for c, value in enumerate(row)}
    constraints: list[Constraint] = []
    protected: set[str] = set()
    if row_totals or col_totals:
        cells["grand"] = sum(sum(row) for row in rows)
        protected |= {"grand"} if protect_grand else set()
    if row_totals:
        for r, row in enumerate(rows):
            cells[f"r{r}"] = sum(row)
            constraints.append(Constraint(f"r{r}", tuple(f"c{r}.{c}" for c in range(width))))
        constraints.append(Constraint("grand", tuple(f"r{r}" for r in range(len(rows)))))
        protected |= {f"r{r}" for r in range(len(rows))} if protect_rows else set()
    if col_totals:
        for c in range(width):
            cells[f"k{c}"] = sum(row[c] for row in rows)
            constraints.append(Constraint(f"k{c}", tuple(f"c{r}.{c}" for r in range(len(rows)))))
        # with both margins, "grand = sum of row totals" already implies this one (and the grand
        # total in three constraints would not be a network)
        if not row_totals:
            constraints.append(Constraint("grand", tuple(f"k{c}" for c in range(width))))
        protected |= {f"k{c}" for c in range(width)} if protect_cols else set()
    return Table(cells, tuple(constraints), frozenset(protected))


def suppress_grid(
    rows: Sequence[Sequence[int]],
    row_totals: bool,
    col_totals: bool,
    k: int,
    protect_grand_total: bool = True,
    *,
    protect_row_totals: bool = False,
    protect_col_totals: bool = False,
) -> SuppressedGrid:
    """A grid (months x channels) with, when asked, each row's total, each column's total and
    the grand total. Margins are suppressible unless protected; the grand total (shown when
    either margin is) is protected by default."""
    protect = (protect_grand_total, protect_row_totals, protect_col_totals)
    table = _grid_table(rows, row_totals, col_totals, protect)
    cells = table.values
    width = len(rows[0]) if rows else 0
    marks = suppress(table, k)

    def cell(name: str) -> Cell:
        return Cell(cells[name], marks[name])

    return SuppressedGrid(
        cells=[[cell(f"c{r}.{c}") for c in range(width)] for r in range(len(rows))],
        row_totals=[cell(f"r{r}") for r in range(len(rows))] if row_totals else None,
        col_totals=[cell(f"k{c}") for c in range(width)] if col_totals else None,
        grand_total=cell("grand") if (row_totals or col_totals) else None,
    )
