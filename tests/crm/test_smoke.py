import pytest

from tests.factories import ContractFactory

pytestmark = pytest.mark.django_db


def test_a_contract_starts_with_its_purchased_hours_in_the_ledger():
    from students.selectors import contract_balances

    contract = ContractFactory()
    assert contract_balances().get(pk=contract.pk).balance == contract.hours_purchased
