"""Marketing pages, mounted at /m/ (crm/urls.py, inside i18n_patterns)."""
from django.urls import path

from . import views

app_name = "marketing"

urlpatterns = [
    path("enquiry/<slug:branch_code>/", views.enquiry, name="enquiry"),
    path("enquiry/<slug:branch_code>/qr.svg", views.enquiry_qr, name="enquiry-qr"),
    path("enquiry/<slug:branch_code>/poster/", views.enquiry_poster, name="enquiry-poster"),
    path("prospects/", views.prospect_list, name="prospects"),
    path("prospects/<int:pk>/", views.prospect_detail, name="prospect-detail"),
    path("prospects/<int:pk>/claim/", views.prospect_claim, name="prospect-claim"),
    path("prospects/<int:pk>/release/", views.prospect_release, name="prospect-release"),
    path("prospects/<int:pk>/tier/", views.prospect_tier, name="prospect-tier"),
    path("students/<int:student_pk>/exit-interview/", views.exit_interview,
         name="exit-interview"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/<int:pk>/audience.csv", views.campaign_export, name="campaign-export"),
    path("analytics/churn/", views.churn, name="churn"),
    path("analytics/funnel/", views.funnel, name="funnel"),
]
