"""The rest of the desk's money week in a real browser: a contract paid in two instalments
(the manager sees it on the arrears list in between), a renewal from the renewal-warning
list prefilled from the last contract, and a transfer of the old contract's hours into the
new one, requested by the counselor and approved by the manager. The database is checked
after each step."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from crm.roles import Role
from students.models import Contract, Payment, Transfer
from tests.factories import BranchFactory, CourseFactory, GuardianshipFactory, staff

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def sign(page, *, course, first: str, reference: str, until: dt.date) -> None:
    page.wait_for_selector("#enrol-form")
    page.select_option("#id_course", str(course.pk))
    page.fill("#id_hours_purchased", "40")
    page.fill("#id_hours_gifted", "0")
    page.fill("#id_list_price", "8000")
    page.fill("#id_valid_from", timezone.localdate().isoformat())
    page.fill("#id_valid_until", until.isoformat())
    page.fill("#id_first_amount", first)
    page.select_option("#id_method", "wechat")
    page.fill("#id_reference", reference)
    page.click("#enrol-form-submit")
    page.wait_for_selector("#receipt")


def test_instalments_arrears_renewal_and_transfer(page, login, shot):
    branch = BranchFactory(code="xh", name="西湖校区")
    staff(Role.FRONT_DESK, branch, username="qiantai")
    counselor = staff(Role.COUNSELOR, branch, username="guwen")
    manager = staff(Role.MANAGER, branch, username="zhuguan")
    student = GuardianshipFactory(student__branch=branch, student__name_zh="王小明",
                                  student__counselor=counselor, parent__name="李梅").student
    course = CourseFactory(name="初二英语小班", unit_price=Decimal("200"))
    today = timezone.localdate()

    # front desk signs with a first instalment of 3,000 of 8,000
    login("qiantai")
    page.goto(f"{page.base}/students/{student.pk}/")
    page.click("#enrol")
    sign(page, course=course, first="3000", reference="WX-A-001",
         until=today + dt.timedelta(days=20))
    first = Contract.objects.get()
    assert Payment.objects.filter(contract=first).aggregate(t=Sum("amount"))["t"] == 3000

    # the manager finds it on the arrears list
    page.context.clear_cookies()
    login("zhuguan")
    page.goto(f"{page.base}/money/arrears/")
    arrears = page.inner_text("#arrears")
    assert "王小明" in arrears and "5,000" in arrears
    shot(page, "money-arrears")

    # front desk takes the second instalment; the arrears list is empty afterwards
    page.context.clear_cookies()
    login("qiantai")
    page.goto(f"{page.base}/students/{student.pk}/")
    page.click(f"#pay-{first.pk}")
    page.wait_for_selector("#pay-form")
    page.fill("#id_amount", "5000")
    page.select_option("#id_method", "cash")
    page.click("#pay-form-submit")
    page.wait_for_selector("#receipt")
    assert Payment.objects.filter(contract=first).aggregate(t=Sum("amount"))["t"] == 8000
    assert Payment.objects.count() == 2

    # the counselor renews from the renewal-warning list (expiring within 30 days)
    page.context.clear_cookies()
    login("guwen")
    page.goto(f"{page.base}/money/renewals/")
    page.wait_for_selector(f"#renewal-{student.pk}")
    page.click(f"#renew-{student.pk}")
    page.wait_for_selector("#enrol-form")
    assert page.input_value("#id_course") == str(course.pk)  # prefilled from the last one
    sign(page, course=course, first="8000", reference="WX-B-002",
         until=today + dt.timedelta(days=180))
    renewal = Contract.objects.exclude(pk=first.pk).get()
    assert renewal.is_renewal and renewal.student == student

    # ... and asks to move the first contract's hours into the renewal
    page.goto(f"{page.base}/students/{student.pk}/")
    page.click(f"#transfer-{first.pk}")
    page.wait_for_selector("#transfer-form")
    page.select_option("#id_target_contract", str(renewal.pk))
    page.fill("#id_reason", "合并到续费合同，一起上课")
    page.click("#transfer-form-submit")
    page.wait_for_selector(".pending-request")
    transfer = Transfer.objects.get()
    assert (transfer.status, transfer.target_contract) == ("requested", renewal)
    shot(page, "money-transfer-pending")

    # the manager approves it from the queue on the home page
    page.context.clear_cookies()
    login("zhuguan")
    page.wait_for_selector("#approval-queue")
    page.click(f"#approve-transfer-{transfer.pk}")
    page.wait_for_selector(".alert-success")
    transfer.refresh_from_db()
    assert (transfer.status, transfer.decided_by) == ("approved", manager)
    assert first.ledger.aggregate(t=Sum("hours"))["t"] == 0
    assert renewal.ledger.aggregate(t=Sum("hours"))["t"] == Decimal("80")
    assert page.js_errors == []
