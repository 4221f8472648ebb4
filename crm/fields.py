"""Model fields shared by the apps."""
from __future__ import annotations

from typing import Any

from django.db import models


class StoredJSONField(models.JSONField):
    """JSON the database keeps as written: PostgreSQL `json` (text checked on input)
    instead of `jsonb`; other databases as JSONField.

    Why: for documents that are only stored and handed back whole (an account's value
    breakdown and figures, rewritten for every account every night), jsonb's conversion
    into its binary form costs twice json's check on the way in (COPY of 100,000 score
    rows: 2.5 s against 1.2 s here) and buys nothing, since no query looks inside them.
    Not for columns that queries filter, group or DISTINCT on: json has no equality and
    no `?` or `@>` operators. Key order is kept as written.
    """

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is not None and not isinstance(value, str):
            return value  # a driver that decoded json itself
        return super().from_db_value(value, expression, connection)


def json_as_text(sender: Any, connection: Any, **kwargs: Any) -> None:
    """connection_created: psycopg2 hands `json` values back as text, as Django has it do
    for jsonb, so JSONField and crm.db.fetch_rows decode them once, their own way."""
    if connection.vendor != "postgresql":
        return
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    if not is_psycopg3:
        import psycopg2.extras

        psycopg2.extras.register_default_json(conn_or_curs=connection.connection,
                                              loads=lambda text: text)
