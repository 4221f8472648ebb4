"""Students with their parents (guardians), one row per student (parent1_*/parent2_*
columns) or one row per parent-student pair (parent_* columns).

Natural keys, so a re-import creates nothing: a parent is its phone (E.164); a student
is (Chinese name, birth date or else grade, any of its guardians' phones). In the
one-row-per-pair layout rows are grouped into one student by (branch, name, birth date
or else grade): give birth dates when two different children share a name and grade.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.db import db_datetime, raw_insert
from crm.models import Branch, StaffProfile
from crm.roles import Role
from crm.text import pinyin_keys
from lifecycle.placement import Leaving
from marketing.models import Channel
from parents.models import GuardianConsent, Guardianship, Parent
from students.choices import DecisionStyle
from students.models import Student

from .. import parsing
from ..models import ImportKind
from ..parsing import grade_label
from ..readers import Sheet
from .base import Action, Importer, Plan, RowReader, chunks

_PARENT_NAME = Parent._meta.get_field("name")
# Fields a re-import may fill in or correct on an existing student (when the file has
# a value for them).
UPDATABLE = ("name_en", "gender", "school", "grade", "birth_date", "external_id",
             "decision_style", "counselor_id", "source_id", "source_detail")
OPTIONAL = {"external_id", "decision_style", "counselor_id", "source_id", "source_detail"}
_EXTERNAL_ID = Student._meta.get_field("external_id")


@functools.lru_cache(maxsize=200_000)
def _pinyin(name: str) -> tuple[str, str]:
    # Surnames and given names repeat a lot in a school's list; pypinyin is the slow part.
    return pinyin_keys(name)


@dataclass
class ParentIn:
    name: str
    phone: str
    relation: str
    slot: str  # "parent1", "parent2" or "parent": the columns it came from
    row: int


@dataclass
class StudentItem:
    row: int
    branch: Branch
    fields: dict[str, Any]
    parents: list[ParentIn]
    consent: bool = False
    consent_method: str = ""
    rows: list[int] = field(default_factory=list)
    student_id: int | None = None
    updates: dict[str, Any] = field(default_factory=dict)
    probe: Student | None = None  # the unsaved row full_clean checked; asked about PIPL
    given: set[str] = field(default_factory=set)  # optional fields the file has a value for
    extra: dict[str, Any] = field(default_factory=dict)  # a subclass's own columns
    leaving: Leaving | None = None  # a former customer (退学 / 结课 / 休学)

    @property
    def key(self) -> tuple[Any, ...]:
        f = self.fields
        return (self.branch.pk, f["name_zh"], f["birth_date"] or f["grade"])


class StudentImporter(Importer):
    kind = ImportKind.STUDENTS

    def _parse(self, r: RowReader, slots: list[str]) -> StudentItem | None:
        branch = r.get("branch", self.ctx.branch_for)
        name = r.get("name_zh")
        grade = r.get("grade", parsing.grade)
        birth = r.get("birth_date", parsing.date, not_future=True)
        gender = r.get("gender", parsing.gender)
        consent = r.get("consent", parsing.yes_no)
        method = ""
        if parsing.text(r.raw("consent_method")):
            method = r.get("consent_method", parsing.consent_method) or ""
        parents: list[ParentIn] = []
        for i, slot in enumerate(slots):
            pname = parsing.text(r.raw(f"{slot}_name"))
            praw = parsing.text(r.raw(f"{slot}_phone"))
            if i > 0 and not pname and not praw:
                continue  # the second parent is optional
            if not pname:
                r.error(f"{slot}_name", _("This value is required."))
            phone = r.phone(f"{slot}_phone")
            relation = r.get(f"{slot}_relation", parsing.relation, default="other")
            if pname and phone and relation:
                try:  # the model field's own rules (length); the phone is normalised above
                    _PARENT_NAME.clean(pname, None)
                except ValidationError as exc:
                    r.model_errors(ValidationError({"name": exc.messages}),
                                   {"name": f"{slot}_name"})
                    continue
                parents.append(ParentIn(pname, phone, relation, slot, r.row))
        if len({p.phone for p in parents}) < len(parents):
            r.error(f"{slots[-1]}_phone", _("The same phone number is entered twice."))
        number = parsing.text(r.raw("external_id"))
        if number:
            try:
                _EXTERNAL_ID.clean(number, None)
            except ValidationError as exc:
                r.error("external_id", " ".join(exc.messages))
        leaving = self._leaving(r)
        decision = ""
        if parsing.text(r.raw("decision_maker")):
            decision = r.get("decision_maker", parsing.decision_style) or ""
        if r.errors or branch is None:
            return None
        fields = {"name_zh": name, "name_en": parsing.text(r.raw("name_en")), "gender": gender,
                  "birth_date": birth, "grade": grade, "school": parsing.text(r.raw("school")),
                  "external_id": number, "decision_style": decision or DecisionStyle.JOINT,
                  "counselor_id": self._counselor(r, branch), "source_id": None,
                  "source_detail": ""}
        self._source(r, fields)
        given = {k for k in OPTIONAL if fields[k] and (k != "decision_style" or decision)}
        # Field rules (lengths, choices) are the model's: ask it, without per-row queries
        # (uniqueness and foreign keys are checked set-based below).
        probe = Student(branch=branch, **fields)
        try:
            probe.full_clean(exclude=["branch", "counselor", "source", "created_by",
                                      "external_id"],
                             validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            r.model_errors(exc, {})
            return None
        return StudentItem(row=r.row, branch=branch, fields=fields, parents=parents,
                           consent=bool(consent), consent_method=method, rows=[r.row],
                           probe=probe, given=given, leaving=leaving)

    def _leaving(self, r: RowReader) -> Leaving | None:
        status = r.get("status", parsing.student_status) if parsing.text(r.raw("status")) else ""
        left_on = r.get("left_on", parsing.date, not_future=True)
        if not status or status == "active":
            return None
        if left_on is None:
            r.error("left_on", _("Give the date a former customer left (退学日期)."))
            return None
        return Leaving(status=status, on=left_on,
                       reason=parsing.text(r.raw("leave_reason"))[:300])

    def placement(self, plan: Plan) -> tuple[set[int], dict[int, Leaving]]:
        leavings = {it.student_id: it.leaving for it in plan.items
                    if it.leaving is not None and it.student_id}
        return set(leavings), leavings

    def _lookups(self) -> None:
        """Staff (by display name, login or full name) and source channels, once per file."""
        self._staff: dict[str, list[tuple[int, int | None]]] = {}
        for row in StaffProfile.objects.filter(
                role__in=[Role.COUNSELOR, Role.MANAGER]).values(
                "user_id", "branch_id", "display_name", "user__username", "user__first_name",
                "user__last_name"):
            first, last = row["user__first_name"], row["user__last_name"]
            for key in (row["display_name"], row["user__username"], f"{last}{first}",
                        f"{first} {last}"):
                if key.strip():
                    self._staff.setdefault(key.strip().lower(), []).append(
                        (row["user_id"], row["branch_id"]))
        self._channels: dict[str, int] = {}
        for ch in Channel.objects.values("id", "code", "name_zh", "name_en"):
            for key in (ch["code"], ch["name_zh"], ch["name_en"]):
                if key:
                    self._channels[key.strip().lower()] = ch["id"]

    def _counselor(self, r: RowReader, branch: Branch) -> int | None:
        raw = parsing.text(r.raw("counselor"))
        if not raw:
            return None
        hits = sorted({uid for uid, bid in self._staff.get(raw.lower(), []) if bid == branch.pk})
        if len(hits) != 1:
            # A counselor who has left is common in an old export: keep the student, in
            # the branch pool, and say so.
            r.warn("counselor", _("No counselor “%(value)s” at %(branch)s: the student is "
                                  "left unassigned.") % {"value": raw, "branch": branch.name})
            return None
        return hits[0]

    def _source(self, r: RowReader, fields: dict[str, Any]) -> None:
        raw = parsing.text(r.raw("source"))
        if not raw:
            return
        fields["source_id"] = self._channels.get(raw.lower())
        if fields["source_id"] is None:
            fields["source_detail"] = raw[:200]
            r.warn("source", _("Unknown source channel “%(value)s”: kept as the source "
                               "detail.") % {"value": raw})

    def plan(self, sheet: Sheet) -> Plan:
        plan = Plan(kind=self.kind)
        readers = self.readers(sheet, plan)
        if readers is None:
            return plan
        slots = ["parent1", "parent2"] if plan.layout == "wide" else ["parent"]
        self._lookups()
        numbers: dict[tuple[int, str], int] = {}
        by_row = {r.row: r for r in readers}
        items: list[StudentItem] = []
        groups: dict[tuple[Any, ...], list[StudentItem]] = {}
        phone_names: dict[str, tuple[str, int]] = {}
        for n, r in enumerate(readers, 1):
            item = self._parse(r, slots)
            if n % 5000 == 0:
                self.ctx.progress(n // 2)  # parsing is about half of a dry run's time
            if item is None:
                continue
            number = item.fields["external_id"]
            if number:
                first = numbers.setdefault((item.branch.pk, number), r.row)
                if first != r.row and plan.layout != "long":
                    r.error("external_id", _("Student number %(no)s is also in row %(row)s.")
                            % {"no": number, "row": first})
                    continue
            # One phone, one person, within the file too.
            # One phone, one guardian: siblings' rows often name the same parent
            # differently (王芳 / 王女士); the first name is kept, the difference shown.
            for p in item.parents:
                seen = phone_names.setdefault(p.phone, (p.name, r.row))
                if seen[0] != p.name:
                    r.warn(f"{p.slot}_name", _(
                        "This phone is given for %(other)s in row %(row)s and for %(name)s "
                        "here: one guardian, %(other)s; check the name.")
                        % {"other": seen[0], "row": seen[1], "name": p.name})
                    p.name = seen[0]
            if r.errors:
                continue
            phones = {p.phone for p in item.parents}
            same = groups.setdefault(item.key, [])
            if plan.layout == "long" and same:
                target = same[0]
                if phones & {p.phone for p in target.parents}:
                    r.error("name_zh", _("Duplicate of row %(row)s.") % {"row": target.row})
                    continue
                target.parents.extend(item.parents)
                target.rows.append(r.row)
                continue
            dup = next((o for o in same if phones & {p.phone for p in o.parents}), None)
            if dup is not None:
                r.error("name_zh", _("Duplicate of row %(row)s.") % {"row": dup.row})
                continue
            same.append(item)
            items.append(item)
        self._match(items, by_row)
        plan.items = [it for it in items if not any(by_row[n].errors for n in it.rows)]
        return self.finish(plan, readers, self._texts(items, by_row))

    def _match(self, items: list[StudentItem], by_row: dict[int, RowReader]) -> None:
        """Existing parents by phone, existing students by natural key; set-based."""
        phones = sorted({p.phone for it in items for p in it.parents})
        parents: dict[str, dict[str, Any]] = {}
        for part in chunks(phones):
            for row in Parent.objects.filter(phone__in=part).values("id", "phone", "name"):
                parents[row["phone"]] = row
        links: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._linked: set[tuple[int, int]] = set()
        wanted = ["student_id", "student__name_zh", "student__branch_id",
                  *[f"student__{f}" for f in UPDATABLE]]
        ids = sorted(p["id"] for p in parents.values())
        for part in chunks(ids):
            rows = Guardianship.objects.filter(parent_id__in=part).values(
                "parent__phone", "parent_id", *wanted)
            for row in rows:
                links.setdefault((row["student__name_zh"], row["parent__phone"]), []).append(row)
                self._linked.add((row["student_id"], row["parent_id"]))
        # The previous system's student number names the student before anything else.
        numbers = sorted({it.fields["external_id"] for it in items if it.fields["external_id"]})
        by_number: dict[tuple[int, str], dict[str, Any]] = {}
        for part in chunks(numbers):
            for row in Student.objects.filter(external_id__in=part).values(
                    "id", *[w.removeprefix("student__") for w in wanted[1:]]):
                cand = {"student_id": row["id"],
                        **{f"student__{k}": v for k, v in row.items() if k != "id"}}
                by_number[(row["branch_id"], row["external_id"])] = cand
        self._parents = parents
        self._links = links
        today = timezone.localdate()
        for it in items:
            for p in it.parents:
                known = parents.get(p.phone)
                if known is not None and known["name"] != p.name:
                    by_row[p.row].warn(f"{p.slot}_name", _(
                        "This phone is registered to %(known)s, not %(name)s: linked to "
                        "%(known)s; check the name.")
                        % {"known": known["name"], "name": p.name})
            f = it.fields
            cand = by_number.get((it.branch.pk, f["external_id"])) if f["external_id"] else None
            if cand is not None and cand["student__name_zh"] != f["name_zh"]:
                by_row[it.row].error("external_id", _(
                    "Student number %(no)s belongs to %(other)s, not %(name)s.")
                    % {"no": f["external_id"], "other": cand["student__name_zh"],
                       "name": f["name_zh"]})
                continue
            if cand is None:
                cand = self._natural_match(it)
                other = cand["student__external_id"] if cand else ""
                if cand and f["external_id"] and other and other != f["external_id"]:
                    by_row[it.row].error("external_id", _(
                        "%(name)s is registered with the student number %(other)s, not "
                        "%(no)s.") % {"name": f["name_zh"], "other": other,
                                      "no": f["external_id"]})
                    continue
            if cand is not None:
                it.student_id = cand["student_id"]
                if cand["student__branch_id"] not in self.ctx.allowed_ids:
                    by_row[it.row].error("name_zh", _(
                        "%(name)s is registered at another branch.") % {"name": f["name_zh"]})
                it.updates = {
                    k: f[k] for k in UPDATABLE
                    if (k in it.given or k not in OPTIONAL)
                    and f[k] not in (None, "", "u") and f[k] != cand[f"student__{k}"]}
            if it.student_id is None:
                # PIPL: the rule is the model's (needs_guardian_consent), not restated here.
                probe = it.probe or Student(birth_date=f["birth_date"], grade=f["grade"])
                if probe.needs_guardian_consent(today):
                    r = by_row[it.row]
                    if not it.consent:
                        r.error("consent", _("%(name)s is under 14: record a guardian's "
                                             "consent before saving the student's data.")
                                % {"name": f["name_zh"]})
                    elif not it.consent_method:
                        r.error("consent_method", _("Say how the guardian consented (paper, "
                                                    "electronic signature or recorded call)."))

    def _natural_match(self, it: StudentItem) -> dict[str, Any] | None:
        """An existing student with this name, a guardian phone of the row, and the same
        birth date (else grade)."""
        f = it.fields
        for p in it.parents:
            for cand in self._links.get((f["name_zh"], p.phone), []):
                if f["birth_date"] and cand["student__birth_date"]:
                    same = f["birth_date"] == cand["student__birth_date"]
                else:
                    same = f["grade"] == cand["student__grade"]
                if same:
                    return cand
        return None

    def _texts(self, items: list[StudentItem], by_row: dict[int, RowReader]
               ) -> dict[int, tuple[str, str]]:
        texts: dict[int, tuple[str, str]] = {}
        if not self.preview:  # the confirmed import needs the actions, not the sentences
            for it in items:
                for n in it.rows:
                    texts[n] = (Action.CREATE if it.student_id is None
                                else Action.UPDATE if it.updates else Action.MATCH, "")
            return texts
        for it in items:
            f = it.fields
            for n in it.rows:
                parts: list[str] = []
                new_link = False
                if n == it.row:
                    if it.student_id is None:
                        parts.append(_("new student %(name)s (%(grade)s)")
                                     % {"name": f["name_zh"], "grade": grade_label(f["grade"])})
                    elif it.updates:
                        parts.append(_("existing student %(name)s: update %(fields)s")
                                     % {"name": f["name_zh"],
                                        "fields": ", ".join(sorted(
                                            str(Student._meta.get_field(k).verbose_name)
                                            for k in it.updates))})
                    else:
                        parts.append(_("existing student %(name)s") % {"name": f["name_zh"]})
                for p in it.parents:
                    if p.row != n:
                        continue
                    known = self._parents.get(p.phone)
                    if known is None:
                        parts.append(_("new parent %(name)s") % {"name": p.name})
                        new_link = True
                    elif it.student_id and (it.student_id, known["id"]) in self._linked:
                        parts.append(_("parent %(name)s already linked") % {"name": p.name})
                    else:
                        parts.append(_("existing family of %(name)s found by phone: link")
                                     % {"name": p.name})
                        new_link = True
                if it.student_id is None:
                    action = Action.CREATE
                elif (n == it.row and it.updates) or new_link:
                    action = Action.UPDATE
                else:
                    action = Action.MATCH
                texts[n] = (action, "; ".join(parts))
        return texts

    # --- writing ----------------------------------------------------------------------
    def apply(self, plan: Plan) -> dict[str, int]:
        """Set-based writes per batch of 2,000 rows: parents, students, guardianships and
        consents (plus their history rows) go in as multi-row inserts (COPY on
        PostgreSQL) via crm.db.raw_insert; every value was checked by plan()."""
        actor = self.ctx.user
        actor_id = getattr(actor, "pk", None)
        now = db_datetime(timezone.now())
        done = 0
        counts = {"students_created": 0, "students_updated": 0, "parents_created": 0,
                  "guardianships_created": 0, "consents_created": 0}
        for batch in chunks(plan.items):
            phones = sorted({p.phone for it in batch for p in it.parents})
            ids = dict(Parent.objects.filter(phone__in=phones).values_list("phone", "pk"))
            new_parents: dict[str, dict[str, Any]] = {}
            for it in batch:
                for p in it.parents:
                    if p.phone not in ids and p.phone not in new_parents:
                        py, ini = _pinyin(p.name)
                        new_parents[p.phone] = {
                            "branch_id": it.branch.pk, "name": p.name, "name_pinyin": py,
                            "name_initials": ini, "phone": p.phone, "created_at": now,
                            "updated_at": now}
            created = _insert_with_history(Parent, list(new_parents.values()), actor_id, now)
            ids.update(zip(new_parents, created, strict=True))
            counts["parents_created"] += len(created)

            fresh = [it for it in batch if it.student_id is None]
            rows = []
            for it in fresh:
                py, ini = _pinyin(it.fields["name_zh"])
                rows.append({"branch_id": it.branch.pk, **it.fields, "name_pinyin": py,
                             "name_initials": ini, "created_by_id": actor_id,
                             "created_at": now, "updated_at": now, "period_since": now})
            for it, pk in zip(fresh, _insert_with_history(Student, rows, actor_id, now),
                              strict=True):
                it.student_id = pk
            counts["students_created"] += len(fresh)

            changed = [it for it in batch if it.updates and it not in fresh]
            if changed:
                objs = {s.pk: s for s in Student.objects.filter(
                    pk__in=[it.student_id for it in changed])}
                for it in changed:
                    for k, v in it.updates.items():
                        setattr(objs[it.student_id], k, v)
                    objs[it.student_id].updated_at = timezone.now()
                Student.objects.bulk_update(list(objs.values()), [*UPDATABLE, "updated_at"])
                Student.history.bulk_history_create(list(objs.values()), update=True,
                                                    default_user=actor,
                                                    default_change_reason="import")
                counts["students_updated"] += len(changed)

            sids = [it.student_id for it in batch]
            linked = set(Guardianship.objects.filter(student_id__in=sids)
                         .values_list("student_id", "parent_id"))
            has_primary = set(Guardianship.objects.filter(student_id__in=sids,
                                                          is_primary_contact=True)
                              .values_list("student_id", flat=True))
            links = []
            for it in batch:
                for p in it.parents:
                    pair = (it.student_id, ids[p.phone])
                    if pair in linked:
                        continue
                    linked.add(pair)
                    primary = it.student_id not in has_primary
                    has_primary.add(it.student_id)
                    links.append({"student_id": pair[0], "parent_id": pair[1],
                                  "relation": p.relation, "is_primary_contact": primary,
                                  "is_decision_maker": primary, "created_at": now})
            counts["guardianships_created"] += len(
                _insert_with_history(Guardianship, links, actor_id, now))

            consents = [(it.student_id, ids[it.parents[0].phone], it.parents[0].name, now,
                         it.consent_method, json.dumps(["profile", "contact"]), actor_id)
                        for it in fresh if it.consent and it.consent_method]
            raw_insert(GuardianConsent, ["student_id", "guardian_id", "guardian_name",
                                         "given_at", "method", "scope", "recorded_by_id"],
                       consents)
            counts["consents_created"] += len(consents)
            done += sum(len(it.rows) for it in batch)
            self.ctx.progress(done)
        return counts


def _insert_with_history(model: Any, rows: list[dict[str, Any]], actor_id: int | None,
                         now: Any) -> list[int]:
    """Insert DB-ready rows and their simple_history "created" rows; returns the new ids."""
    if not rows:
        return []
    # Optional text fields without a default (blank=True) are "" as a form would save them.
    blanks = {f.column: "" for f in model._meta.concrete_fields
              if f.column not in rows[0] and not f.primary_key and not f.has_default()
              and f.blank and not f.null}
    if blanks:
        rows = [r | blanks for r in rows]
    cols = list(rows[0])
    ids = raw_insert(model, cols, [tuple(r[c] for c in cols) for r in rows], returning=True)
    hist = model.history.model
    kept = [c for c in cols if c in {f.column for f in hist._meta.concrete_fields}]
    raw_insert(hist, ["id", *kept, "history_date", "history_type", "history_user_id",
                      "history_change_reason"],
               [(pk, *[r[c] for c in kept], now, "+", actor_id, "import")
                for pk, r in zip(ids, rows, strict=True)])
    return ids
