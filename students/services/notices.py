"""Notices to parents: who gets what, on which channel, and the send step the task runs.

Routing follows the guardianship flags (DOMAIN.md §2, the customer is two people):
day-to-day notices (a lesson consumed, an absence) go to the primary contact; money
and contract notices (low balance, expiry, refunds) go to the decision maker(s) and the
primary contact, once per parent. A parent is written to only on a channel they
consented to (ContactConsent), their preferred channel first, at most
`message_daily_limit` times a day (branch policy). Every decision leaves a MessageLog
row; sending happens in `send_message_task` after the caller's transaction commits.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from crm.messaging import MessagingError, OutboundMessage, PermanentMessagingError, send
from parents.models import ContactConsent, Guardianship, Parent
from students.models import (
    Attendance,
    ChannelPreference,
    ClassSession,
    ContractPolicy,
    LedgerEntry,
    MessageChannel,
    MessageLog,
    Student,
)

PRIMARY = "primary"
DECIDERS = "deciders"  # decision makers + primary contact, de-duplicated

TEMPLATES: dict[str, tuple[str, Any]] = {
    "lesson_consumed": (PRIMARY, _(
        "%(student)s attended %(course)s on %(date)s: %(hours)s hours used, "
        "%(left)s hours left.")),
    "absence": (PRIMARY, _(
        "%(student)s was absent from %(course)s on %(date)s. Please tell us if something "
        "is wrong.")),
    "low_balance": (DECIDERS, _(
        "%(student)s has %(left)s lesson hours left. Please contact your counselor to "
        "renew.")),
    "hours_expired": (DECIDERS, _(
        "%(hours)s unused lesson hours of contract %(contract)s expired on %(date)s.")),
    "expiry_soon": (DECIDERS, _(
        "Contract %(contract)s of %(student)s ends on %(date)s with %(hours)s lesson hours "
        "left. Please contact your counselor to renew or use them in time.")),
    "refund_status": (DECIDERS, _(
        "The refund request for contract %(contract)s is now: %(status)s. "
        "Amount: %(amount)s.")),
    # Timetable changes (timetable.services): the lesson's families hear of them at once.
    "session_moved": (PRIMARY, _(
        "%(student)s's %(course)s lesson on %(old)s moves to %(new)s.")),
    "session_cancelled": (PRIMARY, _(
        "%(student)s's %(course)s lesson on %(old)s is cancelled. %(reason)s")),
    "makeup_booked": (PRIMARY, _(
        "Make-up lesson booked for %(student)s: %(course)s on %(new)s.")),
}

# Tried in this order after the parent's own preference. Phone calls are not messages.
DEFAULT_CHANNEL_ORDER = [MessageChannel.WECHAT, MessageChannel.SMS, MessageChannel.EMAIL]
COUNTED = [MessageLog.Status.QUEUED, MessageLog.Status.SENT, MessageLog.Status.FAILED]


def recipients(student: Student, audience: str) -> list[Guardianship]:
    """The guardianships a notice goes to, one per parent."""
    links = list(Guardianship.objects.filter(student=student).select_related("parent")
                 .order_by("-is_primary_contact", "-is_decision_maker", "id"))
    primary = [g for g in links if g.is_primary_contact]
    if audience == PRIMARY:
        # No primary contact on record: fall back to the decision makers, then anyone.
        chosen = primary or [g for g in links if g.is_decision_maker] or links[:1]
    else:
        chosen = [g for g in links if g.is_decision_maker or g.is_primary_contact] or links[:1]
    seen: set[int] = set()
    unique = []
    for g in chosen:
        if g.parent_id not in seen:
            seen.add(g.parent_id)
            unique.append(g)
    return unique


def _address(parent: Parent, channel: str) -> str:
    return {MessageChannel.SMS: parent.phone, MessageChannel.WECHAT: parent.wechat_id,
            MessageChannel.EMAIL: parent.email}.get(channel, "") or ""


def _granted_channels(parent: Parent) -> set[str]:
    return set(ContactConsent.objects.filter(parent=parent, granted=True)
               .values_list("channel", flat=True))


def choose_channel(parent: Parent) -> str:
    """The parent's preferred channel if consented and reachable, else the first that is."""
    order = list(getattr(settings, "MESSAGING_CHANNEL_ORDER", DEFAULT_CHANNEL_ORDER))
    pref = ChannelPreference.objects.filter(parent=parent).values_list("channel", flat=True)
    order = list(pref) + [c for c in order if c not in pref]
    granted = _granted_channels(parent)
    for channel in order:
        if channel in granted and _address(parent, channel):
            return channel
    return ""


def _render(template_code: str, context: dict[str, Any]) -> str:
    language = getattr(settings, "MESSAGING_LANGUAGE", settings.LANGUAGE_CODE)
    with translation.override(language):
        return str(TEMPLATES[template_code][1]) % context


def _text(value: Any) -> str:
    """Hours read the same on every database: 43, 1.5 (not 43.00 or 1.50)."""
    if isinstance(value, Decimal):
        return f"{value.quantize(Decimal('0.01')).normalize():f}"
    return str(value)


