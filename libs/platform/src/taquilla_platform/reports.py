"""What every service's reports share: the window they cover in the tenant's time zone, and exports.

A report answers JSON by default and, with `?format=csv|xlsx`, a download that streams: rows are read
in batches from a server-side cursor and written as they come, so a 100,000-line export holds one batch
in memory, never the whole file. The XLSX writer is our own (a zip stream of one inline-string sheet)
because the spreadsheet libraries keep the workbook in memory or in a temporary file before sending.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Query
from fastapi.responses import StreamingResponse
from sqlalchemy import Date, cast, func
from sqlalchemy.sql import ColumnElement

from .money import major_units
from .problems import Problem

Granularity = Literal["day", "week", "month"]
ExportFormat = Literal["json", "csv", "xlsx"]
MAX_WINDOW_DAYS = 3 * 366
DEFAULT_WINDOW_DAYS = 30
BATCH_ROWS = 500


@dataclass(frozen=True)
class ReportWindow:
    """Local calendar days [first_day, last_day] in `time_zone`, grouped by `granularity`."""

    first_day: date
    last_day: date
    time_zone: str
    granularity: Granularity = "day"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def starts_at(self) -> datetime:
        """The first instant of the window (local midnight of first_day), as an aware UTC datetime."""
        return datetime.combine(self.first_day, time(), self.zone).astimezone(UTC)

    @property
    def ends_before(self) -> datetime:
        """The first instant after the window: local midnight after last_day."""
        return datetime.combine(self.last_day + timedelta(days=1), time(), self.zone).astimezone(UTC)

    def contains(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_before

    def period_of(self, moment: datetime) -> date:
        """The first local day of the period (day, ISO week from Monday, month) holding `moment`."""
        return self.period_of_day(moment.astimezone(self.zone).date())

    def period_of_day(self, day: date) -> date:
        if self.granularity == "week":
            return day - timedelta(days=day.weekday())
        if self.granularity == "month":
            return day.replace(day=1)
        return day

    def period_sql(self, column: Any) -> ColumnElement:
        """SQL for `period_of` on a timestamptz column: the same grouping, done by PostgreSQL."""
        local = func.timezone(self.time_zone, column)
        return cast(func.date_trunc(self.granularity, local), Date)

    def periods(self) -> list[date]:
        """Every period of the window, so that a period with no activity still shows, with zeros."""
        out: list[date] = []
        current = self.period_of_day(self.first_day)
        while current <= self.last_day:
            out.append(current)
            if self.granularity == "month":
                current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
            else:
                current += timedelta(days=7 if self.granularity == "week" else 1)
        return out

    def as_dict(self) -> dict:
        return {"from": self.first_day.isoformat(), "to": self.last_day.isoformat(),
                "time_zone": self.time_zone, "granularity": self.granularity,
                "starts_at": self.starts_at.isoformat(), "ends_before": self.ends_before.isoformat()}


def check_time_zone(name: str, field: str = "tz") -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Problem(422, "invalid-time-zone", "Unknown time zone",
                      f"'{name}' is not an IANA time zone such as America/Caracas", field=field) from exc
    return name


def report_window(principal_time_zone: str | None, first_day: date | None, last_day: date | None,
                  time_zone: str | None = None, granularity: Granularity = "day",
                  today: date | None = None) -> ReportWindow:
    """The window a caller asked for: by default the last 30 days up to today, in the tenant's zone."""
    zone_name = check_time_zone(time_zone) if time_zone else (principal_time_zone or "UTC")
    if last_day is None:
        last_day = today or datetime.now(ZoneInfo(zone_name)).date()
    if first_day is None:
        first_day = last_day - timedelta(days=DEFAULT_WINDOW_DAYS - 1)
    if first_day > last_day:
        raise Problem(422, "invalid-window", "The window ends before it starts",
                      f"'from' ({first_day}) is after 'to' ({last_day})", field="from")
    if (last_day - first_day).days >= MAX_WINDOW_DAYS:
        raise Problem(422, "invalid-window", "The window is too long",
                      f"A report covers at most {MAX_WINDOW_DAYS} days; ask for several", field="from")
    return ReportWindow(first_day, last_day, zone_name, granularity)


