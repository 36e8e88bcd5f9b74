"""Reading a data manager's file, row by row with its line numbers, whatever spreadsheet wrote it.

CSV: UTF-8 (with or without the BOM Excel writes), separated by ``,`` ``;`` or tab (detected on
the header line with the standard library's ``csv.Sniffer``), read by ``csv.reader`` one line at a
time, so a file of any size takes little memory. XLSX: openpyxl's streaming (read-only) reader,
the first sheet unless one is named. Anything else (old .xls, UTF-16 "Unicode text", a PDF, a
ZIP that is not a workbook) is refused with what to do instead.
"""
from __future__ import annotations

import csv
import hashlib
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from ...errors import InvalidInput

SNIFF_DELIMITERS = ",;\t"
_READ_BLOCK = 1 << 20


class FileProblem(InvalidInput):
    """The file as a whole cannot be read; ``line`` says where reading stopped, if it started."""

    def __init__(self, code: str, message: str, line: int | None = None):
        super().__init__(code, message)
        self.line = line


@dataclass
class Table:
    """A header and the rows under it: ``rows`` yields ``(line number, cells)``.

    Cells are strings from a CSV; from a workbook, what the cell holds (text, number, date,
    ``None``). ``progress`` reads how far through the file ``rows`` is, as (done, total).
    """

    file_name: str
    sha256: str
    header: list[str]
    rows: Iterator[tuple[int, list]]
    size: int = 0
    kind: str = "csv"
    # How far the reader is (bytes of a CSV, rows of a sheet): a cell the row generator updates.
    position: list = field(default_factory=lambda: [0])

    def progress(self) -> tuple[int, int]:
        return self.position[0], self.size


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def open_table(path: str, file_name: str | None = None, sheet: str | None = None) -> Table:
    """The file at ``path`` as a ``Table``; ``file_name`` is what reports call it."""
    file_name = file_name or os.path.basename(path)
    with open(path, "rb") as f:
        start = f.read(8192)
    if start.startswith(b"PK\x03\x04"):
        return _open_xlsx(path, file_name, sheet)
    _refuse_non_text(start, file_name)
    if sheet:
        raise FileProblem("wrong_file_type", f"{file_name} is a CSV file: it has no sheets (leave out --sheet).")
    return _open_csv(path, file_name)


def _refuse_non_text(start: bytes, file_name: str) -> None:
    if start.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem("wrong_file_type", f"{file_name} is an old Excel workbook (.xls). "
                          "Save it as Excel Workbook (.xlsx) or as CSV UTF-8 and import that.")
    if start.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileProblem("wrong_encoding", f"{file_name} is UTF-16 text (Excel's 'Unicode Text'). "
                          "Save it as 'CSV UTF-8 (Comma delimited)' and import that.")
    if start.startswith(b"%PDF"):
        raise FileProblem("wrong_file_type", f"{file_name} is a PDF, not a table. Import a CSV or XLSX file.")
    if b"\x00" in start:
        raise FileProblem("wrong_file_type", f"{file_name} is not a CSV or XLSX file (it holds binary data).")
    if not start.strip(b" \t\r\n\xef\xbb\xbf"):
        raise FileProblem("empty_file", f"{file_name} is empty: it needs a header line and one row per record.")


def _physical_lines(f) -> Iterator[bytes]:
    """Lines ended by LF, CRLF or a lone CR (old Mac "CSV (Macintosh)" files)."""
    for chunk in f:
        yield from chunk.splitlines(keepends=True)


def _decoded_lines(f, file_name: str, position: list) -> Iterator[str]:
    """Each line as text; a byte that is not UTF-8 stops the import at its line number."""
    for number, raw in enumerate(_physical_lines(f), 1):
        position[0] += len(raw)
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as err:
            bad = raw[err.start:err.start + 1].hex().upper()
            raise FileProblem("wrong_encoding", f"{file_name} is not UTF-8 text (byte 0x{bad} on line {number}). "
                              "In Excel, save it as 'CSV UTF-8 (Comma delimited)'; "
                              "elsewhere, choose the UTF-8 encoding.", line=number) from None
        yield text


def _delimiter(header_line: str) -> str:
    try:
        return csv.Sniffer().sniff(header_line, delimiters=SNIFF_DELIMITERS).delimiter
    except csv.Error:  # one column, nothing to sniff
        return ","


def _open_csv(path: str, file_name: str) -> Table:
    position = [0]
    f = open(path, "rb")  # closed when the rows are exhausted (or the generator is collected)
    lines = _decoded_lines(f, file_name, position)
    try:
        first = next(lines)
    except StopIteration:
        f.close()
        raise FileProblem("empty_file", f"{file_name} is empty.") from None
    except BaseException:
        f.close()
        raise
    reader = csv.reader(_chain(first, lines), delimiter=_delimiter(first), strict=True)

    def rows() -> Iterator[tuple[int, list]]:
        try:
            header_seen = False
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as err:
                    raise FileProblem("malformed_csv", f"{file_name}, line {reader.line_num}: {err} "
                                      "(a quote that is never closed?).", line=reader.line_num) from None
                if not header_seen:
                    header_seen = True
                    continue
                yield reader.line_num, cells
        finally:
            f.close()

    try:
        header = next(csv.reader([first], delimiter=_delimiter(first), strict=True), [])
    except csv.Error as err:
        f.close()
        raise FileProblem("malformed_csv", f"{file_name}, line 1 (the header): {err}.", line=1) from None
    return Table(file_name, sha256_of(path), header, rows(), size=os.path.getsize(path), kind="csv",
                 position=position)


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _open_xlsx(path: str, file_name: str, sheet: str | None) -> Table:
    from openpyxl import load_workbook  # imported here: most imports are CSV

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        raise FileProblem("wrong_file_type", f"{file_name} is a ZIP file but not an Excel workbook (.xlsx): "
                          f"{err}. Save it as .xlsx or as CSV UTF-8.") from None
    if sheet is not None and sheet not in book.sheetnames:
        book.close()
        raise FileProblem("unknown_sheet", f"{file_name} has no sheet named {sheet!r}; "
                          f"its sheets are: {', '.join(book.sheetnames)}.")
    ws = book[sheet] if sheet is not None else book.worksheets[0]
    total = ws.max_row or 0
    position = [0]
    cells = ws.iter_rows(values_only=True)
    first = next(cells, None)
    if first is None:
        book.close()
        raise FileProblem("empty_file", f"{file_name}: the sheet {ws.title!r} is empty.")
    header = ["" if v is None else str(v) for v in first]

    def rows() -> Iterator[tuple[int, list]]:
        try:
            for number, values in enumerate(cells, 2):
                position[0] = number
                yield number, list(values)
        finally:
            book.close()

    return Table(file_name, sha256_of(path), header, rows(), size=total, kind="xlsx", position=position)


def rows_table(file_name: str, sha256: str, header: list[str], rows: list[list]) -> Table:
    """A table made in memory (``flask ids generate``, lists of IDs), numbered as if line 1 were its header."""
    return Table(file_name, sha256, header, iter(enumerate(rows, 2)), size=len(rows), kind="rows")
