"""The money pages: enrolment with the first payment, instalments, receipts, refund and
transfer requests, the approval queue, arrears and renewals; bad input changes nothing."""
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from students.models import Contract, LedgerEntry, Payment, Receipt, Refund, Transfer
from students.services import enrolment_sign
from tests.factories import (
    ClassSessionFactory,
    CourseFactory,
    GuardianshipFactory,
    ParentFactory,
    StudentFactory,
)
from tests.students.factories_extra import policy

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def family(branch_a):
    student = StudentFactory(branch=branch_a, name_zh="王小明")
    GuardianshipFactory(student=student, parent=ParentFactory(branch=branch_a, name="李梅"))
    return student


@pytest.fixture
def course(db):
    return CourseFactory(name="高二数学一对一", unit_price=D("200"))


def form(course, **kw):
    today = timezone.localdate()
    data = {"course": course.pk, "class_group": "", "hours_purchased": "40",
            "hours_gifted": "2", "list_price": "8000", "discount": "0",
            "valid_from": today.isoformat(),
            "valid_until": (today + dt.timedelta(days=85)).isoformat(),
            "first_amount": "5000", "method": "wechat", "reference": "", "note": "",
            "request_key": "key-1"}
    return {**data, **kw}


def signed(student, course, actor, amount="8000"):
    today = timezone.localdate()
    return enrolment_sign(student=student, course=course, hours_purchased=D("40"),
                          list_price=D("8000"), valid_from=today,
                          valid_until=today + dt.timedelta(days=85), first_amount=D(amount),
                          method="cash", actor=actor)


def nothing_written():
    return not (Contract.objects.exists() or Payment.objects.exists()
                or LedgerEntry.objects.exists() or Receipt.objects.exists())


def test_front_desk_signs_takes_payment_and_gets_the_receipt(as_user, front_desk_a, family,
                                                             course):
    client = as_user(front_desk_a)
    res = client.post(f"/money/students/{family.pk}/enrol/", form(course))
    receipt = Receipt.objects.get()
    assert res.status_code == 302 and res.url == f"/money/receipts/{receipt.pk}/"
    page = client.get(res.url).content.decode()
    assert "伍仟元整" in page and receipt.number in page
    assert receipt.payment.contract.contract_no in page and "购买 40 课时" in page
    c = Contract.objects.get()
    assert sum(c.ledger.values_list("hours", flat=True)) == D("42")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("first_amount", "-100", "Ensure this value is greater than or equal to 0.01"),
    ("first_amount", "9000", "more than the contract"),
    ("hours_purchased", "99999999", "Ensure"),
    ("list_price", "abc", "Enter a number"),
    ("discount", "9000", "between 0 and the list price"),
    ("valid_until", "2000-01-01", "end on or after"),
])
def test_bad_input_names_the_field_and_writes_nothing(as_user, front_desk_a, family, course,
                                                      field, value, message):
    res = as_user(front_desk_a).post(f"/money/students/{family.pk}/enrol/",
                                     form(course, **{field: value}))
    assert res.status_code == 200
    errors = res.context["form"].errors
    assert field in errors and message in " ".join(errors[field])
    assert nothing_written()


def test_a_cap_is_shown_on_the_hours_field_in_chinese(as_user, front_desk_a, family, course,
                                                      branch_a):
    policy(branch_a, max_prepaid_hours=D("30"))
    res = as_user(front_desk_a).post(f"/zh-hans/money/students/{family.pk}/enrol/",
                                     form(course))
    assert "预付上限为 30" in " ".join(res.context["form"].errors["hours_purchased"])
    assert nothing_written()


def test_a_double_submit_and_a_reused_reference(as_user, front_desk_a, family, course,
                                                branch_a):
    client = as_user(front_desk_a)
    first = client.post(f"/money/students/{family.pk}/enrol/", form(course, reference="W1"))
    again = client.post(f"/money/students/{family.pk}/enrol/", form(course, reference="W1"))
    assert again.status_code == 302 and again.url == first.url
    other = StudentFactory(branch=branch_a)
    res = client.post(f"/money/students/{other.pk}/enrol/",
                      form(course, reference="W1", request_key="key-2"))
    assert "already recorded" in " ".join(res.context["form"].errors["reference"])
    assert Contract.objects.count() == 1 and Payment.objects.count() == 1


