"""Reading a directory of partner agencies from CSV, as Excel saves it: UTF-8 with or without its
BOM, a header row in Japanese or English (名称/name, 種別/kind, 地域/area, 連絡先/contact,
備考/note), a kind given as its id or as its Japanese or English word. Pure.

Any bad row stops the whole import: CsvProblem names the row (the header is row 1), the
column and what is wrong, as a stable `problem` code the screens say in their language.
"""

from __future__ import annotations

import csv
import io
import unicodedata

from inbox.core.agencies import (
    MAX_AGENCY_NOTE_CHARS,
    MAX_AREA_CHARS,
    MAX_CONTACT_CHARS,
    MAX_IMPORT_ROWS,
    MAX_NAME_CHARS,
    AgencyDraft,
)
from inbox.core.casework import AGENCY_KINDS
from inbox.core.errors import ValidationError
from inbox.core.text import storable

BOM = b"\xef\xbb\xbf"
FIELDS = ("name", "kind", "area", "contact", "note")
REQUIRED = ("name", "kind")
LIMITS = {
    "name": MAX_NAME_CHARS,
    "kind": 100,
    "area": MAX_AREA_CHARS,
    "contact": MAX_CONTACT_CHARS,
    "note": MAX_AGENCY_NOTE_CHARS,
}
# Each column's names, compared after NFKC and lower-casing.
HEADERS: dict[str, str] = {
    "名称": "name",
    "機関名": "name",
    "name": "name",
    "種別": "kind",
    "kind": "kind",
    "type": "kind",
    "地域": "area",
    "area": "area",
    "連絡先": "contact",
    "contact": "contact",
    "備考": "note",
    "メモ": "note",
    "note": "note",
    "notes": "note",
}
# Problems: what the screens word (i18n.js "agencies.problem.<code>").
EMPTY = "empty"
ENCODING = "encoding"
UNKNOWN_COLUMN = "unknown_column"
MISSING_COLUMN = "missing_column"
REPEATED_COLUMN = "repeated_column"
REQUIRED_VALUE = "required"
UNKNOWN_KIND = "unknown_kind"
TOO_LONG = "too_long"
EXTRA_CELLS = "extra_cells"
DUPLICATE = "duplicate"
TOO_MANY_ROWS = "too_many_rows"
MALFORMED = "malformed"


class CsvProblem(ValidationError):
    """A CSV that cannot be imported: `row` (1 is the header; 0: the file as a whole),
    `column` (a field name, or None) and `problem` (a code above)."""

    def __init__(self, message: str, *, row: int, column: str | None, problem: str) -> None:
        where = f"row {row}" if row else "the file"
        if column:
            where += f", column {column}"
        super().__init__(f"{where}: {message}; nothing was imported", field="csv")
        self.row = row
        self.column = column
        self.problem = problem


def fold(text: str) -> str:
    """Text as names are compared: NFKC (full-width letters, half-width kana), trimmed, lower."""
    return unicodedata.normalize("NFKC", text).strip().lower()


def clean(text: str) -> str:
    """A name or area as stored: NFKC, with runs of white space made one space."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _kind_words() -> dict[str, str]:
    words: dict[str, str] = {}
    for k in AGENCY_KINDS:
        for word in (k.id, k.ja, k.en):
            words[fold(word)] = k.id
    return words


KIND_WORDS = _kind_words()


def agency_kind(text: str) -> str | None:
    """The kind's id for its id or either word (None: no such kind)."""
    return KIND_WORDS.get(fold(text))


UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode text": tabs, not commas


def _text(raw: bytes) -> str:
    """UTF-8, with or without its BOM (Excel's "CSV UTF-8"), else Shift_JIS as Windows writes it
    (cp932: Excel's plain "CSV" on a Japanese PC)."""
    utf8_bom = raw.startswith(BOM)
    if utf8_bom:
        raw = raw[len(BOM) :]
    elif raw.startswith(UTF16_BOMS):
        raise _not_readable()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # a file that says it is UTF-8 (its BOM) is not Shift_JIS; NUL bytes are UTF-16 without
    # its BOM, which cp932 would read as nonsense
    if utf8_bom or b"\x00" in raw:
        raise _not_readable()
    try:
        return raw.decode("cp932")
    except UnicodeDecodeError:
        raise _not_readable() from None


