"""Everything under /api/v1/ (namespace "v1").

Resources register on one router here (so /api/v1/ lists them all); apps with plain
views contribute urlpatterns from `<app>/api/urls.py`. New resources follow docs/api.md,
"Conventions": subclass crm.api.viewsets and register below.
"""
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from crm.api.auth import TokenView
from crm.api.resources import BranchViewSet, StaffViewSet
from parents.api import views as parents
from students.api import views as students
from webhooks.api import views as webhooks


class APIRootView(DefaultRouter.APIRootView):
    """The list of resources (browsable index); not an operation of the schema."""

    schema = None


router = DefaultRouter()
router.APIRootView = APIRootView
router.include_format_suffixes = False
router.register("branches", BranchViewSet, basename="branch")
router.register("staff", StaffViewSet, basename="staff")
router.register("students", students.StudentViewSet, basename="student")
router.register("parents", parents.ParentViewSet, basename="parent")
router.register("guardianships", parents.GuardianshipViewSet, basename="guardianship")
router.register("courses", students.CourseViewSet, basename="course")
router.register("class-groups", students.ClassGroupViewSet, basename="classgroup")
router.register("sessions", students.ClassSessionViewSet, basename="session")
router.register("attendance", students.AttendanceViewSet, basename="attendance")
router.register("contracts", students.ContractViewSet, basename="contract")
router.register("ledger-entries", students.LedgerEntryViewSet, basename="ledgerentry")
router.register("payments", students.PaymentViewSet, basename="payment")
router.register("refunds", students.RefundViewSet, basename="refund")
router.register("exam-scores", students.ExamScoreViewSet, basename="examscore")
router.register("interactions", students.InteractionViewSet, basename="interaction")
router.register("complaints", students.ComplaintViewSet, basename="complaint")
router.register("surveys", students.SurveyViewSet, basename="survey")
router.register("webhooks/deliveries", webhooks.WebhookDeliveryViewSet,
                basename="webhookdelivery")
router.register("webhooks", webhooks.WebhookSubscriptionViewSet, basename="webhook")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("families/", parents.FamilyRegisterView.as_view(), name="family-register"),
    path("", include("lifecycle.api.urls")),
    path("", include("dataio.api.urls")),
    path("", include("marketing.api.urls")),
    path("timetable/", include("timetable.api.urls")),
    path("", include(router.urls)),
]
