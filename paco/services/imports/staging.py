"""Temporary tables an import checks and writes through, in the import's own transaction.

The file's rows go to a staging table first (PostgreSQL: ``COPY``, the driver's bulk path;
SQLite: one ``executemany`` per chunk), so the checks that need the whole file (duplicates,
unknown or misplaced research IDs) and the final writes are single SQL statements, and memory
stays bounded whatever the file's size. Problems go to a table too: a file with a million bad
rows is reported whole without holding the report in memory.
"""
from __future__ import annotations

import csv
from typing import TextIO

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text, func, insert, select

from ...spreadsheet import neutralise

PROBLEM_HEAD = 50


def write_problems(rows, stream: TextIO) -> None:
    """The report CSV: a header, then (line, column, value, reason, code) per problem."""
    writer = csv.writer(stream)
    writer.writerow(ProblemLog.COLUMNS)
    for row in rows:
        # The values come from the file: a cell like "=HYPERLINK(...)" must not run in Excel.
        writer.writerow(["" if v is None else neutralise(v) for v in row])


class Staging:
    """A temporary table on the session's connection (dropped at the end, commit or not)."""

    def __init__(self, session, name: str, columns: list[Column], key: list[str] | None = None):
        self.session = session
        self.conn = session.connection()
        self.dialect = self.conn.dialect.name
        meta = MetaData()
        self.table = Table(name, meta, *columns, prefixes=["TEMPORARY"])
        self._key = key
        self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        self.table.create(self.conn)

    @property
    def c(self):
        return self.table.c

    def load(self, rows: list[tuple]) -> None:
        if not rows:
            return
        names = [c.name for c in self.table.columns]
        if self.dialect == "postgresql":
            cursor = self.conn.connection.driver_connection.cursor()
            with cursor.copy(f"COPY {self.table.name} ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            self.conn.execute(insert(self.table), [dict(zip(names, row)) for row in rows])

    def index(self) -> None:
        """Index the key once the rows are in (cheaper than keeping an index up to date while loading)."""
        if self._key:
            Index(f"ix_{self.table.name}_key", *[self.table.c[k] for k in self._key]).create(self.conn)

    def drop(self) -> None:
        try:
            self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self.table.name}")
        except Exception:  # the transaction is gone with its temp table (PostgreSQL), nothing to drop
            pass


class ProblemLog:
    """Every problem found in a file: line, column, value, reason, code."""

    COLUMNS = ("line", "column", "value", "reason", "code")

    def __init__(self, session):
        self.staging = Staging(session, "_import_problems", [
            Column("line", Integer), Column("col", String(100)), Column("value", Text),
            Column("reason", Text), Column("code", String(40)),
        ])
        self._buffer: list[tuple] = []

    @property
    def c(self):
        return self.staging.c

    def add(self, line: int | None, column: str, value: str, reason: str, code: str) -> None:
        self._buffer.append((line, column, value, reason, code))
        if len(self._buffer) >= 5000:
            self.flush()

    def flush(self) -> None:
        self.staging.load(self._buffer)
        self._buffer = []

    def add_from(self, query) -> None:
        """Problems found by a query over the staging table, whose columns are (line, col, value, reason, code)."""
        self.flush()
        table = self.staging.table
        self.staging.conn.execute(insert(table).from_select(["line", "col", "value", "reason", "code"], query))

    def count(self) -> int:
        self.flush()
        return self.staging.conn.execute(select(func.count()).select_from(self.staging.table)).scalar()

    def _ordered(self):
        c = self.staging.c
        return select(c.line, c.col, c.value, c.reason, c.code).order_by(c.line.nulls_first(), c.col)

    def head(self, n: int = PROBLEM_HEAD) -> list[tuple]:
        self.flush()
        return [tuple(r) for r in self.staging.conn.execute(self._ordered().limit(n))]

    def write_csv(self, stream: TextIO) -> None:
        self.flush()
        write_problems(self.staging.conn.execution_options(stream_results=True, yield_per=5000)
                       .execute(self._ordered()), stream)

    def drop(self) -> None:
        self.staging.drop()