class WindowQuery:
    """FastAPI dependency class for the window's query parameters: from, to, tz, granularity."""

    def __init__(
        self,
        first_day: date | None = Query(None, alias="from", description="First local day (default: 29 days "
                                       "before `to`)"),
        last_day: date | None = Query(None, alias="to", description="Last local day, included (default: today)"),
        tz: str | None = Query(None, description="IANA time zone (default: the organizer's)"),
        granularity: Granularity = Query("day", description="Periods: day, week (from Monday) or month"),
    ):
        self.first_day, self.last_day, self.tz, self.granularity = first_day, last_day, tz, granularity

    def window(self, principal) -> ReportWindow:
        return report_window(getattr(principal, "time_zone", None), self.first_day, self.last_day, self.tz,
                             self.granularity)


# --------------------------------------------------------------------------------------------- exports

ColumnKind = Literal["text", "int", "decimal", "money", "date", "datetime"]


@dataclass(frozen=True)
class ExportColumn:
    """One column of an export. `money` values are minor units; `currency_key` names the row's currency."""

    key: str
    title: str
    kind: ColumnKind = "text"
    currency_key: str = "currency"


# The figures of every sales report (orders' channels, box-office terminals, all channels at the gateway)
SALES_FIGURE_COLUMNS = [
    ExportColumn("tickets", "Tickets", "int"),
    ExportColumn("gross_minor", "Gross", "money"), ExportColumn("discounts_minor", "Discounts", "money"),
    ExportColumn("fees_minor", "Fees", "money"), ExportColumn("taxes_minor", "Taxes", "money"),
    ExportColumn("collected_minor", "Collected", "money"), ExportColumn("refunds_minor", "Refunds", "money"),
    ExportColumn("refunded_tickets", "Refunded tickets", "int"),
    ExportColumn("refunded_taxes_minor", "Refunded taxes", "money"), ExportColumn("net_minor", "Net", "money"),
    ExportColumn("average_ticket_price_minor", "Average ticket price", "money"),
]