def test_instalments_and_the_arrears_list(as_user, front_desk_a, manager_a, family, course):
    c = signed(family, course, front_desk_a, amount="3000").contract
    client = as_user(manager_a)
    assert c.contract_no in client.get("/money/arrears/").content.decode()
    desk = as_user(front_desk_a)
    res = desk.post(f"/money/contracts/{c.pk}/pay/", {
        "amount": "5001", "method": "alipay", "request_key": "p1"})
    assert "amount" in res.context["form"].errors and Payment.objects.count() == 1
    res = desk.post(f"/money/contracts/{c.pk}/pay/", {
        "amount": "5000", "method": "alipay", "request_key": "p1"})
    assert res.status_code == 302 and Receipt.objects.count() == 2
    assert c.contract_no not in as_user(manager_a).get("/money/arrears/").content.decode()


def test_front_desk_sees_no_arrears_list_and_teachers_take_no_money(as_user, front_desk_a,
                                                                    teacher_a, family,
                                                                    course):
    assert as_user(front_desk_a).get("/money/arrears/").status_code == 403
    assert as_user(front_desk_a).get("/money/renewals/").status_code == 403
    assert as_user(teacher_a).get(f"/money/students/{family.pk}/enrol/").status_code == 403


def test_another_branchs_contract_is_a_404(as_user, manager_b, front_desk_a, family, course):
    c = signed(family, course, front_desk_a).contract
    assert as_user(manager_b).get(f"/money/contracts/{c.pk}/pay/").status_code == 404
    receipt = Receipt.objects.get()
    assert as_user(manager_b).get(f"/money/receipts/{receipt.pk}/").status_code == 404


def test_refund_request_above_refundable_is_refused(as_user, counselor_a, front_desk_a,
                                                    family, course):
    c = signed(family, course, front_desk_a).contract
    res = as_user(counselor_a).post(f"/money/contracts/{c.pk}/refund/",
                                    {"amount": "8000.01", "reason": "搬家", "request_key": "r"})
    assert "At most 8000.00" in " ".join(res.context["form"].errors["amount"])
    assert not Refund.objects.exists()


def test_request_then_another_manager_approves_never_the_requester(
        as_user, manager_a, front_desk_a, family, course, head_office, manager_b):
    c = signed(family, course, front_desk_a).contract
    as_user(manager_a).post(f"/money/contracts/{c.pk}/refund/",
                            {"amount": "7000", "reason": "搬家", "request_key": "r"})
    refund = Refund.objects.get()
    page = as_user(front_desk_a).get(f"/students/{family.pk}/").content.decode()
    assert f"pending-refund-{refund.pk}" in page
    home = as_user(manager_a).get("/").content.decode()
    assert f"refund-{refund.pk}" in home and f"approve-refund-{refund.pk}" not in home
    assert 'id="approval-count">1<' in home
    as_user(manager_a).post(f"/money/approvals/refunds/{refund.pk}/", {"decision": "approve"})
    refund.refresh_from_db()
    assert refund.status == "requested"
    res = as_user(manager_b).post(f"/money/approvals/refunds/{refund.pk}/",
                                  {"decision": "approve"})
    assert res.status_code == 404
    as_user(head_office).post(f"/money/approvals/refunds/{refund.pk}/",
                              {"decision": "approve", "expected_amount": "7000.00"})
    refund.refresh_from_db()
    assert (refund.status, refund.amount, refund.decided_by) == ("approved", D("7000.00"),
                                                                 head_office)
    assert refund.decided_at is not None
    assert sum(c.ledger.values_list("hours", flat=True)) == 0


def test_transfer_into_an_open_contract(as_user, counselor_a, manager_a, front_desk_a,
                                        family, course):
    source = signed(family, course, front_desk_a).contract
    target = signed(family, CourseFactory(unit_price=D("100")), front_desk_a).contract
    res = as_user(counselor_a).post(f"/money/contracts/{source.pk}/transfer/", {
        "target_contract": target.pk, "reason": "换课", "request_key": "t"})
    assert res.status_code == 302
    t = Transfer.objects.get()
    as_user(manager_a).post(f"/money/approvals/transfers/{t.pk}/", {"decision": "approve"})
    t.refresh_from_db()
    target.refresh_from_db()
    assert t.status == "approved" and t.target_contract == target
    assert (target.hours_purchased, target.list_price) == (D("80.00"), D("16000.00"))
    assert sum(target.ledger.values_list("hours", flat=True)) == D("80")


