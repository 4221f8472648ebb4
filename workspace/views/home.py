"""Each role's start page and the navbar's search."""
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from crm import permissions
from crm.models import Branch
from crm.roles import Role
from crm.views import paginate
from lifecycle.periods import Period
from marketing.models import TrialLesson
from students.models import Student
from students.selectors import student_list


def _period_rows(counts: dict[str, int]) -> list[dict[str, Any]]:
    """The seven periods in order with their counts (zeros included, so charts line up)."""
    return [{"code": code, "label": label, "n": counts.get(code, 0)}
            for code, label in Period.choices]


def _todays_trials(user: Any) -> QuerySet:
    """Trial lessons booked for today in the user's scope (marketing.models.TrialLesson)."""
    qs = TrialLesson.objects.filter(date=timezone.localdate()).exclude(
        outcome=TrialLesson.Outcome.NOT_INTERESTED)
    return (permissions.scope_by_student(user, qs)
            .select_related("student", "parent", "course", "teacher__staff_profile")
            .order_by("start_time", "student__name_pinyin"))


def _caseload(user: Any) -> dict[str, Any]:
    """A counselor's own accounts and the branch's unassigned pool, by period (2 queries)."""
    mine = dict(Student.objects.filter(counselor=user).order_by()
                .values_list("period").annotate(n=Count("pk")))
    pool = dict(Student.objects.filter(branch=permissions.branch_of(user), counselor__isnull=True)
                .order_by().values_list("period").annotate(n=Count("pk")))
    rows = _period_rows(mine)
    for row in rows:
        row["pool"] = pool.get(row["code"], 0)
    return {"rows": rows, "total": sum(mine.values()), "pool_total": sum(pool.values())}


def _branch_matrix(user: Any) -> dict[str, Any]:
    """Accounts per branch and period for managers / head office (one grouped query)."""
    branches = list(permissions.scope_branches(user, Branch.objects.filter(is_active=True)))
    counts: dict[int, dict[str, int]] = {b.pk: {} for b in branches}
    rows = (permissions.scope_students(user, Student.objects.all()).order_by()
            .values_list("branch_id", "period").annotate(n=Count("pk", distinct=True)))
    for branch_id, period, n in rows:
        counts.setdefault(branch_id, {})[period] = n
    table = [{"branch": b, "periods": _period_rows(counts.get(b.pk, {})),
              "total": sum(counts.get(b.pk, {}).values())} for b in branches]
    totals = _period_rows({code: sum(c.get(code, 0) for c in counts.values())
                           for code in Period.values})
    return {"table": table, "totals": totals, "total": sum(r["n"] for r in totals)}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The role's start page; each role's section is a template block that later issues
    (counselor at-risk list and tasks, manager dashboards) fill in."""
    user = request.user
    role = permissions.role_of(user)
    context: dict[str, Any] = {"role": role}
    if role == Role.FRONT_DESK:
        context["trials"] = _todays_trials(user)
        context["recent"] = (permissions.scope_students(user, Student.objects.all())
                             .select_related("branch", "counselor")
                             .order_by("-created_at", "-id")[:10])
    elif role == Role.COUNSELOR:
        context["caseload"] = _caseload(user)
        context["trials"] = _todays_trials(user)
    elif role in {Role.MANAGER, Role.HEAD_OFFICE}:
        context["matrix"] = _branch_matrix(user)
    elif role == Role.TEACHER:
        context["my_students"] = permissions.scope_students(user, Student.objects.all()).count()
    return render(request, "workspace/home.html", context)


SEARCH_LIVE_LIMIT = 8
SEARCH_PAGE_SIZE = 25


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """The navbar's search: name, pinyin/initials, phone digits, partial (students.search_q).

    An htmx request gets the dropdown of the first few matches; a plain GET the full,
    paginated results page.
    """
    q = request.GET.get("q", "").strip()
    qs = student_list(user=request.user, search=q) if q else Student.objects.none()
    qs = qs.select_related("branch", "counselor").order_by("name_pinyin", "id")
    if request.htmx and not request.htmx.boosted:
        matches = list(qs[:SEARCH_LIVE_LIMIT + 1])
        return render(request, "workspace/search/_live.html", {
            "q": q, "students": matches[:SEARCH_LIVE_LIMIT],
            "more": len(matches) > SEARCH_LIVE_LIMIT,
        })
    page = paginate(request, qs, SEARCH_PAGE_SIZE)
    return render(request, "workspace/search/results.html", {"q": q, "page": page})
