"""Timetable endpoints under /api/v1/timetable/ (included by crm/api_urls.py)."""
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.include_format_suffixes = False
router.register("rooms", views.RoomViewSet, basename="timetable-room")
router.register("terms", views.TermViewSet, basename="timetable-term")
router.register("closed-days", views.ClosedDayViewSet, basename="timetable-closedday")
router.register("holidays", views.HolidayViewSet, basename="timetable-holiday")
router.register("rules", views.RuleViewSet, basename="timetable-rule")
router.register("lessons", views.LessonViewSet, basename="timetable-lesson")
router.register("leave-requests", views.LeaveViewSet, basename="timetable-leave")
router.register("calendar-feeds", views.FeedViewSet, basename="timetable-feed")

urlpatterns = router.urls
