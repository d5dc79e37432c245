"""CSV downloads for the analytics pages (issue 18): Excel-friendly and safe to open.

UTF-8 with a byte-order mark (so Excel reads the accents), comma separated, Rupiah as plain integers, dates
in ISO form. A text cell that starts with = + - @ (or a tab or carriage return) is prefixed with a single
quote, so a city or activity named "=cmd" or "@SUM(...)" is shown as text and never run as a formula
(OWASP "CSV injection"). Numbers stay numbers: only strings are neutralised."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from django.http import HttpResponse

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SMALL_CELL = 5


def safe_cell(value: object) -> object:
    """A cell as written: text that a spreadsheet would read as a formula is prefixed with a quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_text(header: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """The whole file as text (BOM included)."""
    lines: list[str] = []

    class _Sink:
        def write(self, chunk: str) -> None:
            lines.append(chunk)

    writer = csv.writer(_Sink(), lineterminator="\r\n")
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return BOM + "".join(lines)


def csv_response(filename: str, header: Sequence[object], rows: Iterable[Sequence[object]]) -> HttpResponse:
    """A download of `rows` under `header`; the filename keeps only printable ASCII without quotes."""
    response = HttpResponse(csv_text(header, rows).encode("utf-8"), content_type="text/csv; charset=utf-8")
    plain = "".join(ch for ch in filename if ch.isascii() and ch.isprintable() and ch not in '"\\;') or "export.csv"
    response["Content-Disposition"] = f'attachment; filename="{plain}"'
    return response


def suppress(count: int, minimum: int = SMALL_CELL) -> int | str:
    """A count of people, or "< 5" (with the minimum) when fewer, so no small group can be singled out."""
    if count < minimum:
        return f"< {minimum}"
    return count
