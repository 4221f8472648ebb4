from django.urls import path

from . import views

app_name = "timetable"
urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("mine/", views.calendar, {"mine": True}, name="mine"),
    path("events/", views.events, name="events"),
    path("lessons/<int:pk>/", views.lesson, name="lesson"),
    path("lessons/<int:pk>/move/", views.move_json, name="move"),
    path("plan/", views.plan, name="plan"),
    path("feeds/", views.feeds, name="feeds"),
    path("ical/<str:token>.ics", views.ical, name="ical"),
]
