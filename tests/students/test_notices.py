"""Notices to parents: routing by guardian flags, consent, retries, the daily rate limit."""
from decimal import Decimal

import pytest
from django.db import transaction

from crm import messaging
from crm.messaging import MessagingError, OutboundMessage
from crm.messaging.backends.locmem import LocmemBackend
from parents.models import ContactConsent
from students.models import ChannelPreference, MessageLog
from students.services import notice_enqueue, refund_request, roll_call_take
from tests.students.factories_extra import enrolled, guardian, klass, lesson, policy

pytestmark = pytest.mark.django_db


class FlakyBackend(LocmemBackend):
    """Fails the first `failures` sends, then delivers (class-level count across instances)."""

    failures = 2
    calls = 0

    def send(self, message: OutboundMessage) -> str:
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            raise MessagingError("gateway timeout")
        return super().send(message)


class DownBackend(LocmemBackend):
    def send(self, message: OutboundMessage) -> str:
        raise MessagingError("gateway down")


def family(student):
    mum = guardian(student, primary=True, channels=("sms",))
    dad = guardian(student, decides=True, channels=("wechat",), wechat="wx_dad",
                   relation="father")
    grandma = guardian(student, channels=("sms",), relation="grandparent")
    return mum, dad, grandma


def test_a_consumed_lesson_goes_to_the_primary_contact_only(branch_a, manager_a,
                                                            django_capture_on_commit_callbacks):
    group = klass(branch_a)
    c = enrolled(group)
    mum, _dad, _grandma = family(c.student)
    with django_capture_on_commit_callbacks(execute=True):
        roll_call_take(session=lesson(group), all_present=True, actor=manager_a)
    assert [(m.to, m.template_code) for m in messaging.outbox] == [
        (mum.parent.phone, "lesson_consumed")]
    assert "2 hours used, 38 hours left" in messaging.outbox[0].text


def test_a_refund_notice_goes_to_deciders_and_primary_once_each(branch_a, manager_a,
                                                               django_capture_on_commit_callbacks):
    c = enrolled(klass(branch_a))
    mum, dad, _grandma = family(c.student)
    dad.is_primary_contact = False
    with django_capture_on_commit_callbacks(execute=True):
        refund_request(contract=c, reason="x", actor=manager_a)
    sent = sorted((m.channel, m.to) for m in messaging.outbox)
    assert sent == sorted([("sms", mum.parent.phone), ("wechat", "wx_dad")])
    assert MessageLog.objects.filter(status="sent").count() == 2


def test_a_parent_who_is_both_primary_and_decider_gets_one_message(branch_a, manager_a,
                                                                  django_capture_on_commit_callbacks):
    c = enrolled(klass(branch_a))
    guardian(c.student, primary=True, decides=True)
    with django_capture_on_commit_callbacks(execute=True):
        refund_request(contract=c, reason="x", actor=manager_a)
    assert len(messaging.outbox) == 1


def test_without_consent_nothing_is_sent_and_the_skip_is_logged(branch_a):
    c = enrolled(klass(branch_a))
    link = guardian(c.student, primary=True, channels=())
    ContactConsent.objects.create(parent=link.parent, channel="sms", granted=False)
    notice_enqueue(student=c.student, template_code="low_balance", context={"left": 3})
    log = MessageLog.objects.get()
    assert (log.status, log.parent) == ("skipped_no_consent", link.parent)
    assert messaging.outbox == []


def test_consent_withdrawn_before_sending_stops_the_message(branch_a,
                                                           django_capture_on_commit_callbacks):
    c = enrolled(klass(branch_a))
    link = guardian(c.student, primary=True)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notice_enqueue(student=c.student, template_code="low_balance", context={"left": 3})
    ContactConsent.objects.filter(parent=link.parent).update(granted=False)
    for callback in callbacks:
        callback()
    assert MessageLog.objects.get().status == "skipped_no_consent"
    assert messaging.outbox == []


