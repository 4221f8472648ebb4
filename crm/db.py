"""Fast raw writes for bulk loads (the demo seeder and imports).

Why: for millions of rows, building model instances and letting bulk_create prepare
every value costs many times the SQL itself. These helpers take DB-ready tuples and
use COPY on PostgreSQL, multi-row INSERT elsewhere.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import orjson
from django.db import connection, models, transaction

BATCH_SIZE = 5000

_TEXT_TEMPORALS = {"sqlite": True}  # vendor -> store dates/times as text (looked up once)


def temporals_as_text() -> bool:
    """SQLite stores dates and times as text; other backends take Python values."""
    vendor = connection.vendor
    if vendor not in _TEXT_TEMPORALS:
        _TEXT_TEMPORALS[vendor] = False
    return _TEXT_TEMPORALS[vendor]


def db_datetime(value: dt.datetime, text: bool | None = None) -> object:
    """An aware datetime as the backend stores it (SQLite: naive UTC text, as Django does)."""
    if temporals_as_text() if text is None else text:
        return str(value.astimezone(dt.UTC).replace(tzinfo=None))
    return value


def db_time(value: dt.time) -> object:
    return str(value) if temporals_as_text() else value


def _max_params() -> int:
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return 60_000  # PostgreSQL's bind-parameter limit is 65,535


def raw_insert(model: type[models.Model], columns: list[str], rows: list[tuple],
               *, returning: bool = False) -> list[int]:
    """Multi-row INSERT of already DB-ready tuples; returns the new ids in row order.

    Why: for the millions of attendance and ledger rows, building model instances and
    letting bulk_create prepare every value costs ~10x the SQL itself. Columns the
    caller does not give get their field default, so a new field with a default does
    not break the seeder.
    """
    if not rows:
        return []
    meta = model._meta
    given = set(columns)
    extra_cols, extra_vals = [], []
    for f in meta.concrete_fields:
        if f.primary_key or f.column in given:
            continue
        if not f.has_default() and not f.null:
            raise ValueError(f"raw_insert({meta.label}): no value for {f.column}")
        extra_cols.append(f.column)
        extra_vals.append(f.get_db_prep_save(f.get_default(), connection))
    cols = list(columns) + extra_cols
    extra = tuple(extra_vals)
    if connection.vendor == "postgresql":
        return _pg_copy(meta, cols, rows, extra, returning=returning)
    qn = connection.ops.quote_name
    head = f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(c) for c in cols)}) VALUES "
    one = "(" + ", ".join(["%s"] * len(cols)) + ")"
    tail = f" RETURNING {qn(meta.pk.column)}" if returning else ""
    per = max(1, min(BATCH_SIZE, _max_params() // len(cols)))
    ids: list[int] = []
    with connection.cursor() as cursor:
        for i in range(0, len(rows), per):
            batch = rows[i:i + per]
            params = [v for row in batch for v in (row + extra if extra else row)]
            cursor.execute(head + ", ".join([one] * len(batch)) + tail, params)
            if returning:
                ids.extend(r[0] for r in cursor.fetchall())
    return ids


_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")


def _copy_escape(text: str) -> str:
    if _COPY_SPECIAL.search(text) is None:  # the usual case: nothing to escape
        return text
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def _copy_text(value: object) -> str:
    """One value in COPY's text format (None is \\N, booleans t/f, strings escaped)."""
    kind = type(value)
    if kind is int or kind is float or kind is Decimal:  # type(): True is not an int here
        return str(value)
    if value is None:
        return "\\N"
    if kind is str:
        return _copy_escape(value)
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return _copy_escape(value)
    if isinstance(value, dt.date | dt.time):  # datetimes keep their offset
        return value.isoformat()
    return str(value)


def _copy_json(value: object) -> str:
    """A JSON column's value for COPY: compact, UTF-8, like json.dumps(separators=(",", ":"),
    ensure_ascii=False), at a fraction of the cost (orjson).

    JSON text holds no raw tab, newline or carriage return (strings escape them, and
    compact output has no indentation), so only its backslashes need COPY's escaping."""
    text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    return text.replace("\\", "\\\\") if "\\" in text else text


