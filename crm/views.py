"""Ground-floor views: health check, the 500 page, and the pagination helper every app's
pages use. The workspace pages themselves live in the workspace app."""
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import check_broker, check_database


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and compose health checks: 200 only if all parts answer."""
    checks = {"database": check_database(), "broker": check_broker()}
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if ok else "error", "checks": checks},
                        status=200 if ok else 503)


def paginate(request: HttpRequest, qs: QuerySet, size: int) -> Page:
    """A page of `qs` (?page=, forgiving) with `elided_range` for includes/pagination.html."""
    page = Paginator(qs, size).get_page(request.GET.get("page"))
    page.elided_range = list(page.paginator.get_elided_page_range(page.number, on_each_side=2,
                                                                   on_ends=1))
    return page


def server_error(request: HttpRequest) -> HttpResponse:
    """500 without the context processors: the database may be what failed."""
    return HttpResponseServerError(loader.render_to_string("500.html", {"request": request}))
