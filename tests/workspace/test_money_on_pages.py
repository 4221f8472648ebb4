"""Managers' pages show money one way (crm.templatetags.money): ¥1,422,342."""
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.marketing.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_campaign_list_and_funnel_format_costs(as_user, manager_a, branch_a):
    CampaignFactory(branch=branch_a, cost=Decimal("1422342"))
    client = as_user(manager_a)
    assert "¥1,422,342" in client.get(reverse("marketing:campaigns")).content.decode()
    funnel = client.get(reverse("marketing:funnel")).content.decode()
    assert "¥1,422,342" in funnel
