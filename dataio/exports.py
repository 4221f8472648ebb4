"""Exports: one generic writer (.xlsx / .csv) over a selector's queryset and a column
spec, with the privacy rules applied in one place.

Minors' and parents' data is sensitive (PIPL). Who may export what:
- teachers export nothing;
- front desk: the basic contact lists (students, parents) of its branch, no money or
  scores;
- counselors, managers, head office: every list, rows scoped by crm.permissions.
Columns marked "contact" are masked for roles without crm.permissions.can_see_contact,
"money" and "score" columns are dropped for roles that may not see them, and every
export writes an audit entry (who, when, which list and filter, how many rows).

A new list plugs in by adding an ExportSpec to EXPORTS.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from crm.permissions import (
    branch_of,
    can_see_contact,
    can_see_money,
    can_see_scores,
    role_of,
)
from crm.roles import Role
from crm.services import audit
from crm.spreadsheets import safe_cell, safe_row
from lifecycle.explain import join_reasons, reason_texts
from lifecycle.periods import Period
from parents.phones import display_phone, mask_phone, mask_text

from . import selectors
from .columns import STUDENT_WIDE, Col, columns_for
from .models import ImportKind

CONTACT, MONEY, SCORE = "contact", "money", "score"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ExportColumn:
    key: str
    header: str | Promise
    get: Callable[[Any], Any]
    sensitive: str = ""
    mask: Callable[[str], str] = mask_phone


@dataclass(frozen=True)
class ExportSpec:
    name: str
    label: str | Promise
    selector: Callable[..., QuerySet]
    columns: Callable[[], list[ExportColumn]]
    roles: frozenset[str] = frozenset({Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE})


@dataclass
class ExportResult:
    filename: str
    content_type: str
    content: bytes
    rows: int


def _zh() -> bool:
    return (get_language() or "").startswith("zh")


def _header(col: Col) -> str:
    return col.zh if _zh() else col.en


def _student_cols() -> list[ExportColumn]:
    """The students import template's columns (wide layout), so an export re-imports."""
    by_key = {c.key: c for c in STUDENT_WIDE}

    def guardian(i: int) -> Callable[[Any], Any]:
        def get(s: Any) -> Any:
            gs = list(s.guardianships.all())
            return gs[i].parent if len(gs) > i else None
        return get

    def consent(s: Any) -> Any:
        return next(iter(s.consents.all()), None)

    gender_out = {"m": "男", "f": "女"} if _zh() else {"m": "M", "f": "F"}
    yes = "是" if _zh() else "yes"
    cols = [
        ExportColumn("branch", _header(by_key["branch"]), lambda s: s.branch.code),
        ExportColumn("name_zh", _header(by_key["name_zh"]), lambda s: s.name_zh),
        ExportColumn("name_en", _header(by_key["name_en"]), lambda s: s.name_en),
        ExportColumn("gender", _header(by_key["gender"]),
                     lambda s: gender_out.get(s.gender, "")),
        ExportColumn("birth_date", _header(by_key["birth_date"]), lambda s: s.birth_date),
        ExportColumn("grade", _header(by_key["grade"]), lambda s: s.grade),
        ExportColumn("school", _header(by_key["school"]), lambda s: s.school),
        ExportColumn("consent", _header(by_key["consent"]),
                     lambda s: yes if consent(s) else ""),
        ExportColumn("consent_method", _header(by_key["consent_method"]),
                     lambda s: consent(s).method if consent(s) else ""),
    ]
    for i in (0, 1):
        n = i + 1
        g = guardian(i)

        def rel(s: Any, i: int = i) -> str:
            gs = list(s.guardianships.all())
            return gs[i].relation if len(gs) > i else ""

        cols += [
            ExportColumn(f"parent{n}_name", _header(by_key[f"parent{n}_name"]),
                         lambda s, g=g: g(s).name if g(s) else ""),
            ExportColumn(f"parent{n}_phone", _header(by_key[f"parent{n}_phone"]),
                         lambda s, g=g: display_phone(g(s).phone) if g(s) else "",
                         sensitive=CONTACT),
            ExportColumn(f"parent{n}_relation", _header(by_key[f"parent{n}_relation"]), rel),
        ]
    cols += [
        ExportColumn("period", _("Lifecycle period"), lambda s: Period(s.period).label),
        ExportColumn("counselor", _("Counselor"),
                     lambda s: str(s.counselor) if s.counselor else ""),
    ]
    return cols


def _at_risk_cols() -> list[ExportColumn]:
    base = [c for c in _student_cols() if c.key in {"branch", "name_zh", "grade",
                                                    "parent1_name", "parent1_phone",
                                                    "counselor"}]
    return [
        *base,
        ExportColumn("previous_period", _("Period before at-risk"),
                     lambda s: Period(s.previous_period).label if s.previous_period else ""),
        ExportColumn("period_since", _("In period since"),
                     lambda s: timezone.localtime(s.period_since).date()),
        ExportColumn("remaining_hours", _("Hours left"), lambda s: s.remaining_hours),
        ExportColumn("attendance_rate", _("Attendance rate (8 weeks)"),
                     lambda s: round(s.attendance_rate, 3)
                     if s.attendance_rate is not None else ""),
        ExportColumn("risk_score", _("Risk score"),
                     lambda s: getattr(s, "risk_score", None), sensitive=SCORE),
        ExportColumn("risk_reasons", _("Main reasons"), _risk_reasons, sensitive=SCORE),
    ]


