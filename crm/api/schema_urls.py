"""The URLs the OpenAPI schema documents: /api/v1/ only (see crm.api.schema.SchemaGenerator)."""
from django.urls import include, path

urlpatterns = [
    path("api/v1/", include(("crm.api_urls", "v1"), namespace="v1")),
]
