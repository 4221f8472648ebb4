"""Marketing endpoints under /api/v1/ (crm/api_urls.py: path("", include(...)))."""
from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import views

# A SimpleRouter: the project's DefaultRouter owns the API root.
router = SimpleRouter()
router.include_format_suffixes = False
router.register("prospects", views.ProspectViewSet, basename="prospect")
router.register("campaigns", views.CampaignViewSet, basename="campaign")
router.register("enquiries", views.EnquiryViewSet, basename="enquiry")
router.register("referrals", views.ReferralViewSet, basename="referral")
router.register("exit-interviews", views.ExitInterviewViewSet, basename="exitinterview")
router.register("marketing/churn-reasons", views.ChurnReasonViewSet, basename="churnreason")

urlpatterns = [
    path("marketing/analytics/churn/", views.ChurnView.as_view(), name="marketing-churn"),
    path("marketing/analytics/funnel/", views.FunnelView.as_view(), name="marketing-funnel"),
    path("marketing/analytics/costs/", views.CostsView.as_view(), name="marketing-costs"),
    path("marketing/win-back/", views.WinBackView.as_view(), name="marketing-win-back"),
    path("marketing/alerts/unassigned/", views.UnassignedAlertView.as_view(),
         name="marketing-unassigned"),
    path("", include(router.urls)),
]
