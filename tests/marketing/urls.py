"""The project's URLs plus the marketing app's, wired as the lead will wire them:
/m/ for pages, and the marketing API inside /api/v1/ (namespace "v1", which DRF's
namespace versioning requires)."""
from django.urls import include, path

import crm.api_urls
import marketing.api.urls
from crm.urls import urlpatterns as project

api_v1 = [*marketing.api.urls.urlpatterns, *crm.api_urls.urlpatterns]

urlpatterns = [
    path("m/", include("marketing.urls")),
    path("api/v1/", include((api_v1, "v1"), namespace="v1")),
    *[p for p in project if str(getattr(p, "pattern", "")) != "api/v1/"],
]
