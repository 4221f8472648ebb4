"""Front desk's family pages: register a family in one form, open a family (a parent and
their children)."""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm import permissions
from parents.models import Guardianship, Parent
from parents.phones import display_phone, mask_phone, mask_text
from parents.services import DuplicateFamilyError
from students.models import Student
from students.views import staff_required

from .forms import FamilyRegistration


def _family_offer(parents: list[Parent], user: Any) -> list[dict[str, Any]]:
    """The already registered families behind a duplicate phone, as far as the user may see:
    a link to each visible child, a count of the others."""
    child_ids = {s.pk for p in parents for s in p.students.all()}
    visible = set(permissions.scope_students(user, Student.objects.filter(pk__in=child_ids))
                  .values_list("pk", flat=True))
    visible_parents = set(permissions.scope_parents(
        user, Parent.objects.filter(pk__in=[p.pk for p in parents])).values_list("pk", flat=True))
    offers = []
    for p in parents:
        kids = list(p.students.all())
        offers.append({
            "parent": p, "phone": display_phone(p.phone), "can_open": p.pk in visible_parents,
            "children": [s for s in kids if s.pk in visible],
            "hidden_children": sum(1 for s in kids if s.pk not in visible),
        })
    return offers


@staff_required
def family_register_view(request: HttpRequest) -> HttpResponse:
    """One form for parents + students. A known phone is not registered twice: the page
    offers the existing family and, on request, links the new students to it."""
    if not permissions.can_register(request.user):
        raise PermissionDenied(_("Your role cannot register families."))
    initial_parent = None
    family_id = request.GET.get("family")
    if request.method == "GET" and family_id and family_id.isdigit():
        initial_parent = get_object_or_404(
            permissions.scope_parents(request.user, Parent.objects.all()), pk=family_id)
    reg = FamilyRegistration(request.POST or None, user=request.user,
                             initial_parent=initial_parent)
    if request.method == "POST" and reg.is_valid():
        try:
            _parents, students = reg.register(link_existing=request.POST.get("link_existing")
                                             == "1")
        except DuplicateFamilyError as exc:
            reg.add_duplicate(exc)
        except ValidationError as exc:
            reg.add_service_error(exc)
        else:
            messages.success(request, ngettext(
                "Family registered: %(students)s.", "Family registered: %(students)s.",
                len(students)) % {"students": "、".join(s.name_zh for s in students)})
            return redirect("students:detail", pk=students[0].pk)
        if reg.duplicates or reg.service_errors:
            messages.error(request, _("The family was not saved: see the messages below."))
    return render(request, "parents/family_register.html", {
        "reg": reg,
        "offers": _family_offer(reg.duplicates, request.user) if reg.duplicates else [],
        "linking": initial_parent is not None or request.POST.get("link_existing") == "1",
    })


@staff_required
def family_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A parent with their children (visible ones only) and the children's other guardians."""
    user = request.user
    parent = get_object_or_404(permissions.scope_parents(user, Parent.objects.select_related(
        "branch")), pk=pk)
    visible = permissions.scope_students(user, Student.objects.all()).values("pk")
    guardianships = (parent.guardianships.filter(student__in=visible)
                     .select_related("student__branch", "student__counselor")
                     .prefetch_related(Prefetch(
                         "student__guardianships",
                         queryset=Guardianship.objects.select_related("parent")
                         .order_by("-is_primary_contact", "id")))
                     .order_by("student__name_pinyin"))
    full = permissions.can_see_contact(user)
    return render(request, "parents/family_detail.html", {
        "parent": parent,
        "phone": display_phone(parent.phone) if full else mask_phone(parent.phone),
        "wechat": parent.wechat_id if full else mask_text(parent.wechat_id),
        "guardianships": guardianships,
        "consents": parent.contact_consents.order_by("channel"),
        "can_register": permissions.can_register(user),
    })