def _not_readable() -> CsvProblem:
    return CsvProblem(
        "neither UTF-8 nor Shift_JIS; in Excel save it as 'CSV UTF-8 (comma delimited)'",
        row=0,
        column=None,
        problem=ENCODING,
    )


def _columns(header: list[str]) -> list[str | None]:
    """Each header cell's field; an empty trailing cell (Excel's) is None."""
    found: list[str | None] = []
    for i, cell in enumerate(header):
        name = fold(cell)
        if not name:
            found.append(None)
            continue
        field = HEADERS.get(name)
        if field is None:
            raise CsvProblem(
                f"unknown column {cell.strip()!r}; the columns are 名称/name, 種別/kind,"
                " 地域/area, 連絡先/contact, 備考/note",
                row=1,
                column=cell.strip() or str(i + 1),
                problem=UNKNOWN_COLUMN,
            )
        if field in found:
            raise CsvProblem(
                "this column is given twice", row=1, column=field, problem=REPEATED_COLUMN
            )
        found.append(field)
    for field in REQUIRED:
        if field not in found:
            raise CsvProblem(
                "the header has no such column", row=1, column=field, problem=MISSING_COLUMN
            )
    return found


def _draft(cells: list[str], columns: list[str | None], row: int) -> AgencyDraft:
    values = dict.fromkeys(FIELDS, "")
    for i, cell in enumerate(cells):
        field = columns[i] if i < len(columns) else None
        if field is None:
            if cell.strip():
                raise CsvProblem(
                    "a value in a column without a header",
                    row=row,
                    column=str(i + 1),
                    problem=EXTRA_CELLS,
                )
            continue
        value = cell.strip() if field in ("contact", "note") else clean(cell)
        if len(value) > LIMITS[field]:
            raise CsvProblem(
                f"at most {LIMITS[field]} characters, got {len(value)}",
                row=row,
                column=field,
                problem=TOO_LONG,
            )
        values[field] = value
    for field in REQUIRED:
        if not values[field]:
            raise CsvProblem("required", row=row, column=field, problem=REQUIRED_VALUE)
    kind = agency_kind(values["kind"])
    if kind is None:
        raise CsvProblem(
            f"unknown kind {values['kind']!r}; one of "
            + ", ".join(f"{k.id} ({k.ja})" for k in AGENCY_KINDS),
            row=row,
            column="kind",
            problem=UNKNOWN_KIND,
        )
    return AgencyDraft(
        name=values["name"],
        kind=kind,
        area=values["area"],
        contact=values["contact"],
        note=values["note"],
    )


def read_agencies_csv(raw: bytes) -> list[tuple[int, AgencyDraft]]:
    """Every row's (row number, draft); blank rows are skipped. Raises CsvProblem."""
    try:
        # NUL (which the csv module lets through, and PostgreSQL refuses) and lone surrogates
        # are cleaned as in any text we store, so both stores import the same
        table = list(csv.reader(io.StringIO(storable(_text(raw)), newline="")))
    except csv.Error as exc:
        raise CsvProblem(f"not a CSV ({exc})", row=0, column=None, problem=MALFORMED) from None
    if not table or not any(c.strip() for c in table[0]):
        raise CsvProblem("no header row", row=0, column=None, problem=EMPTY)
    columns = _columns(table[0])
    drafts: list[tuple[int, AgencyDraft]] = []
    seen: dict[tuple[str, str], int] = {}
    for row, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(drafts) >= MAX_IMPORT_ROWS:
            raise CsvProblem(
                f"at most {MAX_IMPORT_ROWS} agencies at once",
                row=row,
                column=None,
                problem=TOO_MANY_ROWS,
            )
        draft = _draft(cells, columns, row)
        key = (draft.name, draft.area)
        if key in seen:
            raise CsvProblem(
                f"the same name and area as row {seen[key]}",
                row=row,
                column="name",
                problem=DUPLICATE,
            )
        seen[key] = row
        drafts.append((row, draft))
    if not drafts:
        raise CsvProblem("no agencies below the header", row=0, column=None, problem=EMPTY)
    return drafts
