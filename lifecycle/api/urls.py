"""Lifecycle endpoints under /api/v1/ (included by crm/api_urls.py)."""
from django.urls import path

from . import strategy_views, views, work_views

urlpatterns = [
    path("students/<int:pk>/lifecycle/", views.StudentLifecycleView.as_view(),
         name="student-lifecycle"),
    path("students/<int:pk>/transition/", views.StudentTransitionView.as_view(),
         name="student-transition"),
    path("students/<int:pk>/scores/", work_views.StudentScoreView.as_view(),
         name="student-scores"),
    path("lifecycle/policies/", views.PolicyListView.as_view(), name="lifecycle-policy-list"),
    path("lifecycle/policies/<int:pk>/", views.PolicyDetailView.as_view(),
         name="lifecycle-policy-detail"),
    path("lifecycle/scan-runs/", views.ScanRunListView.as_view(), name="lifecycle-scan-runs"),
    path("lifecycle/scores/", work_views.ScoreListView.as_view(), name="lifecycle-scores"),
    path("lifecycle/tasks/", work_views.TaskListView.as_view(), name="lifecycle-tasks"),
    path("lifecycle/tasks/workload/", work_views.OverdueByCounselorView.as_view(),
         name="lifecycle-task-workload"),
    *[path(f"lifecycle/tasks/<int:pk>/{action}/",
           work_views.TaskActionView.as_view(action=action),
           name=f"lifecycle-task-{action}")
      for action in ("claim", "complete", "skip", "snooze")],
    path("lifecycle/strategies/", strategy_views.StrategyListView.as_view(),
         name="lifecycle-strategy-list"),
    path("lifecycle/strategies/<str:customer_type>/", strategy_views.StrategyDetailView.as_view(),
         name="lifecycle-strategy-detail"),
    path("lifecycle/strategies/<str:customer_type>/reset/",
         strategy_views.StrategyResetView.as_view(), name="lifecycle-strategy-reset"),
    path("lifecycle/playbooks/", work_views.PlaybookListView.as_view(),
         name="lifecycle-playbook-list"),
    path("lifecycle/playbooks/<int:pk>/", work_views.PlaybookDetailView.as_view(),
         name="lifecycle-playbook-detail"),
    path("lifecycle/risk-profiles/", work_views.RiskProfileListView.as_view(),
         name="lifecycle-risk-profile-list"),
    path("lifecycle/risk-profiles/<int:pk>/", work_views.RiskProfileDetailView.as_view(),
         name="lifecycle-risk-profile-detail"),
]
