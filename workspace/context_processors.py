"""What every staff page needs to draw the navbar: the role and what it may do.

Computed once per request from `crm.permissions`, so templates never re-derive rules.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from crm import permissions
from dataio.exports import can_export as export_allowed
from dataio.services import can_import as import_allowed
from marketing.selectors import can_manage_campaigns, can_record_referrals, can_see_analytics


def neutral_path(request: HttpRequest) -> str:
    """The page's address without a language prefix ("/en/students/" -> "/students/").

    The switcher posts it as `next`: set_language runs in the default language, where an
    /en/ address does not resolve and so would not be translated.
    """
    path = request.get_full_path()
    for code, _name in settings.LANGUAGES:
        prefix = f"/{code}/"
        if code != settings.LANGUAGE_CODE and path.startswith(prefix):
            return "/" + path[len(prefix):]
    return path


def marketing_links(user: Any) -> dict[str, bool]:
    """Which marketing pages the navbar offers (the pages check the same rules)."""
    role = permissions.role_of(user)
    return {
        "can_see_prospects": role is not None and role != "teacher",
        "can_record_referrals": can_record_referrals(user),
        "can_manage_campaigns": can_manage_campaigns(user),
        "can_see_analytics": can_see_analytics(user),
    }


def service_links(user: Any) -> dict[str, bool]:
    """The front-office service pages the navbar offers (issue #24; the pages check too)."""
    role = permissions.role_of(user)
    return {
        "can_follow_up": role is not None and role != "teacher",
        "can_handle_complaints": role is not None and user.has_perm("students.view_complaint"),
    }


def nav(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {"role": None, "path": neutral_path(request)}}
    role = permissions.role_of(user)
    return {
        "nav": {
            "path": neutral_path(request),
            "role": role,
            "can_register": permissions.can_register(user),
            "can_see_money": permissions.can_see_money(user),
            "can_see_scores": permissions.can_see_scores(user),
            "can_see_contact": permissions.can_see_contact(user),
            "can_import": import_allowed(user),
            "can_export": export_allowed(user),
            **marketing_links(user),
            **service_links(user),
        }
    }
