"""The counselor and manager work pages (issue #6), included under /work/ by crm.urls."""
from django.urls import path

from . import work_views

app_name = "work"
urlpatterns = [
    path("at-risk/", work_views.at_risk_list, name="at_risk"),
    path("tasks/", work_views.task_list, name="tasks"),
    path("tasks/<int:pk>/done/", work_views.task_action, {"action": "done"}, name="task_done"),
    path("tasks/<int:pk>/skip/", work_views.task_action, {"action": "skip"}, name="task_skip"),
    path("tasks/<int:pk>/snooze/", work_views.task_action, {"action": "snooze"},
         name="task_snooze"),
    path("dashboard/", work_views.stage_dashboard, name="dashboard"),
]
