"""inbox.core.suppression: small cells and complementary suppression, checked against a brute
force model of what a reader knows (shown values, the totals' constraints, a "small" cell in
[0, k-1] (a zero may be hidden as a complement), a "complementary" cell >= k)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox.core.suppression import (
    Cell,
    Constraint,
    Mark,
    Table,
    disclosed,
    suppress,
    suppress_grid,
    suppress_line,
)

# ---------------------------------------------------------------------------------------------
# The reader, by brute force: interval propagation over the constraints and splitting domains,
# independent of the module's network search.

_Domains = dict[str, tuple[int, int]]


def _propagate(table: Table, domains: _Domains) -> bool:
    changed = True
    while changed:
        changed = False
        for constraint in table.constraints:
            parts = constraint.parts
            low_sum = sum(domains[p][0] for p in parts)
            high_sum = sum(domains[p][1] for p in parts)
            updates = {constraint.total: (low_sum, high_sum)}
            t_low, t_high = domains[constraint.total]
            for p in parts:
                others_low = low_sum - domains[p][0]
                others_high = high_sum - domains[p][1]
                updates[p] = (t_low - others_high, t_high - others_low)
            for name, (low, high) in updates.items():
                old_low, old_high = domains[name]
                new = (max(old_low, low), min(old_high, high))
                if new[0] > new[1]:
                    return False
                if new != (old_low, old_high):
                    domains[name] = new
                    changed = True
    return True


def _feasible(table: Table, domains: _Domains) -> bool:
    domains = dict(domains)
    if not _propagate(table, domains):
        return False
    open_cells = [n for n, (low, high) in domains.items() if low < high]
    if not open_cells:
        return True
    name = min(open_cells, key=lambda n: domains[n][1] - domains[n][0])
    low, high = domains[name]
    middle = (low + high) // 2
    return _feasible(table, {**domains, name: (low, middle)}) or _feasible(
        table, {**domains, name: (middle + 1, high)}
    )


def _known(table: Table, marks: Mapping[str, Mark], k: int) -> _Domains:
    cap = sum(table.values.values()) + 1  # a unit move never needs more
    domains: _Domains = {}
    for name, value in table.values.items():
        mark = marks.get(name, "")
        domains[name] = {"": (value, value), "small": (0, k - 1), "complementary": (k, cap)}[mark]
    return domains


def _has_two_values(table: Table, marks: Mapping[str, Mark], k: int, name: str) -> bool:
    domains = _known(table, marks, k)
    low, high = domains[name]
    value = table.values[name]
    return any(
        part[0] <= part[1] and _feasible(table, {**domains, name: part})
        for part in ((low, value - 1), (value + 1, high))
    )


def _widest(table: Table, k: int) -> dict[str, Mark]:
    """Every unprotected cell that could be hidden, hidden."""
    marks: dict[str, Mark] = {}
    for name, value in table.values.items():
        if name not in table.protected:
            marks[name] = "small" if value < k else "complementary"
    return marks


def _check(table: Table, k: int) -> dict[str, Mark]:
    """suppress() on a table, checked against the reader; also disclosed() against the reader."""
    marks = suppress(table, k)
    assert set(marks) == set(table.values)
    assert disclosed(table, marks, k) == _check_marks(table, marks, k)
    return marks


def _check_marks(table: Table, marks: Mapping[str, Mark], k: int) -> set[str]:
    """The rule holds for these marks; returns the suppressed cells the reader can work out
    (each a small cell that even the widest suppression could not hide)."""
    if k == 1:
        assert all(mark == "" for mark in marks.values())
        return set()
    widest = _widest(table, k)
    pinned: set[str] = set()
    for name, mark in marks.items():
        value = table.values[name]
        if 0 < value < k and name not in table.protected:
            assert mark == "small", name
        if mark == "small":
            assert value < k, name  # what the reader is told a "<5" means: 0 to 4
        if name in table.protected:
            assert mark == "", name
        if mark == "complementary":
            assert value >= k, name  # what the reader is told an "x" means
        if mark and not _has_two_values(table, marks, k, name):
            pinned.add(name)
            assert mark == "small", name
            assert not _has_two_values(table, widest, k, name), name
    return pinned


# ---------------------------------------------------------------------------------------------
# Examples


def _marks(cells: list[Cell]) -> list[str]:
    return [cell.mark for cell in cells]


def test_line_complement_is_the_smallest_cell_that_leaves_room() -> None:
    line = suppress_line([2, 9, 8, 30], True, 5)
    assert _marks(line.items) == ["small", "", "complementary", ""]
    assert line.total == Cell(49, "")


def test_a_complement_of_exactly_k_leaves_room_below_the_small_cell() -> None:
    # 1 + x = 6 with x >= 5: x = 5 with the 1, or 6 with a 0 ("<5" may be a hidden zero)
    line = suppress_line([1, 5, 7], True, 5)
    assert _marks(line.items) == ["small", "complementary", ""]
    _check(Table({"a": 1, "b": 5, "c": 7, "t": 13}, (Constraint("t", ("a", "b", "c")),)), 5)


def test_two_small_cells_hide_each_other() -> None:
    line = suppress_line([2, 3, 40], True, 5)
    assert _marks(line.items) == ["small", "small", ""]  # a + b = 5, each in 0..4


def test_a_zero_hides_a_small_cell_that_a_protected_total_would_give_away() -> None:
    # "<5" beside two 0s under a total of 3 would say 3: a zero hidden as "<5" too leaves the
    # reader a + b = 3 with each in 0..4, and hiding it tells less than hiding a larger count
    line = suppress_line([3, 0, 0], True, 5)
    assert _marks(line.items) == ["small", "small", ""]
    line = suppress_line([0, 6, 1, 9], True, 5)
    assert _marks(line.items) == ["small", "", "small", ""]
    zeros_shown: dict[str, Mark] = {"a": "small", "b": "", "c": "", "t": ""}
    table = Table(
        {"a": 3, "b": 0, "c": 0, "t": 3}, (Constraint("t", ("a", "b", "c")),), frozenset({"t"})
    )
    assert disclosed(table, zeros_shown, 5) == {"a"}
    assert disclosed(table, suppress(table, 5), 5) == frozenset()


def test_a_protected_total_can_pin_a_cell_nothing_can_hide() -> None:
    # a line of one item: its protected total is the item
    table = Table({"a": 3, "t": 3}, (Constraint("t", ("a",)),), frozenset({"t"}))
    marks = suppress(table, 5)
    assert marks == {"a": "small", "t": ""}
    assert disclosed(table, marks, 5) == {"a"}


def test_an_unprotected_total_is_hidden_instead() -> None:
    line = suppress_line([3, 0, 0], True, 5, protect_total=False)
    assert _marks(line.items) == ["small", "", ""]
    assert line.total == Cell(3, "small")
    line = suppress_line([2, 9, 8, 30], True, 5, protect_total=False)
    assert line.total is not None
    assert _marks([*line.items, line.total]) == ["small", "", "complementary", "", ""]


def test_without_a_total_nothing_more_is_hidden() -> None:
    line = suppress_line([2, 9, 0], False, 5)
    assert _marks(line.items) == ["small", "", ""]
    assert line.total is None


def test_k_one_hides_nothing() -> None:
    assert _marks(suppress_line([1, 2, 3], True, 1).items) == ["", "", ""]
    with pytest.raises(ValueError, match="at least 1"):
        suppress_line([1], True, 0)


def test_grid_with_protected_margins_hides_a_rectangle() -> None:
    grid = suppress_grid(
        [[1, 9, 8], [7, 6, 10], [12, 11, 20]],
        True,
        True,
        5,
        protect_row_totals=True,
        protect_col_totals=True,
    )
    marks = [_marks(row) for row in grid.cells]
    assert marks[0][0] == "small"
    hidden = {(r, c) for r in range(3) for c in range(3) if marks[r][c]}
    assert len(hidden) == 4  # the smallest cycle: two rows, two columns
    rows = {r for r, _ in hidden}
    cols = {c for _, c in hidden}
    assert len(rows) == 2 and len(cols) == 2 and hidden == {(r, c) for r in rows for c in cols}
    assert grid.row_totals is not None and grid.col_totals is not None
    assert all(not cell.suppressed for cell in [*grid.row_totals, *grid.col_totals])
    assert grid.grand_total == Cell(84, "")


def test_grid_margins_are_suppressible_but_the_grand_total_is_not() -> None:
    # one month had 3 consultations in all: the month's total is small itself
    grid = suppress_grid([[3, 0], [10, 12], [9, 8]], True, True, 5)
    assert grid.row_totals is not None and grid.col_totals is not None
    assert grid.row_totals[0] == Cell(3, "small")
    assert grid.cells[0][0].mark == "small"
    assert grid.grand_total == Cell(42, "")
    hidden = [c for row in grid.cells for c in row if c.suppressed] + [
        c for c in (*grid.row_totals, *grid.col_totals) if c.suppressed
    ]
    assert len(hidden) >= 4


def test_cells_in_json_carry_no_suppressed_value() -> None:
    assert Cell(12).as_json() == {"value": 12}
    assert Cell(3, "small").as_json() == {"value": None, "mark": "small"}
    assert Cell(9, "complementary").as_json() == {"value": None, "mark": "complementary"}


def test_tables_are_checked() -> None:
    with pytest.raises(ValueError, match="does not hold"):
        Table({"a": 1, "t": 2}, (Constraint("t", ("a",)),))
    with pytest.raises(ValueError, match="negative"):
        Table({"a": -1})
    with pytest.raises(ValueError, match="not in the table"):
        Table({"a": 1}, protected=frozenset({"b"}))
    with pytest.raises(ValueError, match="same number"):
        suppress_grid([[1, 2], [3]], True, True, 5)
    # a 2x2x2 cube with its three kinds of line totals: not a network
    cube = {f"{a}{b}{c}": 1 for a in "01" for b in "01" for c in "01"}
    values: dict[str, int] = dict(cube)
    constraints = []
    for fixed in range(3):
        for x in "01":
            for y in "01":
                cells = [n for n in cube if n[(fixed + 1) % 3] == x and n[(fixed + 2) % 3] == y]
                values[f"s{fixed}{x}{y}"] = len(cells)
                constraints.append(Constraint(f"s{fixed}{x}{y}", tuple(cells)))
    with pytest.raises(ValueError, match="constraints"):
        suppress(Table(values, tuple(constraints)), 5)


def test_months_by_channels_of_a_real_size() -> None:
    # (its speed is the report bench's: `tsunagu bench report` builds the whole report)
    rows = [[(m * 7 + c * 13) % 11 for c in range(5)] for m in range(12)]  # many small cells
    grid = suppress_grid(rows, True, True, 5, protect_col_totals=True)
    hidden = [(cell.value, cell.mark) for row in grid.cells for cell in row if cell.mark]
    assert (0, "small") in hidden  # zeros are the complements that tell the least
    table_rows = [[cell.value for cell in row] for row in grid.cells]
    assert table_rows == rows


# ---------------------------------------------------------------------------------------------
# Property: every suppressed cell keeps two values for a reader who knows the rule.


def _values(k: int) -> st.SearchStrategy[int]:
    """Counts 0..30, mostly around k: small cells, and complements at the edge of their bounds
    (a complement of exactly k cannot shrink), where hiding goes wrong."""
    return st.one_of(st.integers(0, k + 2), st.just(k), st.integers(0, 30))


def _line_table(values: list[int], total_shown: bool, protect_total: bool) -> Table:
    cells = {f"i{n}": v for n, v in enumerate(values)}
    if not total_shown:
        return Table(cells)
    cells["t"] = sum(values)
    return Table(
        cells,
        (Constraint("t", tuple(f"i{n}" for n in range(len(values)))),),
        frozenset({"t"}) if protect_total else frozenset(),
    )


@settings(max_examples=100, deadline=None)
@given(
    data=st.data(),
    total_shown=st.booleans(),
    protect_total=st.booleans(),
    k=st.integers(1, 6),
)
def test_lines_hide_what_they_mark(
    data: st.DataObject, total_shown: bool, protect_total: bool, k: int
) -> None:
    values = data.draw(st.lists(_values(k), min_size=1, max_size=6))
    table = _line_table(values, total_shown, protect_total)
    marks = _check(table, k)
    line = suppress_line(values, total_shown, k, protect_total=protect_total)
    assert [c.mark for c in line.items] == [marks[f"i{n}"] for n in range(len(values))]


def _grid_reader(
    rows: list[list[int]],
    margins: tuple[bool, bool],
    protect: tuple[bool, bool, bool],
) -> Table:
    """What a reader of a grid knows, written out independently of suppress_grid: every margin
    constraint there is (with both margins, the grand total is the sum of either)."""
    (with_rows, with_cols), (protect_grand, protect_rows, protect_cols) = margins, protect
    height, width = len(rows), len(rows[0])
    cells = {f"{r}.{c}": rows[r][c] for r in range(height) for c in range(width)}
    constraints = []
    protected: set[str] = set()
    cells["g"] = sum(map(sum, rows))
    protected |= {"g"} if protect_grand else set()
    if with_rows:
        for r in range(height):
            cells[f"r{r}"] = sum(rows[r])
            constraints.append(Constraint(f"r{r}", tuple(f"{r}.{c}" for c in range(width))))
        constraints.append(Constraint("g", tuple(f"r{r}" for r in range(height))))
        protected |= {f"r{r}" for r in range(height)} if protect_rows else set()
    if with_cols:
        for c in range(width):
            cells[f"k{c}"] = sum(row[c] for row in rows)
            constraints.append(Constraint(f"k{c}", tuple(f"{r}.{c}" for r in range(height))))
        constraints.append(Constraint("g", tuple(f"k{c}" for c in range(width))))
        protected |= {f"k{c}" for c in range(width)} if protect_cols else set()
    return Table(cells, tuple(constraints), frozenset(protected))


@settings(max_examples=80, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    data=st.data(),
    margins=st.sampled_from([(True, True), (True, False), (False, True)]),
    protect=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    k=st.integers(1, 6),
)
def test_grids_hide_what_they_mark(
    shape: tuple[int, int],
    data: st.DataObject,
    margins: tuple[bool, bool],
    protect: tuple[bool, bool, bool],
    k: int,
) -> None:
    height, width = shape
    rows = data.draw(
        st.lists(
            st.lists(_values(k), min_size=width, max_size=width), min_size=height, max_size=height
        )
    )
    grid = suppress_grid(
        rows,
        *margins,
        k,
        protect[0],
        protect_row_totals=protect[1],
        protect_col_totals=protect[2],
    )
    marks: dict[str, Mark] = {
        f"{r}.{c}": grid.cells[r][c].mark for r in range(height) for c in range(width)
    }
    assert grid.grand_total is not None
    marks["g"] = grid.grand_total.mark
    assert (grid.row_totals is not None, grid.col_totals is not None) == margins
    if grid.row_totals is not None:
        marks |= {f"r{r}": grid.row_totals[r].mark for r in range(height)}
    if grid.col_totals is not None:
        marks |= {f"k{c}": grid.col_totals[c].mark for c in range(width)}
    _check_marks(_grid_reader(rows, margins, protect), marks, k)
