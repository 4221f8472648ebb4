"""No redundant indexes in our schema.

Why: every index is written on every insert. An index whose key columns lead another
index of the same table (the FK index on `student` next to `(student, date)`) serves no
lookup the longer one cannot, and on the biggest tables (attendance, the hours ledger:
millions of rows, a row per student per lesson) it only costs writes and disk. The
check reads the models, so it holds on every database.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import models

OUR_APPS = {"crm", "students", "parents", "lifecycle", "marketing", "dataio", "webhooks",
            "timetable"}


@dataclass(frozen=True)
class Idx:
    name: str
    keys: tuple[str, ...]
    include: frozenset[str] = frozenset()
    unique: bool = False
    partial: bool = False


def _columns(model: type[models.Model], names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(model._meta.get_field(n.lstrip("-")).column for n in names)


def indexes_of(model: type[models.Model]) -> list[Idx]:
    """Every index Django creates for the model (pattern-ops twins aside: they serve LIKE,
    a different lookup)."""
    meta = model._meta
    out = []
    for f in meta.local_concrete_fields:
        if f.primary_key or f.unique:
            out.append(Idx(f"{f.name} (unique)", (f.column,), unique=True))
        elif f.db_index:
            out.append(Idx(f"{f.name} (db_index)", (f.column,)))
    for index in meta.indexes:
        out.append(Idx(index.name, _columns(model, index.fields),
                       frozenset(_columns(model, index.include)),
                       partial=index.condition is not None))
    for c in meta.constraints:
        if isinstance(c, models.UniqueConstraint) and c.fields:
            out.append(Idx(c.name, _columns(model, c.fields),
                           frozenset(_columns(model, c.include)), unique=True,
                           partial=c.condition is not None))
    for fields in meta.unique_together:
        out.append(Idx(f"unique_together {fields}", _columns(model, fields), unique=True))
    return out


def redundant(indexes: list[Idx]) -> list[tuple[Idx, Idx]]:
    """(index, the index that makes it redundant): a plain index whose keys lead another
    full (non-partial) index that also holds its included columns."""
    found = []
    for a in indexes:
        if a.unique or a.partial:
            continue
        for b in indexes:
            if b is a or b.partial or b.keys[:len(a.keys)] != a.keys:
                continue
            covered = a.include <= (b.include | set(b.keys[len(a.keys):]))
            if covered and (len(b.keys) > len(a.keys) or b.include > a.include or b.unique):
                found.append((a, b))
                break
    return found


def our_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if m._meta.app_label in OUR_APPS
            and not m._meta.proxy and m._meta.managed]


def test_the_check_finds_what_it_should():
    """A FK index beside a longer index, and a key beside its covering twin, are flagged;
    a unique or partial index, and a longer index, are not."""
    fk = Idx("fk", ("student_id",))
    pair = Idx("pair", ("student_id", "date"))
    cover = Idx("cover", ("student_id", "date"), frozenset({"status"}))
    unique = Idx("unique", ("student_id",), unique=True)
    partial = Idx("partial", ("student_id",), partial=True)
    other = Idx("other", ("date",))
    assert redundant([fk, pair]) == [(fk, pair)]
    assert redundant([pair, cover]) == [(pair, cover)]
    assert redundant([unique, pair, partial, other]) == []
    assert redundant([cover, Idx("wider", ("student_id",), frozenset({"status", "x"}))]) == []


def test_no_index_in_our_schema_is_redundant():
    problems = [f"{m._meta.label}: {a.name} {a.keys} is led by {b.name} {b.keys}"
                for m in our_models() for a, b in redundant(indexes_of(m))]
    assert problems == [], "\n".join(problems)
