"""今日待跟进: the follow-ups due today (and the late ones), per role's scope."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import permissions
from crm.roles import Role
from parents.phones import display_phone, mask_phone
from students.views import staff_required
from workspace.service_selectors import due_rows, follow_ups_due

# The list is a day's work, not an archive: at most this many rows (the latest first).
MAX_ROWS = 200


@staff_required
def follow_up_list(request: HttpRequest) -> HttpResponse:
    """Accounts to call back today: counselors their caseload (and the branch pool),
    front desk and managers their branch, head office everything. Teachers do not
    follow up families."""
    user = request.user
    role = permissions.role_of(user)
    if role == Role.TEACHER:
        raise PermissionDenied(_("Teachers do not follow up families."))
    today = timezone.localdate()
    mine = bool(request.GET.get("mine")) or (role == Role.COUNSELOR
                                             and request.GET.get("pool") is None)
    students = list(follow_ups_due(user, today=today, mine=mine)[:MAX_ROWS])
    rows = due_rows(students, today)
    full = permissions.can_see_contact(user)
    for r in rows:
        phone = r["student"].contact_phone
        r["phone"] = (display_phone(phone) if full else mask_phone(phone)) if phone else ""
    return render(request, "workspace/service/follow_ups.html", {
        "rows": rows, "today": today, "mine": mine, "role": role,
        "truncated": len(students) == MAX_ROWS})
