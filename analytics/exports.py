"""Dataset exports: ``<dataset>.<ext>`` + ``dictionary.csv`` + ``manifest.json`` in one zip.

Rows are read from the database in chunks (a server-side cursor on PostgreSQL) and each chunk is
written before the next is read, so memory stays bounded for csv, xlsx and parquet whatever the
size. Stata's writer (pandas ``to_stata``) needs the whole frame, and lays every string column
out at its longest value's width: a dta export is refused once its estimated memory passes
``DTA_MEMORY_MB`` (a full 1M-message dta took 1.6 GB; BENCHMARKS.md, issue 14). CSV and XLSX cells that a
spreadsheet would run as formulas are neutralised (``paco.spreadsheet``); parquet and dta keep
the values as stored. Each export is one audit event (who, dataset, filters, rows, sha256): the
one write this package makes.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone

import pandas as pd

from paco import spreadsheet
from paco.errors import InvalidInput, TooLarge
from paco.services import audit
from paco.version import VERSION

from .datasets import DATASETS, DICTIONARY, query
from .filters import Filters

FORMATS = ("csv", "xlsx", "parquet", "dta")
CHUNK_ROWS = 20_000
XLSX_SHEET_ROWS = 1_048_575  # Excel's limit, less the header
DTA_MEMORY_MB = 200  # a dta export's budget above the idle process (the bound for every export)
STATA_NAME_MAX = 32
STATA_LABEL_MAX = 80


@dataclass
class Bundle:
    path: str
    dataset: str
    format: str
    rows: int
    files: list[dict]
    filters: dict
    created_at: str

    @property
    def manifest(self) -> dict:
        return {"files": self.files, "filters": self.filters, "created_at": self.created_at, "version": VERSION,
                "dataset": self.dataset, "format": self.format}


def check(dataset: str, fmt: str) -> None:
    if dataset not in DATASETS:
        raise InvalidInput("unknown_dataset", f"Unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)}.")
    if fmt not in FORMATS:
        raise InvalidInput("unknown_format", f"Unknown format {fmt!r}: choose one of {', '.join(FORMATS)}.")


def export(conn, dataset: str, fmt: str, out_path: str, filters: Filters, actor: str, ip: str | None = None
           ) -> Bundle:
    """Write the bundle to ``out_path`` and record the export in the audit log."""
    check(dataset, fmt)
    created = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    with tempfile.TemporaryDirectory(prefix="paco-export-") as work:
        data_name = f"{dataset}.{fmt}"
        data_path = os.path.join(work, data_name)
        rows = WRITERS[fmt](conn, dataset, filters, data_path)
        dictionary_path = os.path.join(work, "dictionary.csv")
        _write_dictionary(dataset, dictionary_path)
        files = [{"name": data_name, "rows": rows, "sha256": _sha256(data_path)},
                 {"name": "dictionary.csv", "rows": len(DICTIONARY[dataset]), "sha256": _sha256(dictionary_path)}]
        bundle = Bundle(out_path, dataset, fmt, rows, files, filters.describe(), created)
        with zipfile.ZipFile(out_path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            archive.write(data_path, data_name)
            archive.write(dictionary_path, "dictionary.csv")
            archive.writestr("manifest.json", json.dumps(bundle.manifest, indent=2))
    conn.rollback()  # end the read before the audit log's own transaction
    audit.record_and_commit(actor, "export", f"dataset:{dataset}",
                            {"dataset": dataset, "format": fmt, "filters": bundle.filters, "rows": rows,
                             "files": files}, ip)
    return bundle


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_dictionary(dataset: str, path: str) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["column", "type", "unit", "meaning", "values"])
        for column in DICTIONARY[dataset]:
            writer.writerow([column.name, column.type, column.unit, column.meaning, "|".join(column.values)])


def chunks(conn, dataset: str, filters: Filters):
    """DataFrames of at most CHUNK_ROWS rows, with the dictionary's column names and types."""
    columns = [c.name for c in DICTIONARY[dataset]]
    result = conn.execution_options(stream_results=True, yield_per=CHUNK_ROWS).execute(query(dataset, filters))
    for part in result.partitions(CHUNK_ROWS):
        yield _typed(pd.DataFrame(part, columns=columns), dataset)


def _typed(frame: pd.DataFrame, dataset: str) -> pd.DataFrame:
    for column in DICTIONARY[dataset]:
        if column.type == "datetime":
            frame[column.name] = pd.to_datetime(frame[column.name], utc=True)
        elif column.type == "integer":
            frame[column.name] = frame[column.name].astype("Int64")
        elif column.type == "float":
            frame[column.name] = frame[column.name].astype("Float64")
    return frame


def _neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    for name in frame.columns:
        if frame[name].dtype == object or pd.api.types.is_string_dtype(frame[name]):
            frame[name] = frame[name].map(spreadsheet.neutralise)
    return frame


