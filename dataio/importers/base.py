"""What every import kind shares: the plan (dry-run result), row errors, branch and
student look-ups. A kind's importer has two steps:

- `plan(sheet)`: parse and validate every row against the file and the database
  (read-only, set-based: a few queries per 2,000 rows) and say per row what will happen;
- `apply(plan)`: write the plan with bulk inserts. The caller runs it inside one
  transaction after planning again, so the rows are checked against the database as
  it is at that moment (see dataio.services).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm.models import Branch
from crm.permissions import scope_branches
from parents.phones import normalize_phone_lenient

from ..columns import FAMILY_KINDS, Col, HeaderMap, columns_for, map_headers
from ..parsing import CellError, text
from ..readers import Cell, Sheet

BATCH = 2000


class Action:
    CREATE = "create"
    UPDATE = "update"
    MATCH = "match"
    ERROR = "error"


@dataclass
class RowPlan:
    row: int
    action: str
    text: str


@dataclass
class Plan:
    kind: str
    layout: str = ""
    rows: list[RowPlan] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    # Kept rows with something to review (a contact name that differs, an unknown
    # counselor...): same shape as errors.
    warnings: list[dict[str, Any]] = field(default_factory=list)
    # Values the parsers did not know, per column key, for the user to map in the page
    # (ImportJob.options["values"]), e.g. {"subject": ["奥数"]}.
    unknown_values: dict[str, list[str]] = field(default_factory=dict)
    # importer-specific prepared records for apply()
    items: list[Any] = field(default_factory=list)
    rows_total: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        c = Counter(r.action for r in self.rows)
        return {a: c.get(a, 0) for a in (Action.CREATE, Action.UPDATE, Action.MATCH,
                                         Action.ERROR)}


@dataclass
class Context:
    """Who imports, into which branch, and how to report progress."""

    actor: Any
    branch: Branch | None = None
    progress: Callable[[int], None] = lambda done: None
    # The job's column mapping (header -> key) and options (see ImportJob.options).
    mapping: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        allowed = scope_branches(self.actor, Branch.objects.all())
        self.allowed_ids = set(allowed.values_list("pk", flat=True))
        self._branches: dict[str, Branch] = {}
        for b in Branch.objects.all():
            self._branches[b.code.lower()] = b
            self._branches[b.name.lower()] = b

    def branch_for(self, value: Cell) -> Branch:
        raw = text(value)
        if not raw:
            if self.branch is None:
                raise CellError(_("Enter the branch (or choose a default branch for the "
                                  "file)."))
            return self.branch
        branch = self._branches.get(raw.lower())
        if branch is None:
            raise CellError(_("Unknown branch “%(value)s”.") % {"value": raw})
        if branch.pk not in self.allowed_ids:
            raise CellError(_("You may not import into branch %(branch)s.")
                            % {"branch": branch.name})
        return branch

    @property
    def user(self) -> Any:
        return self.actor if getattr(self.actor, "pk", None) else None


class RowReader:
    """One data row with its header map: `get(key)` and error collection by column."""

    def __init__(self, row_no: int, cells: list[Cell], headers: HeaderMap,
                 columns: dict[str, Col]):
        self.row = row_no
        self.cells = cells
        self.headers = headers
        self.columns = columns
        self.errors: list[dict[str, Any]] = []
        self.warnings: list[dict[str, Any]] = []

    def raw(self, key: str) -> Cell:
        i = self.headers.index.get(key)
        if i is None or i >= len(self.cells):
            return None
        return self.cells[i]

    def column(self, key: str) -> str:
        if key in self.headers.written:
            return self.headers.written[key]
        col = self.columns.get(key)
        return col.zh if col else key

    def error(self, key: str, reason: str) -> None:
        self.errors.append({"row": self.row, "column": self.column(key), "reason": str(reason)})

    def warn(self, key: str, reason: str) -> None:
        """The row is imported, but something in it should be looked at."""
        self.warnings.append({"row": self.row, "column": self.column(key),
                              "reason": str(reason)})

    def get(self, key: str, parse: Callable[..., Any] = text, **kwargs: Any) -> Any:
        """The parsed cell; on a bad value the error is recorded and None returned.

        Required-ness comes from the column spec; `kwargs` go to the parser.
        """
        value = self.raw(key)
        if self.columns[key].required and text(value) == "":
            self.error(key, _("This value is required."))
            return None
        try:
            return parse(value, **kwargs)
        except CellError as exc:
            self.error(key, exc.reason)
            return None

    def phone(self, key: str, *, required: bool = True) -> str | None:
        value = text(self.raw(key))
        if not value:
            if required:
                self.error(key, _("This value is required."))
            return None
        try:
            phone, known = normalize_phone_lenient(value)
        except ValidationError as exc:
            self.error(key, " ".join(exc.messages))
            return None
        if not known:
            self.warn(key, _("%(value)s is outside the number ranges known to be in use: "
                             "kept, check it.") % {"value": value})
        return phone

    def model_errors(self, exc: ValidationError, field_to_key: dict[str, str]) -> None:
        """A model's full_clean errors, each put on the column it came from."""
        for fname, messages in exc.message_dict.items():
            key = field_to_key.get(fname, fname)
            for m in messages:
                self.error(key, m)


