"""Browser pages; included by crm/urls.py under i18n_patterns as "data/"."""
from django.urls import path

from . import views

app_name = "dataio"
urlpatterns = [
    path("import/", views.import_start, name="import"),
    path("import/<int:pk>/", views.job_detail, name="job"),
    path("import/<int:pk>/status/", views.job_status, name="job_status"),
    path("import/<int:pk>/confirm/", views.job_confirm, name="job_confirm"),
    path("import/<int:pk>/recheck/", views.job_revalidate, name="job_revalidate"),
    path("import/<int:pk>/mapping/", views.job_mapping, name="job_mapping"),
    path("import/<int:pk>/values/<str:column>/", views.job_values, name="job_values"),
    path("import/<int:pk>/errors.csv", views.job_errors, name="job_errors"),
    path("import/<int:pk>/refused.csv", views.job_refused, name="job_refused"),
    path("templates/<str:kind>.<str:fmt>", views.template_download, name="template"),
    path("export/", views.export_page, name="export"),
    path("export/download/", views.export_download, name="export_download"),
]
