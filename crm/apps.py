from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Institution")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from .fields import json_as_text
        from .roles import sync_role_groups

        connection_created.connect(json_as_text, dispatch_uid="crm.json_as_text")

        # Wiring, not a business rule: the role groups must exist after every migrate. Not
        # bound to one sender: it must also run after the apps whose permissions it grants.
        post_migrate.connect(sync_role_groups, dispatch_uid="crm.sync_role_groups")