class Importer:
    kind: ClassVar[str]

    def __init__(self, ctx: Context, *, preview: bool = True):
        self.ctx = ctx
        # False when planning again inside the confirmed import: skip the preview texts.
        self.preview = preview

    # --- planning ----------------------------------------------------------------------
    def readers(self, sheet: Sheet, plan: Plan) -> list[RowReader] | None:
        """Map the headers; a missing required column is one file-level error (row 1)."""
        headers = map_headers(self.kind, sheet.headers, self.ctx.mapping)
        plan.layout = headers.layout
        cols = columns_for(self.kind, headers.layout)
        by_key = {c.key: c for c in cols}
        missing = [c for c in cols if c.required and c.key not in headers.index]
        for c in missing:
            plan.errors.append({"row": 1, "column": c.zh if _lang_zh() else c.en,
                                "reason": _("Required column is missing (expected “%(zh)s” "
                                            "or “%(en)s”).") % {"zh": c.zh, "en": c.en}})
        if (self.kind not in FAMILY_KINDS and "external_id" in by_key
                and "external_id" not in headers.index):
            # The student is named by number, or else by name and a guardian's phone.
            for key in ("name_zh", "parent_phone"):
                if key not in headers.index:
                    c = by_key[key]
                    missing.append(c)
                    plan.errors.append({"row": 1, "column": c.zh if _lang_zh() else c.en,
                                        "reason": _("Required column is missing: give the "
                                                    "student number (学员编号), or the "
                                                    "student's name and a guardian's phone "
                                                    "(expected “%(zh)s” or “%(en)s”).")
                                        % {"zh": c.zh, "en": c.en}})
        plan.rows_total = len(sheet.rows)
        if missing:
            return None
        return [RowReader(n, cells, headers, by_key) for n, cells in sheet.rows]

    def plan(self, sheet: Sheet) -> Plan:
        raise NotImplementedError

    def apply(self, plan: Plan) -> dict[str, int]:
        raise NotImplementedError

    def placement(self, plan: Plan) -> tuple[set[int], dict[int, Any]]:
        """The accounts whose lifecycle placement this file may change (after apply), and
        leaving statuses by student; see lifecycle.services.accounts_place_imported."""
        return set(), {}

    # --- shared -----------------------------------------------------------------------
    @staticmethod
    def finish(plan: Plan, readers: Iterable[RowReader], texts: dict[int, tuple[str, str]]
               ) -> Plan:
        """Per-row outcome: any error makes the row an error row."""
        for r in readers:
            plan.warnings.extend(r.warnings)
            if r.errors:
                plan.errors.extend(r.errors)
                plan.rows.append(RowPlan(r.row, Action.ERROR,
                                         "; ".join(e["reason"] for e in r.errors)))
            else:
                action, what = texts.get(r.row, (Action.MATCH, ""))
                plan.rows.append(RowPlan(r.row, action, what))
        plan.errors.sort(key=lambda e: e["row"])
        plan.warnings.sort(key=lambda e: e["row"])
        return plan


def _lang_zh() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "").startswith("zh")


