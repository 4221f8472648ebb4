"""Money at the desk in a real browser: front desk signs a contract and takes the first
payment, prints the receipt; a counselor asks for a refund; a manager approves it from
the queue on the home page. The database is checked after each step."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from crm.roles import Role
from students.models import Contract, Payment, Receipt, Refund
from tests.factories import BranchFactory, CourseFactory, GuardianshipFactory, staff

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_sign_pay_print_then_refund_requested_and_approved(page, login, shot):
    branch = BranchFactory(code="xh", name="西湖校区")
    desk = staff(Role.FRONT_DESK, branch, username="qiantai")
    counselor = staff(Role.COUNSELOR, branch, username="guwen")
    manager = staff(Role.MANAGER, branch, username="zhuguan")
    link = GuardianshipFactory(student__branch=branch, student__name_zh="王小明",
                               student__counselor=counselor, parent__name="李梅")
    student = link.student
    course = CourseFactory(name="高二数学一对一", unit_price=Decimal("200"))
    today = timezone.localdate()

    login("qiantai")
    page.goto(f"{page.base}/students/{student.pk}/")
    page.click("#enrol")
    page.wait_for_selector("#enrol-form")
    page.select_option("#id_course", str(course.pk))
    page.fill("#id_hours_purchased", "40")
    page.fill("#id_hours_gifted", "2")
    page.fill("#id_list_price", "8000")
    page.fill("#id_valid_from", today.isoformat())
    page.fill("#id_valid_until", (today + dt.timedelta(days=85)).isoformat())
    page.fill("#id_first_amount", "8000")
    page.select_option("#id_method", "wechat")
    page.fill("#id_reference", "WX20261204001")
    shot(page, "money-01-enrol-filled")
    page.click("#enrol-form-submit")
    page.wait_for_selector("#receipt")
    assert "捌仟元整" in page.inner_text("#receipt-words")
    page.emulate_media(media="print")
    assert not page.is_visible("#print-receipt")
    shot(page, "money-02-receipt-print")
    page.emulate_media(media="screen")

    contract = Contract.objects.get()
    receipt = Receipt.objects.get()
    assert page.inner_text("#receipt-number") == receipt.number == "XH-SJ000001"
    assert page.inner_text("#receipt-contract") == contract.contract_no
    assert contract.ledger.aggregate(t=Sum("hours"))["t"] == Decimal("42")
    assert Payment.objects.get().reference == "WX20261204001"
    assert receipt.issued_by == desk

    page.context.clear_cookies()
    login("guwen")
    page.goto(f"{page.base}/students/{student.pk}/")
    page.click(f"#refund-{contract.pk}")
    page.wait_for_selector("#refund-quote")
    page.fill("#id_reason", "家庭搬迁，无法继续上课")
    page.click("#refund-form-submit")
    page.wait_for_selector(".pending-request")
    refund = Refund.objects.get()
    assert (refund.status, refund.requested_by) == ("requested", counselor)
    shot(page, "money-03-refund-pending-on-student")

    page.context.clear_cookies()
    login("zhuguan")
    page.wait_for_selector("#approval-queue")
    shot(page, "money-04-manager-approval-queue")
    page.click(f"#approve-refund-{refund.pk}")
    page.wait_for_selector(".alert-success")
    refund.refresh_from_db()
    contract.refresh_from_db()
    assert (refund.status, refund.decided_by, refund.amount) == ("approved", manager,
                                                                 Decimal("8000.00"))
    assert refund.decided_at is not None and contract.status == "refunded"
    assert contract.ledger.aggregate(t=Sum("hours"))["t"] == 0
    assert page.js_errors == []
