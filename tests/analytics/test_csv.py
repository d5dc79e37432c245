"""CSV exports: Excel-friendly (BOM, commas, plain integers, ISO dates), formula-looking text neutralised, and
small cells suppressed."""

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

from analytics.csv_export import csv_response, suppress


def parsed(response) -> list[list[str]]:
    body = response.content
    assert body.startswith("\ufeff".encode())  # the BOM, so Excel reads UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8").removeprefix("\ufeff"))))


def test_formula_looking_text_is_neutralised_and_normal_text_untouched():
    response = csv_response(
        "cities.csv",
        ["city", "activity", "bookings"],
        [
            ["=SUM(A1)", "+1", 3],
            ["-2", "@x", 4],
            ["\tTab", "\rReturn", 5],
            ["Jakarta Selatan", "Ngopi & jalan-jalan", 6],
            ["Bandung", "a=b", -7],
        ],
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="cities.csv"'
    assert parsed(response) == [
        ["city", "activity", "bookings"],
        ["'=SUM(A1)", "'+1", "3"],
        ["'-2", "'@x", "4"],
        ["'\tTab", "'\rReturn", "5"],
        ["Jakarta Selatan", "Ngopi & jalan-jalan", "6"],
        ["Bandung", "a=b", "-7"],  # a number stays a number, even negative
    ]


def test_rupiah_are_plain_integers_dates_iso_and_commas_quoted():
    response = csv_response(
        "money.csv",
        ["day", "at", "gmv", "note"],
        [[date(2026, 11, 24), datetime(2026, 11, 24, 8, 0, tzinfo=ZoneInfo("Asia/Jakarta")), 1_250_000, "a, b"]],
    )
    text = response.content.decode("utf-8")
    assert text == '\ufeffday,at,gmv,note\r\n2026-11-24,2026-11-24T08:00:00+07:00,1250000,"a, b"\r\n'


def test_the_filename_cannot_break_the_header():
    response = csv_response('x"; filename=evil.exe\r\n.csv', ["a"], [])
    assert response["Content-Disposition"] == 'attachment; filename="x filename=evil.exe.csv"'


def test_small_cells_are_suppressed():
    assert [suppress(count) for count in (0, 1, 4, 5, 6, 120)] == ["< 5", "< 5", "< 5", 5, 6, 120]
    assert suppress(9, minimum=10) == "< 10"
    assert suppress(10, minimum=10) == 10