def _start_of_today() -> dt.datetime:
    today = timezone.localdate()
    return timezone.make_aware(dt.datetime.combine(today, dt.time.min))


def notice_enqueue(*, student: Student, template_code: str,
                   context: dict[str, Any]) -> list[MessageLog]:
    """Log one notice per recipient and queue the sends for after the commit.

    Call inside the business transaction: if it rolls back, the log rows vanish with it
    and nothing is sent.
    """
    audience = TEMPLATES[template_code][0]
    context = {"student": student.name_zh, **{k: _text(v) for k, v in context.items()}}
    text = _render(template_code, context)
    policy = ContractPolicy.for_branch(student.branch_id)
    logs = []
    for link in recipients(student, audience):
        parent = link.parent
        # Serialise notices to one parent so the daily count cannot be overrun.
        Parent.objects.select_for_update().filter(pk=parent.pk).first()
        channel = choose_channel(parent)
        log = MessageLog(parent=parent, guardianship=link, student=student, channel=channel,
                         address=_address(parent, channel), template_code=template_code,
                         context=context, text=text)
        if not channel:
            log.status = MessageLog.Status.SKIPPED_NO_CONSENT
        elif MessageLog.objects.filter(parent=parent, created_at__gte=_start_of_today(),
                                       status__in=COUNTED).count() >= policy.message_daily_limit:
            log.status = MessageLog.Status.RATE_LIMITED
        log.save()
        logs.append(log)
        if log.status == MessageLog.Status.QUEUED:
            transaction.on_commit(lambda pk=log.pk: _enqueue_send(pk), robust=True)
    return logs


def _enqueue_send(log_id: int) -> None:
    # robust on_commit: a broker hiccup must not fail the request whose data is committed;
    # the row stays queued and visible in the message log.
    from students.tasks import send_message_task

    send_message_task.delay(log_id)


def message_send(*, log_id: int) -> str:
    """Deliver one queued message; returns its status. Safe to run twice.

    Consent is checked again at send time (it may have been withdrawn since the notice
    was queued). A retryable backend error is recorded and re-raised for the task to
    retry; a permanent one marks the message failed.
    """
    log = MessageLog.objects.select_related("parent").filter(pk=log_id).first()
    if log is None or log.status != MessageLog.Status.QUEUED:
        return log.status if log else "missing"
    if log.channel not in _granted_channels(log.parent):
        MessageLog.objects.filter(pk=log.pk, status=MessageLog.Status.QUEUED).update(
            status=MessageLog.Status.SKIPPED_NO_CONSENT, updated_at=timezone.now())
        return MessageLog.Status.SKIPPED_NO_CONSENT
    MessageLog.objects.filter(pk=log.pk).update(attempts=F("attempts") + 1,
                                                updated_at=timezone.now())
    message = OutboundMessage(channel=log.channel, to=log.address, text=log.text,
                              template_code=log.template_code, context=log.context,
                              reference=str(log.pk))
    try:
        provider_id = send(message)
    except PermanentMessagingError as exc:
        message_fail(log_id=log.pk, error=str(exc))
        return MessageLog.Status.FAILED
    except MessagingError as exc:
        MessageLog.objects.filter(pk=log.pk).update(error=str(exc)[:2000],
                                                    updated_at=timezone.now())
        raise
    MessageLog.objects.filter(pk=log.pk, status=MessageLog.Status.QUEUED).update(
        status=MessageLog.Status.SENT, sent_at=timezone.now(), provider_id=provider_id[:100],
        error="", updated_at=timezone.now())
    return MessageLog.Status.SENT


def message_fail(*, log_id: int, error: str) -> None:
    """Give up on a message (permanent error, or retries exhausted)."""
    MessageLog.objects.filter(pk=log_id, status=MessageLog.Status.QUEUED).update(
        status=MessageLog.Status.FAILED, error=error[:2000], updated_at=timezone.now())


def notify_roll_call(*, session: ClassSession,
                     changes: list[tuple[Attendance, str | None, LedgerEntry | None]],
                     policy: ContractPolicy) -> None:
    """Consumption, absence and low-balance notices for what this roll call changed."""
    from .ledger import student_hours_left

    course = session.class_group.course.name
    for att, old_status, entry in changes:
        if att.status == old_status:
            continue
        student = att.student
        base = {"course": course, "date": session.date}
        if att.status == Attendance.Status.ABSENT:
            notice_enqueue(student=student, template_code="absence", context=base)
        if entry is None or old_status in Attendance.CONSUMING:
            continue  # only a newly consumed lesson is news
        left = student_hours_left(student)
        notice_enqueue(student=student, template_code="lesson_consumed",
                       context={**base, "hours": session.hours, "left": left})
        # Once, when the balance crosses the threshold, not at every lesson below it.
        if left < policy.low_balance_hours <= left - entry.hours:
            notice_enqueue(student=student, template_code="low_balance", context={"left": left})