def _pg_copy(meta: models.options.Options, cols: list[str], rows: list[tuple], extra: tuple,
             *, returning: bool) -> list[int]:
    """PostgreSQL: COPY is several times faster than INSERT for millions of rows.

    Ids are drawn from the table's sequence first, so children can point at them.
    """
    import io

    qn = connection.ops.quote_name
    ids: list[int] = []
    with connection.cursor() as cursor:
        if returning:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) "
                           "FROM generate_series(1, %s)",
                           [meta.db_table, meta.pk.column, len(rows)])
            ids = [r[0] for r in cursor.fetchall()]
            cols = [meta.pk.column, *cols]
        buf = io.StringIO()
        for n, row in enumerate(rows):
            values = (ids[n], *row, *extra) if returning else (*row, *extra)
            buf.write("\t".join(map(_copy_text, values)))
            buf.write("\n")
        sql = f"COPY {qn(meta.db_table)} ({', '.join(qn(c) for c in cols)}) FROM STDIN"
        raw = cursor.cursor
        if hasattr(raw, "copy_expert"):  # psycopg2
            buf.seek(0)
            raw.copy_expert(sql, buf)
        else:  # psycopg 3
            with raw.copy(sql) as copy:
                copy.write(buf.getvalue())
    return ids


def upsert(model: type[models.Model], rows: list[dict], *, conflict: list[str],
           update: list[str]) -> None:
    """INSERT ... ON CONFLICT of plain rows ({attname: python value}), set-based.

    PostgreSQL: COPY into a temporary table, then one INSERT ... SELECT ... ON CONFLICT
    (parsing a thousand-row VALUES list costs several times the write itself). Other
    backends: bulk_create's own upsert. `update` empty means DO NOTHING. Dict and list
    values are JSON.
    """
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    if connection.vendor != "postgresql":
        name_of = {f.attname: f.name for f in fields}
        objs = [model(**r) for r in rows]
        if update:
            model.objects.bulk_create(objs, update_conflicts=True,
                                      unique_fields=[name_of[c] for c in conflict],
                                      update_fields=[name_of[c] for c in update])
        else:
            model.objects.bulk_create(objs, ignore_conflicts=True)
        return
    import io

    qn = connection.ops.quote_name
    table = model._meta.db_table
    stage = qn(f"stage_{table}")
    cols = ", ".join(qn(f.column) for f in fields)
    # Per column: its name, its default (rows may leave it out) and its COPY rendering.
    spec = [(f.attname, f.get_default(),
             _copy_json if isinstance(f, models.JSONField) else _copy_text) for f in fields]
    buf = io.StringIO()
    buf.writelines("\t".join([render(r.get(name, default)) for name, default, render in spec])
                   + "\n" for r in rows)
    buf.seek(0)
    action = ("DO NOTHING" if not update else "DO UPDATE SET " + ", ".join(
        f"{qn(c)} = EXCLUDED.{qn(c)}" for c in update))
    # atomic: ON COMMIT DROP needs a transaction (a savepoint when already in one).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS "
                       f"SELECT {cols} FROM {qn(table)} WITH NO DATA")
        cursor.cursor.copy_expert(f"COPY {stage} ({cols}) FROM STDIN", buf)
        cursor.execute(f"INSERT INTO {qn(table)} ({cols}) SELECT {cols} FROM {stage} "
                       f"ON CONFLICT ({', '.join(qn(c) for c in conflict)}) {action}")
        cursor.execute(f"DROP TABLE {stage}")


def fetch_rows(qs: models.QuerySet, *, json: int | None = None) -> list[tuple]:
    """The rows of a `.values_list(...)` queryset as tuples, without per-row converters.

    Why: for the nightly job's reads of hundreds of thousands of rows, Django's per-value
    converters cost more than the query. PostgreSQL's driver already returns ints,
    Decimals, dates and aware datetimes; other backends (SQLite stores dates as text)
    take the ORM's own iteration. `json`: the position of a JSON column, decoded here
    (orjson), since Django leaves PostgreSQL's JSON text to its converter.
    """
    if connection.vendor != "postgresql":
        return list(qs)
    rows = _raw_rows(qs)
    if json is None:
        return rows
    loads = orjson.loads
    return [(*row[:json], loads(row[json]) if row[json] is not None else None,
             *row[json + 1:]) for row in rows]


def column_names(query: models.sql.Query) -> list[str]:
    """The names of a `.values()`/`.values_list()` query's columns, in SELECT order."""
    return (list(query.selected) if query.selected else
            [*query.extra_select, *query.values_select, *query.annotation_select])


def _raw_rows(qs: models.QuerySet) -> list[tuple]:
    from django.db.models.sql.constants import MULTI

    chunks = qs.query.get_compiler(qs.db).execute_sql(MULTI, chunked_fetch=False)
    return [row for chunk in chunks for row in chunk]


# --------------------------------------------------------------------------- wiping
