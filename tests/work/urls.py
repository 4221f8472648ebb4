"""crm.urls plus the work pages, until crm.urls includes crm.work_urls itself."""
from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path

from crm.urls import handler500  # noqa: F401
from crm.urls import urlpatterns as base

urlpatterns = [
    *base,
    *i18n_patterns(path("work/", include("crm.work_urls")), prefix_default_language=False),
]
