"""Reading the directory of partner agencies from CSV as Excel saves it: UTF-8 with a BOM or
none, or Shift_JIS (Excel's plain CSV on a Japanese PC), headers in Japanese or English, kinds
as ids or words; a bad row names its row and column."""

from __future__ import annotations

import pytest

from inbox.commands.agency_csv import CsvProblem, read_agencies_csv
from inbox.core.agencies import AgencyDraft


def test_excel_utf8_with_bom_japanese_headers_and_kinds_as_words() -> None:
    text = (
        "名称,種別,地域,連絡先,備考,\r\n"
        "中央警察署,警察,中央区,03-0000-0000,生活安全課,\r\n"
        ",,,,,\r\n"
        'ｍｉｄｏｒｉ の家 ,Shelter,北区,,"夜間も可\r\n要予約",\r\n'
    )
    rows = read_agencies_csv(b"\xef\xbb\xbf" + text.encode())
    assert rows == [
        (
            2,
            AgencyDraft(
                name="中央警察署",
                kind="police",
                area="中央区",
                contact="03-0000-0000",
                note="生活安全課",
            ),
        ),
        (
            4,
            AgencyDraft(name="midori の家", kind="shelter", area="北区", note="夜間も可\r\n要予約"),
        ),
    ]


def test_excel_plain_csv_on_a_japanese_pc_is_shift_jis() -> None:
    # cp932: Windows' Shift_JIS, with its own characters (①, ～) besides JIS X 0208
    raw = "名称,種別,地域,備考\r\n港南ハローワーク,ハローワーク,港南区,①窓口～17時\r\n".encode(
        "cp932"
    )
    assert read_agencies_csv(raw) == [
        (
            2,
            AgencyDraft(
                name="港南ハローワーク", kind="hello_work", area="港南区", note="①窓口～17時"
            ),
        )
    ]


def test_english_headers_in_any_order_and_kind_ids() -> None:
    raw = b"Area,Kind,Name\nKita,hello_work,Hello Work Kita\n"
    assert read_agencies_csv(raw) == [
        (2, AgencyDraft(name="Hello Work Kita", kind="hello_work", area="Kita"))
    ]


@pytest.mark.parametrize(
    ("raw", "row", "column", "problem"),
    [
        ("名称,種別\n中央警察署,交番\n".encode(), 2, "kind", "unknown_kind"),
        ("名称,種別\n,警察\n".encode(), 2, "name", "required"),
        ("名称,種別,住所\n中央警察署,警察,x\n".encode(), 1, "住所", "unknown_column"),
        ("名称,地域\n中央警察署,中央区\n".encode(), 1, "kind", "missing_column"),
        ("名称,種別\nA,警察\nB,NPO\nA,学校\n".encode(), 4, "name", "duplicate"),
        ("名称,種別\nA,警察,extra\n".encode(), 2, "3", "extra_cells"),
        ("名称,種別\n".encode(), 0, None, "empty"),
        ("名称,種別\n中央警察署,警察\n".encode("utf-16"), 0, None, "encoding"),
        ("名称,種別\n中央警察署,警察\n".encode("utf-16-le"), 0, None, "encoding"),
        (b"\xef\xbb\xbf" + "名称,種別\n中央警察署,警察\n".encode("cp932"), 0, None, "encoding"),
        (("名称,種別\n" + "あ" * 201 + ",警察\n").encode(), 2, "name", "too_long"),
    ],
)
def test_a_bad_row_names_its_row_and_column(
    raw: bytes, row: int, column: str | None, problem: str
) -> None:
    with pytest.raises(CsvProblem) as found:
        read_agencies_csv(raw)
    assert (found.value.row, found.value.column, found.value.problem) == (row, column, problem)
    assert found.value.field == "csv" and "nothing was imported" in str(found.value)


def test_a_nul_in_a_cell_is_cleaned_as_in_any_stored_text() -> None:
    # the csv module lets NUL through; PostgreSQL would refuse the whole import, SQLite not
    [(row, draft)] = read_agencies_csv("名称,種別\n中央\x00警察署,警察\n".encode())
    assert (row, draft.name, draft.kind) == (2, "中央警察署", "police")
