"""Report windows cut days in the organizer's time zone, and downloads hold what the rows say."""
import asyncio
import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest
from taquilla_platform.money import average_ticket_price, major_units, round_half_up
from taquilla_platform.problems import Problem
from taquilla_platform.reports import ExportColumn, csv_chunks, report_window, xlsx_chunks

COLUMNS = [ExportColumn("name", "Name"), ExportColumn("tickets", "Tickets", "int"),
           ExportColumn("collected_minor", "Collected", "money"), ExportColumn("day", "Day", "date"),
           ExportColumn("paid_at", "Paid at", "datetime")]


def rows(count: int):
    for i in range(count):
        yield {"name": f"Peñalver & <hijos> {i}", "tickets": i, "collected_minor": 250_005 + i,
               "currency": "USD" if i % 2 else "JPY", "day": date(2026, 3, 1),
               "paid_at": datetime(2026, 3, 2, 3, 30, tzinfo=UTC)}


async def download(chunks) -> bytes:
    return b"".join([chunk async for chunk in chunks])


def test_a_caracas_day_runs_from_four_in_the_morning_utc_and_every_period_is_listed():
    window = report_window("America/Caracas", date(2026, 3, 1), date(2026, 3, 31), granularity="week")
    assert window.starts_at == datetime(2026, 3, 1, 4, tzinfo=UTC)
    assert window.ends_before == datetime(2026, 4, 1, 4, tzinfo=UTC)
    assert window.period_of(datetime(2026, 3, 2, 3, 59, tzinfo=UTC)) == date(2026, 2, 23)  # still Sunday 1 March
    assert window.period_of(datetime(2026, 3, 2, 4, 0, tzinfo=UTC)) == date(2026, 3, 2)  # Monday: a new week
    assert window.periods() == [date(2026, 2, 23), date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16),
                                date(2026, 3, 23), date(2026, 3, 30)]
    months = report_window("UTC", date(2026, 1, 15), date(2026, 3, 2), granularity="month")
    assert months.periods() == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]


def test_a_bad_window_names_the_field_at_fault():
    for args, field in (((date(2026, 3, 2), date(2026, 3, 1)), "from"),
                        ((date(2020, 1, 1), date(2026, 3, 1)), "from")):
        with pytest.raises(Problem) as refused:
            report_window("UTC", *args)
        assert refused.value.status == 422 and refused.value.body()["errors"][0]["field"] == field
    with pytest.raises(Problem) as refused:
        report_window("UTC", None, None, time_zone="Mars/Olympus")
    assert refused.value.body()["errors"][0]["field"] == "tz"
    assert report_window("America/Bogota", None, date(2026, 3, 30)).first_day == date(2026, 3, 1)  # 30 days


def test_a_spreadsheet_download_holds_every_row_with_money_in_major_units_and_local_times():
    data = asyncio.run(download(xlsx_chunks(COLUMNS, rows(1201), "Ventas", zone=report_window(
        "America/Caracas", date(2026, 3, 1), date(2026, 3, 1)).zone)))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet.title == "Ventas" and sheet.max_row == 1202
    assert [c.value for c in sheet[1]] == ["Name", "Tickets", "Collected", "Day", "Paid at"]
    first, last = [c.value for c in sheet[2]], [c.value for c in sheet[1202]]
    assert first == ["Peñalver & <hijos> 0", 0, 250005, datetime(2026, 3, 1), datetime(2026, 3, 1, 23, 30)]
    assert last[:3] == ["Peñalver & <hijos> 1200", 1200, 251205]  # JPY has no minor unit
    assert sheet.cell(3, 3).value == pytest.approx(2500.06)  # USD: cents


def test_a_csv_download_is_utf8_with_a_mark_and_exact_decimals():
    data = asyncio.run(download(csv_chunks(COLUMNS, rows(3))))
    assert data.startswith("\ufeff".encode())
    table = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["Collected"] for r in table] == ["250005", "2500.06", "250007"]
    assert table[0]["Paid at"] == "2026-03-02T03:30:00"  # no zone given: UTC wall-clock time
    assert major_units(250_006, "USD") == Decimal("2500.06")


def test_averages_round_half_up_exactly():
    assert round_half_up(5, 2) == 3 and round_half_up(-5, 2) == -3 and round_half_up(7, 3) == 2
    assert average_ticket_price(19_500, 0, 8) == 2438 and average_ticket_price(0, 0, 0) is None
