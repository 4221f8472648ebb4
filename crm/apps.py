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

        # Staff are shown by their real names everywhere (issue #24): one method, used by
        # every template, form choice, admin picker and message that prints a user.
        from django.contrib.auth import get_user_model

        from .text import staff_name

        get_user_model().__str__ = staff_name  # type: ignore[method-assign]
