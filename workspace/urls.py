"""The workspace: role home pages, search and the work pages (at-risk list, tasks,
dashboard), included at the site's root by crm.urls."""
from django.urls import include, path

from .views import at_risk, branches, dashboard, home, money, strategies, tasks

work_patterns = ([
    path("at-risk/", at_risk.at_risk_list, name="at_risk"),
    path("tasks/", tasks.task_list, name="tasks"),
    path("tasks/<int:pk>/", tasks.task_detail, name="task_detail"),
    path("tasks/<int:pk>/done/", tasks.task_action, {"action": "done"}, name="task_done"),
    path("tasks/<int:pk>/skip/", tasks.task_action, {"action": "skip"}, name="task_skip"),
    path("tasks/<int:pk>/snooze/", tasks.task_action, {"action": "snooze"},
         name="task_snooze"),
    path("dashboard/", dashboard.stage_dashboard, name="dashboard"),
    path("branches/", branches.branch_comparison, name="branches"),
    path("strategies/", strategies.strategy_board, name="strategies"),
    path("strategies/<str:customer_type>/edit/", strategies.strategy_edit,
         name="strategy_edit"),
    path("strategies/<str:customer_type>/reset/", strategies.strategy_reset_view,
         name="strategy_reset"),
], "work")

money_patterns = ([
    path("students/<int:pk>/enrol/", money.enrol, name="enrol"),
    path("contracts/<int:pk>/pay/", money.pay, name="pay"),
    path("contracts/<int:pk>/refund/", money.refund_new, name="refund_new"),
    path("contracts/<int:pk>/transfer/", money.transfer_new, name="transfer_new"),
    path("receipts/<int:pk>/", money.receipt, name="receipt"),
    path("approvals/", money.approvals, name="approvals"),
    path("approvals/refunds/<int:pk>/", money.decide, {"kind": "refund"}, name="decide_refund"),
    path("approvals/transfers/<int:pk>/", money.decide, {"kind": "transfer"},
         name="decide_transfer"),
    path("arrears/", money.arrears_list, name="arrears"),
    path("renewals/", money.renewals, name="renewals"),
], "money")

urlpatterns = [
    path("", home.home, name="home"),
    path("search/", home.search, name="search"),
    path("work/", include(work_patterns)),
    path("service/", include("workspace.service_urls")),
    path("money/", include(money_patterns)),
]
