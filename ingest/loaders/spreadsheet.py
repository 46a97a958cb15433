"""Spreadsheet loaders (xlsx, xls, csv): one table per sheet, its header row kept with its rows.

Each sheet becomes a "table" block whose first line is the header row; the chunker repeats
that line at the top of every chunk it cuts from the table and cuts only between rows, so
a retrieved chunk always says which column a value belongs to. The sheet's position is the
block's page and "Sheet: name" its heading, so citations name the sheet.

The libraries are used directly (openpyxl read-only, xlrd, csv) rather than through
LlamaIndex's PandasExcelReader/PandasCSVReader: those need a path, pull in pandas, and
flatten a sheet to one text, losing the header-per-chunk property.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator

import openpyxl
import xlrd

from enclave_core.documents import Block, LoadedDocument
from enclave_core.errors import CorruptDocument, InputError

from ._common import add_block, clean_inline, decode_text, short_reason, short_title, source_stem
from ._office import OLE_MAGIC, check_office_zip

__all__ = ["MAX_CELLS", "load_csv", "load_xls", "load_xlsx"]

# A sheet can declare a million rows of empty cells; counting what we read bounds time and memory.
MAX_CELLS = 2_000_000


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return clean_inline(str(value)).replace("|", "/")


class _CellBudget:
    def __init__(self, source: str) -> None:
        self.source, self.left = source, MAX_CELLS

    def take(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise CorruptDocument(f"{self.source}: rejected, more than {MAX_CELLS} cells")


def _table_lines(rows: Iterable[Iterable[object]], budget: _CellBudget) -> list[str]:
    """Rows as " | "-joined lines; empty rows dropped, trailing empty cells trimmed."""
    lines: list[str] = []
    for row in rows:
        cells = [_cell_text(value) for value in row]
        budget.take(len(cells))
        while cells and not cells[-1]:
            cells.pop()
        if any(cells):
            lines.append(" | ".join(cells))
    return lines


def _add_sheet(blocks: list[Block], name: str, number: int, lines: list[str]) -> None:
    add_block(blocks, "\n".join(lines), kind="table", heading=f"Sheet: {clean_inline(name)}", page=number)


def _document(source: str, blocks: list[Block], media_type: str, sheets: int, title: str | None) -> LoadedDocument:
    return LoadedDocument(
        source=source,
        title=short_title(title) or source_stem(source),
        blocks=blocks,
        media_type=media_type,
        metadata={"sheets": str(sheets)},
    )


def load_xlsx(data: bytes, source: str, max_bytes: int) -> LoadedDocument:
    """Cached cell values (formulas are not evaluated), read-only streaming mode."""
    check_office_zip(data, source, max_bytes, ".xlsx")
    budget = _CellBudget(source)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            blocks: list[Block] = []
            sheets = book.worksheets
            for number, sheet in enumerate(sheets, start=1):
                _add_sheet(blocks, sheet.title, number, _table_lines(sheet.iter_rows(values_only=True), budget))
            title = book.properties.title
        finally:
            book.close()
    except InputError:
        raise
    except Exception as exc:  # openpyxl raises KeyError, ValueError, InvalidFileException...
        raise CorruptDocument(f"{source}: not a readable .xlsx ({short_reason(exc)})") from exc
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _document(source, blocks, media, len(sheets), title)


def _xls_rows(sheet: xlrd.sheet.Sheet, datemode: int) -> Iterator[list[object]]:
    for r in range(sheet.nrows):
        row: list[object] = []
        for cell in sheet.row(r):
            if cell.ctype == xlrd.XL_CELL_DATE:
                row.append(xlrd.xldate.xldate_as_datetime(cell.value, datemode))
            elif cell.ctype in (xlrd.XL_CELL_ERROR, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_EMPTY):
                row.append(None)
            else:
                row.append(cell.value)
        yield row


def load_xls(data: bytes, source: str, max_bytes: int) -> LoadedDocument:
    """Legacy Excel 97-2003 workbooks through xlrd (which reads .xls only)."""
    if not data.startswith(OLE_MAGIC):
        raise CorruptDocument(f"{source}: not a readable .xls (not an Excel 97-2003 workbook)")
    budget = _CellBudget(source)
    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True, logfile=io.StringIO())  # no stdout chatter
        try:
            blocks: list[Block] = []
            for number in range(book.nsheets):
                sheet = book.sheet_by_index(number)
                budget.take(0 if sheet.nrows * sheet.ncols <= MAX_CELLS else MAX_CELLS + 1)
                _add_sheet(blocks, sheet.name, number + 1, _table_lines(_xls_rows(sheet, book.datemode), budget))
                book.unload_sheet(number)
            sheets = book.nsheets
        finally:
            book.release_resources()
    except InputError:
        raise
    except xlrd.XLRDError as exc:
        reason = "encrypted with a password" if "encrypt" in str(exc).lower() else short_reason(exc)
        raise CorruptDocument(f"{source}: not a readable .xls ({reason})") from exc
    except Exception as exc:
        raise CorruptDocument(f"{source}: not a readable .xls ({short_reason(exc)})") from exc
    return _document(source, blocks, "application/vnd.ms-excel", sheets, None)


def load_csv(data: bytes, source: str, max_bytes: int) -> LoadedDocument:
    """A CSV file is one sheet; the delimiter (comma, semicolon, tab, pipe) is sniffed."""
    text, _ = decode_text(data, source)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        lines = _table_lines(csv.reader(io.StringIO(text), dialect), _CellBudget(source))
    except csv.Error as exc:
        raise CorruptDocument(f"{source}: not a readable .csv ({short_reason(exc)})") from exc
    blocks: list[Block] = []
    _add_sheet(blocks, source_stem(source), 1, lines)
    return _document(source, blocks, "text/csv", 1, None)