def test_renewal_list_links_to_a_prefilled_renewal(as_user, counselor_a, front_desk_a,
                                                   family, course):
    family.counselor = counselor_a
    family.save()
    today = timezone.localdate()
    enrolment_sign(student=family, course=course, hours_purchased=D("4"),
                   list_price=D("800"), valid_from=today - dt.timedelta(days=10),
                   valid_until=today + dt.timedelta(days=10), first_amount=D("800"),
                   method="cash", actor=front_desk_a)
    client = as_user(counselor_a)
    page = client.get("/money/renewals/").content.decode()
    assert f"renew-{family.pk}" in page
    res = client.get(f"/money/students/{family.pk}/enrol/?renew=1")
    assert res.context["form"].initial["hours_purchased"] == D("4.00")
    assert res.context["form"].initial["course"] == course


def test_pages_stay_within_a_fixed_number_of_queries(as_user, manager_a, front_desk_a,
                                                     branch_a, course,
                                                     django_assert_max_num_queries):
    for _ in range(6):
        s = StudentFactory(branch=branch_a)
        c = signed(s, course, front_desk_a, amount="1000").contract
        ClassSessionFactory()
        from students.services import refund_request
        refund_request(contract=c, reason="x", actor=front_desk_a)
    client = as_user(manager_a)
    with django_assert_max_num_queries(24):  # the home page with its approval queue
        assert client.get("/").status_code == 200
    receipt = Receipt.objects.first()
    student = Receipt.objects.first().payment.contract.student
    for url, limit in [(f"/money/students/{student.pk}/enrol/", 12),
                       (f"/students/{student.pk}/", 45),
                       ("/money/arrears/", 12), ("/money/renewals/", 12),
                       ("/money/approvals/", 14), (f"/money/receipts/{receipt.pk}/", 10),
                       (f"/money/contracts/{receipt.payment.contract_id}/pay/", 12)]:
        with django_assert_max_num_queries(limit):
            assert client.get(url).status_code == 200


def test_transfer_to_a_new_course_and_a_request_without_target(as_user, counselor_a,
                                                               manager_a, front_desk_a,
                                                               family, course):
    source = signed(family, course, front_desk_a).contract
    client = as_user(counselor_a)
    res = client.post(f"/money/contracts/{source.pk}/transfer/", {"reason": "x",
                                                                  "request_key": "t"})
    assert "target_course" in res.context["form"].errors and not Transfer.objects.exists()
    dearer = CourseFactory(unit_price=D("400"))
    client.post(f"/money/contracts/{source.pk}/transfer/", {
        "target_course": dearer.pk, "reason": "换一对一", "request_key": "t"})
    t = Transfer.objects.get()
    assert f"pending-transfer-{t.pk}" in client.get(f"/students/{family.pk}/").content.decode()
    as_user(manager_a).post(f"/money/approvals/transfers/{t.pk}/", {"decision": "approve"})
    t.refresh_from_db()
    assert t.status == "approved" and t.target_contract.course == dearer
    assert sum(t.target_contract.ledger.values_list("hours", flat=True)) == D("20")


def test_a_double_submitted_refund_request_is_recorded_once(as_user, counselor_a,
                                                            front_desk_a, family, course):
    c = signed(family, course, front_desk_a).contract
    client = as_user(counselor_a)
    for _ in range(2):
        res = client.post(f"/money/contracts/{c.pk}/refund/",
                          {"amount": "", "reason": "搬家", "request_key": "r"})
        assert res.status_code == 302
    assert Refund.objects.count() == 1


def test_a_rejection_records_who_and_when(as_user, counselor_a, manager_a, front_desk_a,
                                          family, course):
    c = signed(family, course, front_desk_a).contract
    as_user(counselor_a).post(f"/money/contracts/{c.pk}/refund/",
                              {"reason": "搬家", "request_key": "r"})
    refund = Refund.objects.get()
    as_user(manager_a).post(f"/money/approvals/refunds/{refund.pk}/",
                            {"decision": "reject", "note": "已挽留"})
    refund.refresh_from_db()
    assert (refund.status, refund.decided_by, refund.decision_note) == ("rejected", manager_a,
                                                                        "已挽留")
    assert refund.decided_at is not None and sum(c.ledger.values_list("hours", flat=True)) == 40
