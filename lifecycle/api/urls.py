"""Lifecycle endpoints under /api/v1/ (included by crm/api_urls.py)."""
from django.urls import path

from . import views

urlpatterns = [
    path("students/<int:pk>/lifecycle/", views.StudentLifecycleView.as_view(),
         name="student-lifecycle"),
    path("students/<int:pk>/transition/", views.StudentTransitionView.as_view(),
         name="student-transition"),
    path("lifecycle/policies/", views.PolicyListView.as_view(), name="lifecycle-policy-list"),
    path("lifecycle/policies/<int:pk>/", views.PolicyDetailView.as_view(),
         name="lifecycle-policy-detail"),
    path("lifecycle/scan-runs/", views.ScanRunListView.as_view(), name="lifecycle-scan-runs"),
]
