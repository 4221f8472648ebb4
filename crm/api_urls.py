"""Everything under /api/v1/: each app contributes its own urlpatterns from `<app>/api/urls.py`."""
from django.urls import include, path

urlpatterns = [
    path("", include("lifecycle.api.urls")),
]