def _write_csv(conn, dataset, filters, path) -> int:
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        header = True
        for frame in chunks(conn, dataset, filters):
            _neutralised(frame).to_csv(handle, index=False, header=header, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
            header, rows = False, rows + len(frame)
        if header:  # no rows: the header alone
            pd.DataFrame(columns=[c.name for c in DICTIONARY[dataset]]).to_csv(handle, index=False)
    return rows


def _cell(value):
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.tz_convert("UTC").tz_localize(None).to_pydatetime() if value.tzinfo else value.to_pydatetime()
    return spreadsheet.neutralise(value)


def _write_xlsx(conn, dataset, filters, path) -> int:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    header = [c.name for c in DICTIONARY[dataset]]
    sheet, in_sheet, rows, sheets = None, 0, 0, 0
    for frame in chunks(conn, dataset, filters):
        for record in frame.itertuples(index=False, name=None):
            if sheet is None or in_sheet >= XLSX_SHEET_ROWS:
                sheets += 1
                sheet = book.create_sheet(dataset if sheets == 1 else f"{dataset} ({sheets})")
                sheet.append(header)
                in_sheet = 0
            sheet.append([_cell(v) for v in record])
            in_sheet, rows = in_sheet + 1, rows + 1
    if sheet is None:
        book.create_sheet(dataset).append(header)
    book.save(path)
    return rows


def _arrow_schema(dataset: str):
    import pyarrow as pa

    types = {"string": pa.string(), "category": pa.string(), "integer": pa.int64(), "float": pa.float64(),
             "datetime": pa.timestamp("us", tz="UTC"), "date": pa.date32()}
    fields = []
    for column in DICTIONARY[dataset]:
        metadata = {"meaning": column.meaning, "unit": column.unit, "values": "|".join(column.values)}
        fields.append(pa.field(column.name, types[column.type], metadata=metadata))
    return pa.schema(fields)


def _write_parquet(conn, dataset, filters, path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema, rows = _arrow_schema(dataset), 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for frame in chunks(conn, dataset, filters):
            writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))  # a row group
            rows += len(frame)
    return rows


def dta_memory(frames: list[pd.DataFrame], widths: dict[str, int]) -> int:
    """Bytes a dta of these chunks is estimated to need: the frames twice (the typed copy
    ``to_stata`` makes) and a fixed-width record per row, strings at their longest, all doubled:
    measured on the messages dataset, the process grew by 1.85 times this model's figure plus
    33 MB (BENCHMARKS.md, issue 14)."""
    rows = sum(len(f) for f in frames)
    deep = sum(int(f.memory_usage(deep=True).sum()) for f in frames)
    return 2 * (2 * deep + rows * sum(widths.values()))


def _write_dta(conn, dataset, filters, path) -> int:
    frames, rows, widths = [], 0, {}
    for frame in chunks(conn, dataset, filters):
        rows += len(frame)
        for name in frame.columns:
            longest = frame[name].map(lambda v: len(v) if isinstance(v, str) else 8).max() if len(frame) else 8
            widths[name] = max(widths.get(name, 8), int(longest))
        frames.append(frame)
        if dta_memory(frames, widths) > DTA_MEMORY_MB * 2**20:
            raise TooLarge("export_too_large",
                           f"Stata files are written whole, and this one would need more than {DTA_MEMORY_MB} MB "
                           f"(at {rows:,} rows and counting). Narrow the dates or cohorts, or choose csv or "
                           "parquet.")
    columns = DICTIONARY[dataset]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[c.name for c in columns])
    labels, strl = {}, []
    for column in columns:
        name = column.name
        if column.type == "datetime":
            frame[name] = pd.to_datetime(frame[name], utc=True).dt.tz_localize(None)
        elif column.type == "date":
            frame[name] = pd.to_datetime(frame[name])
        elif column.type == "category":
            frame[name] = pd.Categorical(frame[name], categories=list(column.values))
        elif column.type == "integer":
            frame[name] = frame[name].astype("float64")  # Stata has no missing integers; . is a missing double
        elif column.type == "float":
            frame[name] = frame[name].astype("float64")
        else:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), "")
            if len(frame) and frame[name].map(len).max() > 2045:
                strl.append(name)
        label = column.meaning + (f" ({column.unit})" if column.unit else "")
        labels[name[:STATA_NAME_MAX]] = label[:STATA_LABEL_MAX]
    frame.columns = [c.name[:STATA_NAME_MAX] for c in columns]
    dates = {c.name: {"datetime": "tc", "date": "td"}[c.type] for c in columns if c.type in ("datetime", "date")}
    frame.to_stata(path, write_index=False, version=118, variable_labels=labels, convert_dates=dates,
                   convert_strl=strl, data_label=f"PaCo {dataset}"[:STATA_LABEL_MAX])
    return rows


WRITERS = {"csv": _write_csv, "xlsx": _write_xlsx, "parquet": _write_parquet, "dta": _write_dta}
