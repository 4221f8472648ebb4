from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    """The top floor: pages that compose several domains (home pages, search, at-risk list,
    tasks, dashboards). It imports the domain apps; none of them imports it."""

    name = "workspace"
    verbose_name = _("Workspace")