def test_the_preferred_channel_is_used_when_consented(branch_a):
    c = enrolled(klass(branch_a))
    link = guardian(c.student, primary=True, channels=("sms", "wechat"), wechat="wx_mum")
    ChannelPreference.objects.create(parent=link.parent, channel="sms")
    notice_enqueue(student=c.student, template_code="low_balance", context={"left": 3})
    assert MessageLog.objects.get().channel == "sms"  # wechat would come first otherwise


def test_a_failing_backend_is_retried_until_it_delivers(branch_a, settings,
                                                       django_capture_on_commit_callbacks):
    settings.MESSAGING_BACKEND = "tests.students.test_notices.FlakyBackend"
    FlakyBackend.calls, FlakyBackend.failures = 0, 2
    c = enrolled(klass(branch_a))
    guardian(c.student, primary=True)
    with django_capture_on_commit_callbacks(execute=True):
        notice_enqueue(student=c.student, template_code="low_balance", context={"left": 3})
    log = MessageLog.objects.get()
    assert (log.status, log.attempts, log.error) == ("sent", 3, "")
    assert len(messaging.outbox) == 1


def test_a_backend_that_keeps_failing_marks_the_message_failed(branch_a, settings,
                                                              django_capture_on_commit_callbacks):
    settings.MESSAGING_BACKEND = "tests.students.test_notices.DownBackend"
    settings.MESSAGING_MAX_RETRIES = 2
    c = enrolled(klass(branch_a))
    guardian(c.student, primary=True)
    with django_capture_on_commit_callbacks(execute=True):
        notice_enqueue(student=c.student, template_code="low_balance", context={"left": 3})
    log = MessageLog.objects.get()
    assert (log.status, log.attempts) == ("failed", 3)
    assert "gateway down" in log.error


def test_the_daily_rate_limit_per_parent_is_branch_policy(branch_a):
    policy(branch_a, message_daily_limit=2)
    c = enrolled(klass(branch_a))
    guardian(c.student, primary=True)
    for _ in range(3):
        notice_enqueue(student=c.student, template_code="low_balance", context={"left": 3})
    assert list(MessageLog.objects.order_by("id").values_list("status", flat=True)) == [
        "queued", "queued", "rate_limited"]


def test_a_rolled_back_roll_call_sends_nothing(branch_a, manager_a,
                                              django_capture_on_commit_callbacks):
    group = klass(branch_a)
    c = enrolled(group)
    guardian(c.student, primary=True)
    with (django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError),
          transaction.atomic()):
        roll_call_take(session=lesson(group), all_present=True, actor=manager_a)
        raise RuntimeError("the request failed after the roll call")
    assert messaging.outbox == [] and not MessageLog.objects.exists()


def test_crossing_the_low_balance_threshold_warns_the_deciders_once(branch_a, manager_a,
                                                                   django_capture_on_commit_callbacks):
    policy(branch_a, low_balance_hours=Decimal("5"))
    group = klass(branch_a)
    c = enrolled(group, hours="8")
    guardian(c.student, primary=True, decides=True)
    with django_capture_on_commit_callbacks(execute=True):
        roll_call_take(session=lesson(group, hour=8), all_present=True, actor=manager_a)  # 6
        roll_call_take(session=lesson(group, hour=10), all_present=True, actor=manager_a)  # 4
        roll_call_take(session=lesson(group, hour=12), all_present=True, actor=manager_a)  # 2
    codes = [m.template_code for m in messaging.outbox]
    assert codes.count("low_balance") == 1


def test_an_absence_notice_goes_to_the_primary_contact(branch_a, manager_a,
                                                      django_capture_on_commit_callbacks):
    group = klass(branch_a)
    c = enrolled(group)
    mum, _dad, _grandma = family(c.student)
    with django_capture_on_commit_callbacks(execute=True):
        roll_call_take(session=lesson(group), marks={c.student_id: "absent"}, actor=manager_a)
    assert [(m.to, m.template_code) for m in messaging.outbox] == [(mum.parent.phone, "absence")]
