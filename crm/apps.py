from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Institution")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .roles import sync_role_groups

        # Wiring, not a business rule: the role groups must exist after every migrate. Not
        # bound to one sender: it must also run after the apps whose permissions it grants.
        post_migrate.connect(sync_role_groups, dispatch_uid="crm.sync_role_groups")
