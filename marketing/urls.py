"""Marketing pages, mounted at /m/ (crm/urls.py, inside i18n_patterns)."""
from django.urls import path

from . import campaign_views, referral_views, views

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
    path("campaigns/", campaign_views.campaign_list, name="campaigns"),
    path("campaigns/new/", campaign_views.campaign_create, name="campaign-create"),
    path("campaigns/<int:pk>/", campaign_views.campaign_detail, name="campaign-detail"),
    path("campaigns/<int:pk>/edit/", campaign_views.campaign_edit, name="campaign-edit"),
    path("campaigns/<int:pk>/handoff/", campaign_views.campaign_handoff,
         name="campaign-handoff"),
    path("campaigns/<int:pk>/audience.csv", views.campaign_export, name="campaign-export"),
    path("referrals/", referral_views.referral_list, name="referrals"),
    path("referrals/new/", referral_views.referral_create, name="referral-create"),
    path("referrals/lookup/", referral_views.referral_lookup, name="referral-lookup"),
    path("referrals/<int:pk>/", referral_views.referral_detail, name="referral-detail"),
    path("analytics/churn/", views.churn, name="churn"),
    path("analytics/funnel/", views.funnel, name="funnel"),
]