def _risk_reasons(student: Any) -> str:
    """The stored factors in words, in the exporter's language (lifecycle.explain)."""
    try:
        factors = student.score.risk_factors
    except ObjectDoesNotExist:
        return ""
    return join_reasons(reason_texts(factors))


def _parent_cols() -> list[ExportColumn]:
    return [
        ExportColumn("name", _("Parent"), lambda p: p.name),
        ExportColumn("phone", _("Phone"), lambda p: display_phone(p.phone), sensitive=CONTACT),
        ExportColumn("wechat_id", _("WeChat id"), lambda p: p.wechat_id, sensitive=CONTACT,
                     mask=mask_text),
        ExportColumn("branch", _("Branch"), lambda p: p.branch.code),
        ExportColumn("children", _("Children"),
                     lambda p: "、".join(g.student.name_zh for g in p.guardianships.all())),
    ]


BASIC = frozenset({Role.FRONT_DESK, Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE})

EXPORTS: dict[str, ExportSpec] = {
    "students": ExportSpec("students", _lazy("Students with parents"),
                           selectors.export_students, _student_cols, BASIC),
    "at_risk": ExportSpec("at_risk", _lazy("At-risk list"), selectors.export_at_risk,
                          _at_risk_cols),
    "parents": ExportSpec("parents", _lazy("Parents"), selectors.export_parents,
                          _parent_cols, BASIC),
}


def exports_for(user: Any) -> list[ExportSpec]:
    role = role_of(user)
    return [s for s in EXPORTS.values() if role in s.roles]


def can_export(user: Any, name: str | None = None) -> bool:
    specs = exports_for(user)
    return bool(specs) if name is None else any(s.name == name for s in specs)


def visible_columns(user: Any, spec: ExportSpec) -> list[ExportColumn]:
    """Drop money and score columns for roles that may not see them."""
    keep = []
    for col in spec.columns():
        if col.sensitive == MONEY and not can_see_money(user):
            continue
        if col.sensitive == SCORE and not can_see_scores(user):
            continue
        keep.append(col)
    return keep


def _value(user: Any, col: ExportColumn, obj: Any, contact: bool) -> Any:
    value = col.get(obj)
    if value is None:
        return ""
    if col.sensitive == CONTACT and not contact and value:
        return col.mask(str(value))
    if isinstance(value, Promise):
        return str(value)
    return value


def write_table(headers: list[str], rows: list[list[Any]], fmt: str) -> bytes:
    """CSV as UTF-8 with a BOM (Excel on Chinese Windows then reads it right), or .xlsx.

    Every cell goes through crm.spreadsheets.safe_cell (no formula injection, no characters
    that break the workbook)."""
    headers = safe_row(headers)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([safe_cell(v.isoformat()) if hasattr(v, "isoformat") else safe_cell(v)
                             for v in row])
        return ("\ufeff" + buf.getvalue()).encode("utf-8")
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(headers)
    for row in rows:
        # Phones are written as text cells, so Excel does not show 1.38E+10.
        ws.append(safe_row(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def export_run(*, actor: Any, name: str, filters: dict[str, Any], fmt: str = "xlsx"
               ) -> ExportResult:
    """Build the file and record the export in the audit log (same transaction)."""
    spec = EXPORTS.get(name)
    if spec is None or not can_export(actor, name):
        raise PermissionDenied(_("Your role may not export this list."))
    if fmt not in {"xlsx", "csv"}:
        fmt = "xlsx"
    qs = spec.selector(user=actor, **{k: v for k, v in filters.items() if v})
    cols = visible_columns(actor, spec)
    contact = can_see_contact(actor)
    rows = [[_value(actor, c, obj, contact) for c in cols] for obj in qs.iterator(
        chunk_size=2000)]
    content = write_table([str(c.header) for c in cols], rows, fmt)
    with transaction.atomic():
        audit(actor=actor, action="export", object_type=f"dataio.export.{name}",
              branch=branch_of(actor),
              data={"list": name, "filters": {k: str(v) for k, v in filters.items() if v},
                    "rows": len(rows), "format": fmt, "contacts_masked": not contact,
                    "columns": [c.key for c in cols]})
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return ExportResult(filename=f"{name}-{stamp}.{fmt}",
                        content_type=XLSX if fmt == "xlsx" else "text/csv; charset=utf-8",
                        content=content, rows=len(rows))


# --------------------------------------------------------------------------- templates
def import_template(*, kind: str, fmt: str = "xlsx") -> ExportResult:
    """An empty file with the kind's headers in the user's language (+ a help sheet)."""
    if kind not in ImportKind.values:
        raise PermissionDenied(_("Unknown import kind."))
    cols = columns_for(kind, "wide")
    headers = [_header(c) for c in cols]
    if fmt == "csv":
        content = write_table(headers, [], "csv")
    else:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        wb = Workbook()
        ws = wb.active
        ws.title = ImportKind(kind).label[:31] if not _zh() else "数据"
        ws.append(headers)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for i, c in enumerate(cols, 1):
            if c.required:
                ws.cell(row=1, column=i).font = Font(bold=True, color="C00000")
            ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = 14
        info = wb.create_sheet(_("Help"))
        info.append([_("Column"), _("Required"), _("Notes")])
        for c in cols:
            info.append([_header(c), _("yes") if c.required else "", str(c.help)])
        out = io.BytesIO()
        wb.save(out)
        content = out.getvalue()
    return ExportResult(filename=f"template-{kind}.{fmt}",
                        content_type=XLSX if fmt == "xlsx" else "text/csv; charset=utf-8",
                        content=content, rows=0)
