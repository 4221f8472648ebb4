"""Editing a family after registration: the student's details and the guardians (add,
remove, primary contact, decision maker), with the history of who changed what.

Writes go through students.services.student_update and parents.services.guardian_*;
django-simple-history keeps every version (the request middleware records the user).
Who may edit: the roles that may change accounts (front desk, counselors, managers,
head office: crm.roles), on students they see; teachers are refused.
"""
from __future__ import annotations

from itertools import pairwise
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm import permissions
from parents.models import Guardianship
from parents.phones import display_phone
from parents.services import guardian_add, guardian_remove, guardian_update
from students.models import Student
from students.services.accounts import EDITABLE_FIELDS, student_update
from students.views import staff_required, visible_student
from workspace.service_forms import GuardianAddForm, GuardianEditForm, StudentEditForm

from .complaints import _form_errors

HISTORY_ROWS = 30


def _may_edit(user: Any) -> None:
    if not (permissions.role_of(user) and user.has_perms(
            ["students.change_student", "parents.change_guardianship"])):
        raise PermissionDenied(_("Your role cannot edit families."))


def _label(model: Any, field: str) -> str:
    try:
        return str(model._meta.get_field(field).verbose_name)
    except Exception:  # a field removed since the version was written
        return field


def _display(record: Any, field: str) -> str:
    value = getattr(record, field, None)
    getter = getattr(record, f"get_{field}_display", None)
    if callable(getter):
        value = getter()
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return "" if value is None else str(value)


def account_history(student: Student) -> list[dict[str, Any]]:
    """Who changed what on the student and the guardianships, newest first (3 queries)."""
    rows: list[dict[str, Any]] = []
    versions = list(student.history.select_related("history_user__staff_profile")
                    .order_by("-history_date", "-history_id")[:HISTORY_ROWS + 1])
    for newer, older in pairwise(versions):
        delta = newer.diff_against(older)
        changes = [f"{_label(Student, c.field)}: {_display(older, c.field)} → "
                   f"{_display(newer, c.field)}" for c in delta.changes]
        if changes:
            rows.append({"at": newer.history_date, "by": newer.history_user,
                         "what": _("Student details"), "changes": changes})
    if len(versions) <= HISTORY_ROWS and versions:
        rows.append({"at": versions[-1].history_date, "by": versions[-1].history_user,
                     "what": _("Registered"), "changes": []})
    links = list(Guardianship.history.filter(student_id=student.pk)
                 .select_related("history_user__staff_profile")
                 .order_by("-history_date", "-history_id")[:HISTORY_ROWS])
    names = dict(student.parents.values_list("pk", "name")) if links else {}
    missing = {h.parent_id for h in links} - set(names)
    if missing:
        from parents.models import Parent

        names |= dict(Parent.objects.filter(pk__in=missing).values_list("pk", "name"))
    kinds = {"+": _("Guardian added"), "~": _("Guardian changed"), "-": _("Guardian removed")}
    for h in links:
        changes = [f"{_label(Guardianship, 'relation')}: {h.get_relation_display()}"]
        if h.is_primary_contact:
            changes.append(_("primary contact"))
        if h.is_decision_maker:
            changes.append(_("decision maker"))
        rows.append({"at": h.history_date, "by": h.history_user,
                     "what": f"{kinds.get(h.history_type, '')}: {names.get(h.parent_id, '')}",
                     "changes": changes})
    rows.sort(key=lambda r: r["at"], reverse=True)
    return rows[:HISTORY_ROWS]


@staff_required
def student_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change the student's details; the page lists the account's change history."""
    user = request.user
    _may_edit(user)
    student = visible_student(user, pk)
    form = StudentEditForm(request.POST or None, instance=student)
    if request.method == "POST" and form.is_valid():
        changes = {f: form.cleaned_data[f] for f in EDITABLE_FIELDS if f in form.cleaned_data}
        try:
            student_update(student=student, actor=user, **changes)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Details saved."))
            return redirect("students:detail", pk=student.pk)
    return render(request, "workspace/service/student_edit.html", {
        "student": student, "form": form, "history": account_history(student)})


def _guardians(student: Student) -> list[dict[str, Any]]:
    rows = []
    for g in (student.guardianships.select_related("parent")
              .order_by("-is_primary_contact", "id")):
        rows.append({"g": g, "phone": display_phone(g.parent.phone),
                     "form": GuardianEditForm(prefix=f"g{g.pk}", initial={
                         "relation": g.relation, "is_primary_contact": g.is_primary_contact,
                         "is_decision_maker": g.is_decision_maker})})
    return rows


@staff_required
def guardians(request: HttpRequest, pk: int) -> HttpResponse:
    """The student's guardians: change each, remove one, add another (by phone)."""
    user = request.user
    _may_edit(user)
    student = visible_student(user, pk)
    add_form = GuardianAddForm(request.POST or None, prefix="new")
    if request.method == "POST" and add_form.is_valid():
        d = add_form.cleaned_data
        try:
            guardian_add(student=student, name=d["name"], phone=d["phone"],
                         relation=d["relation"], is_primary_contact=d["is_primary_contact"],
                         is_decision_maker=d["is_decision_maker"], actor=user)
        except ValidationError as exc:
            _form_errors(add_form, exc)
        else:
            messages.success(request, _("Guardian added."))
            return redirect("service:guardians", pk=student.pk)
    return render(request, "workspace/service/guardians.html", {
        "student": student, "rows": _guardians(student), "add_form": add_form,
        "history": account_history(student)})


def _guardianship(user: Any, pk: int, gid: int) -> Guardianship:
    _may_edit(user)
    student = visible_student(user, pk)
    return get_object_or_404(Guardianship.objects.select_related("parent", "student"),
                             pk=gid, student=student)


def _flash(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@staff_required
@require_POST
def guardian_change(request: HttpRequest, pk: int, gid: int) -> HttpResponse:
    g = _guardianship(request.user, pk, gid)
    form = GuardianEditForm(request.POST, prefix=f"g{g.pk}")
    if not form.is_valid():
        _flash(request, ValidationError(list(form.errors.values())))
        return redirect("service:guardians", pk=pk)
    d = form.cleaned_data
    try:
        guardian_update(guardianship=g, relation=d["relation"],
                        is_primary_contact=d["is_primary_contact"],
                        is_decision_maker=d["is_decision_maker"], actor=request.user)
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("%(name)s saved.") % {"name": g.parent.name})
    return redirect("service:guardians", pk=pk)


@staff_required
@require_POST
def guardian_delete(request: HttpRequest, pk: int, gid: int) -> HttpResponse:
    g = _guardianship(request.user, pk, gid)
    try:
        guardian_remove(guardianship=g, actor=request.user)
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("%(name)s is no longer a guardian of %(student)s.")
                         % {"name": g.parent.name, "student": g.student.name_zh})
    return redirect("service:guardians", pk=pk)