def chunks(items: list, size: int = BATCH) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def students_by_name_and_phone(pairs: set[tuple[str, str]], allowed_branch_ids: set[int]
                               ) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(student name, guardian phone in E.164) -> the students it names, set-based.

    The other kinds name a student the way staff do: by name and a parent's phone.
    """
    from parents.models import Guardianship

    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    items = sorted(pairs)
    for part in chunks(items):
        names = {n for n, _p in part}
        phones = {p for _n, p in part}
        rows = (Guardianship.objects.filter(parent__phone__in=phones, student__name_zh__in=names)
                .values("student_id", "student__name_zh", "student__branch_id", "parent__phone"))
        for row in rows:
            key = (row["student__name_zh"], row["parent__phone"])
            if key in pairs:
                found.setdefault(key, []).append(
                    {"id": row["student_id"], "branch_id": row["student__branch_id"]})
    return found


def students_by_external_id(numbers: set[str], allowed_branch_ids: set[int]
                            ) -> dict[str, list[dict[str, Any]]]:
    """Previous-system student number -> the students holding it (one per branch)."""
    from students.models import Student

    found: dict[str, list[dict[str, Any]]] = {}
    for part in chunks(sorted(numbers)):
        for row in Student.objects.filter(external_id__in=part,
                                          branch_id__in=allowed_branch_ids).values(
                "id", "external_id", "branch_id"):
            found.setdefault(row["external_id"], []).append(
                {"id": row["id"], "branch_id": row["branch_id"]})
    return found


class StudentRefs:
    """Finds the student each row names: by the previous system's student number
    (学员编号) when the row has one, else by name and a guardian's phone; set-based."""

    def __init__(self, ctx: Context, readers: list[RowReader]):
        self.ctx = ctx
        numbers = {text(r.raw("external_id")) for r in readers} - {""}
        self.by_number = students_by_external_id(numbers, ctx.allowed_ids)
        pairs = set()
        for r in readers:
            if text(r.raw("external_id")) and text(r.raw("external_id")) in self.by_number:
                continue
            name = text(r.raw("name_zh"))
            try:
                phone, _known = normalize_phone_lenient(text(r.raw("parent_phone")))
            except ValidationError:
                continue
            pairs.add((name, phone))
        self.by_pair = students_by_name_and_phone(pairs, ctx.allowed_ids)

    @property
    def ids(self) -> set[int]:
        return ({h["id"] for hits in self.by_number.values() for h in hits}
                | {h["id"] for hits in self.by_pair.values() for h in hits})

    def resolve(self, r: RowReader) -> int | None:
        number = text(r.raw("external_id"))
        if number:
            hits = self.by_number.get(number, [])
            if len(hits) > 1 and self.ctx.branch is not None:
                hits = [h for h in hits if h["branch_id"] == self.ctx.branch.pk]
            if len(hits) == 1:
                return hits[0]["id"]
            if len(hits) > 1:
                r.error("external_id", _("Student number %(no)s is used in several branches: "
                                         "choose the default branch for the file.")
                        % {"no": number})
                return None
            if not text(r.raw("name_zh")) or not text(r.raw("parent_phone")):
                r.error("external_id", _("No student with the student number %(no)s is "
                                         "registered.") % {"no": number})
                return None
        name = text(r.raw("name_zh"))
        if not name:
            r.error("name_zh", _("This value is required."))
        phone = r.phone("parent_phone")
        return resolve_student(r, self.by_pair, name or None, phone, self.ctx.allowed_ids)


def resolve_student(r: RowReader, found: dict[tuple[str, str], list[dict[str, Any]]],
                    name: str | None, phone: str | None, allowed: set[int]) -> int | None:
    if not name or not phone:
        return None
    hits = {h["id"]: h for h in found.get((name, phone), [])}
    if not hits:
        r.error("name_zh", _("No student named %(name)s with a guardian phone %(phone)s is "
                             "registered.") % {"name": name, "phone": text(r.raw("parent_phone"))})
        return None
    visible = [h for h in hits.values() if h["branch_id"] in allowed]
    if not visible:
        r.error("name_zh", _("%(name)s is registered at another branch.") % {"name": name})
        return None
    if len(visible) > 1:
        r.error("name_zh", _("Several students named %(name)s share this guardian phone; "
                             "merge the duplicates first.") % {"name": name})
        return None
    return visible[0]["id"]
