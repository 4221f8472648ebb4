from django.urls import path

from . import views

app_name = "students"
urlpatterns = [
    path("", views.student_list_view, name="list"),
    path("<int:pk>/", views.student_detail, name="detail"),
    path("<int:pk>/contacts/new/", views.interaction_create, name="interaction_create"),
    path("<int:pk>/trial/new/", views.trial_book, name="trial_book"),
    path("<int:pk>/period/", views.change_period, name="change_period"),
    path("lessons/", views.session_list, name="sessions"),
    path("lessons/<int:pk>/roll-call/", views.roll_call, name="roll_call"),
]
