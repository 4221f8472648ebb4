"""Included by crm/api_urls.py: path("", include("dataio.api.urls"))."""
from django.urls import path

from . import views

urlpatterns = [
    path("imports/", views.ImportJobCreateView.as_view(), name="import-create"),
    path("imports/<int:pk>/", views.ImportJobDetailView.as_view(), name="import-detail"),
    path("imports/<int:pk>/confirm/", views.ImportJobConfirmView.as_view(),
         name="import-confirm"),
    path("exports/<str:name>/", views.ExportView.as_view(), name="export"),
]