def export_value(column: ExportColumn, row: Mapping[str, Any], zone: ZoneInfo | None = None) -> Any:
    """The value as a person reads it: money in major units, instants as local wall-clock time."""
    value = row.get(column.key)
    if value is None:
        return None
    if column.kind == "money":
        return major_units(int(value), str(row.get(column.currency_key) or "USD"))
    if column.kind == "datetime":
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is not None:
            moment = moment.astimezone(zone or UTC).replace(tzinfo=None)
        return moment
    if column.kind == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def export_filename(stem: str, window: ReportWindow | None, extension: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-") or "report"
    if window is not None:
        safe += f"_{window.first_day.isoformat()}_{window.last_day.isoformat()}"
    return f"{safe}.{extension}"


MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export_response(fmt: Literal["csv", "xlsx"], stem: str, columns: list[ExportColumn],
                    rows: AsyncIterable[Mapping[str, Any]] | Iterable[Mapping[str, Any]],
                    window: ReportWindow | None = None, sheet: str = "Report",
                    time_zone: str | None = None) -> StreamingResponse:
    """A streaming download of `rows` (an async generator reading the database in batches, or a list). Instants
    are written as wall-clock times of the window's time zone (or `time_zone`, or UTC)."""
    zone = window.zone if window is not None else (ZoneInfo(time_zone) if time_zone else None)
    body = csv_chunks(columns, rows, zone) if fmt == "csv" else xlsx_chunks(columns, rows, sheet, zone)
    name = export_filename(stem, window, fmt)
    return StreamingResponse(body, media_type=MEDIA_TYPES[fmt],
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def _rows(rows: AsyncIterable[Mapping[str, Any]] | Iterable[Mapping[str, Any]]) -> AsyncIterator[Mapping]:
    if isinstance(rows, AsyncIterable):
        async for row in rows:
            yield row
    else:
        for row in rows:
            yield row


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


async def csv_chunks(columns: list[ExportColumn], rows, zone: ZoneInfo | None = None) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")  # spreadsheet programs read the accents of UTF-8 right only with the mark
    writer.writerow([c.title for c in columns])
    count = 0
    async for row in _rows(rows):
        writer.writerow([_csv_text(export_value(c, row, zone)) for c in columns])
        count += 1
        if count % BATCH_ROWS == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


class _Drain(io.RawIOBase):
    """A write-only stream whose bytes are taken away as they come: zipfile writes into it, we send them."""

    def __init__(self):
        self._chunks: list[bytes] = []
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._written += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._written

    def take(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


_XLSX_STATIC = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '</Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'styles" Target="styles.xml"/></Relationships>'),
    # cell styles: 0 plain, 1 date, 2 date and time, 3 two decimals, 4 bold (the header)
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        '</styleSheet>'),
}
_EXCEL_EPOCH = datetime(1899, 12, 30)
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _xlsx_cell(ref: str, value: Any, kind: ColumnKind, header: bool = False) -> str:
    if value is None:
        return ""
    if header or kind == "text" or isinstance(value, str):
        text = escape(_XML_INVALID.sub("", str(value)))
        style = ' s="4"' if header else ""
        return f'<c r="{ref}" t="inlineStr"{style}><is><t xml:space="preserve">{text}</t></is></c>'
    if isinstance(value, datetime):
        serial = (value.replace(tzinfo=None) - _EXCEL_EPOCH) / timedelta(days=1)
        return f'<c r="{ref}" s="2"><v>{serial!r}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="1"><v>{(value - _EXCEL_EPOCH.date()).days}</v></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, float):  # repr: the shortest text that reads back as the same number
        style = ' s="3"' if kind in ("money", "decimal") else ""
        return f'<c r="{ref}"{style}><v>{value!r}</v></c>'
    if isinstance(value, Decimal) or kind in ("money", "decimal"):
        return f'<c r="{ref}" s="3"><v>{Decimal(value)}</v></c>'
    return f'<c r="{ref}"><v>{value}</v></c>'


def _xlsx_row(number: int, cells: list[str]) -> str:
    return f'<row r="{number}">{"".join(cells)}</row>'


async def xlsx_chunks(columns: list[ExportColumn], rows, sheet: str = "Report",
                      zone: ZoneInfo | None = None) -> AsyncIterator[bytes]:
    drain = _Drain()
    letters = [_column_letter(i) for i in range(len(columns))]
    sheet_name = escape(re.sub(r"[\[\]:*?/\\]", " ", sheet)[:31] or "Report")
    with zipfile.ZipFile(drain, "w", compression=zipfile.ZIP_DEFLATED) as book:
        for name, text in _XLSX_STATIC.items():
            book.writestr(name, text)
        book.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{sheet_name}" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        yield drain.take()
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                       b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                       b'<sheetData>')
            header = [_xlsx_cell(f"{letters[i]}1", c.title, "text", header=True) for i, c in enumerate(columns)]
            part.write(_xlsx_row(1, header).encode())
            number = 1
            pending: list[str] = []
            async for row in _rows(rows):
                number += 1
                pending.append(_xlsx_row(number, [
                    _xlsx_cell(f"{letters[i]}{number}", export_value(c, row, zone), c.kind)
                    for i, c in enumerate(columns)]))
                if len(pending) >= BATCH_ROWS:
                    part.write("".join(pending).encode())
                    pending.clear()
                    yield drain.take()
            part.write("".join(pending).encode())
            part.write(b"</sheetData></worksheet>")
    yield drain.take()


async def stream_rows(session, statement, batch: int = BATCH_ROWS) -> AsyncIterator[Mapping[str, Any]]:
    """Rows of a SELECT from a server-side cursor, `batch` at a time: memory stays flat however many."""
    result = await session.stream(statement.execution_options(yield_per=batch))
    async for row in result.mappings():
        yield row


async def stream_tenant_rows(db, tenant_id, statement, batch: int = BATCH_ROWS) -> AsyncIterator[Mapping[str, Any]]:
    """`stream_rows` in a read-only unit of work of its own, opened when the download starts sending: the
    request's own unit of work is gone by then. Nothing is committed."""
    async with db.unit_of_work(tenant_id) as uow:
        async for row in stream_rows(uow.session, statement, batch):
            yield row
