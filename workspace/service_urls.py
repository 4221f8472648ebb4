"""The front-office service pages (issue #24), mounted at /service/ by workspace.urls."""
from django.urls import path

from .views import complaints, family_edit, follow_ups, trials

app_name = "service"

urlpatterns = [
    path("follow-ups/", follow_ups.follow_up_list, name="follow_ups"),
    path("trials/", trials.trial_list, name="trials"),
    path("students/<int:pk>/trials/new/", trials.trial_book, name="trial_book"),
    path("trials/<int:pk>/", trials.trial_detail, name="trial"),
    path("complaints/", complaints.complaint_list, name="complaints"),
    path("complaints/<int:pk>/", complaints.complaint_detail, name="complaint"),
    path("students/<int:pk>/complaints/new/", complaints.complaint_create,
         name="complaint_create"),
    path("students/<int:pk>/surveys/new/", complaints.survey_create, name="survey_create"),
    path("students/<int:pk>/edit/", family_edit.student_edit, name="student_edit"),
    path("students/<int:pk>/guardians/", family_edit.guardians, name="guardians"),
    path("students/<int:pk>/guardians/<int:gid>/", family_edit.guardian_change,
         name="guardian_change"),
    path("students/<int:pk>/guardians/<int:gid>/remove/", family_edit.guardian_delete,
         name="guardian_remove"),
]
