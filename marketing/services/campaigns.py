"""Campaign writes: creation (branch-scoped) and handing an audience over.

Nothing is sent from here. A messaging handoff writes one queued MessageLog per parent
(the messaging app's outbox) and the delivery task sends it after commit through the
configured backend, re-checking consent at send time. Phone campaigns are call lists:
the handoff records them, nobody pretends a call was made.
"""
from __future__ import annotations

import csv
import io
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.permissions import branch_of, role_of
from crm.roles import Role
from crm.services import audit
from crm.spreadsheets import safe_row
from students.models import MessageChannel, MessageLog

from ..models import AudienceHandoff, Campaign, HandoffRecipient
from ..selectors.campaigns import campaign_audience, can_manage_campaigns

CAMPAIGN_FIELDS = {"code", "name", "kind", "branch", "channel", "contact_channel", "starts_on",
                   "ends_on", "cost", "target_periods", "target_grades", "target_segments",
                   "exam_from", "exam_until", "message", "is_active"}


def _check_branch(actor: Any, campaign: Campaign) -> None:
    """Before saving: a branch manager's campaign is their branch's, never another's."""
    if role_of(actor) == Role.HEAD_OFFICE:
        return
    own = branch_of(actor)
    if campaign.branch_id is None:
        campaign.branch = own
    elif own is None or campaign.branch_id != own.pk:
        raise PermissionDenied(_("You can run campaigns only for your own branch."))


def _check_use(actor: Any, campaign: Campaign) -> None:
    """Handing over or exporting: own branch's or institution-wide campaigns (the audience
    is scoped to what the user sees anyway)."""
    if not can_manage_campaigns(actor):
        raise PermissionDenied(_("Only managers and head office run campaigns."))
    if role_of(actor) == Role.HEAD_OFFICE or campaign.branch_id is None:
        return
    own = branch_of(actor)
    if own is None or campaign.branch_id != own.pk:
        raise PermissionDenied(_("You can run campaigns only for your own branch."))


@transaction.atomic
def campaign_save(*, actor: Any, data: dict[str, Any],
                  campaign: Campaign | None = None) -> Campaign:
    """Create or edit a campaign (managers for their branch, head office for any)."""
    if not can_manage_campaigns(actor):
        raise PermissionDenied(_("Only managers and head office run campaigns."))
    unknown = set(data) - CAMPAIGN_FIELDS
    if unknown:
        raise ValidationError({f: _("Unknown field.") for f in unknown})
    creating = campaign is None
    campaign = campaign or Campaign(created_by=actor)
    if not creating and campaign.branch_id is None and role_of(actor) != Role.HEAD_OFFICE:
        raise PermissionDenied(_("Institution-wide campaigns are edited by head office."))
    if not creating:
        _check_branch(actor, campaign)
    for name, value in data.items():
        setattr(campaign, name, value)
    _check_branch(actor, campaign)
    campaign.full_clean()
    campaign.save()
    audit(actor=actor, action="campaign.create" if creating else "campaign.edit", obj=campaign,
          data={k: str(v) for k, v in data.items()})
    return campaign


def _handoff_rows(campaign: Campaign, actor: Any) -> list[Any]:
    return list(campaign_audience(campaign, actor))


@transaction.atomic
def campaign_handoff(*, campaign: Campaign, actor: Any, text: str = "") -> AudienceHandoff:
    """Queue the campaign's message for its audience (one per parent) and record it."""
    _check_use(actor, campaign)
    text = (text or campaign.message).strip()
    messaging = campaign.contact_channel in MessageChannel.values
    if messaging and not text:
        raise ValidationError({"text": _("Write the message first.")})
    rows = _handoff_rows(campaign, actor)
    handoff = AudienceHandoff.objects.create(
        campaign=campaign, kind=AudienceHandoff.Kind.MESSAGING, channel=campaign.contact_channel,
        actor=actor, text=text)
    seen: set[int] = set()
    recipients: list[HandoffRecipient] = []
    queued: list[int] = []
    skipped = 0
    for g in rows:
        log = None
        if g.parent_id in seen:
            # One message per parent even with two children in the audience.
            recipients.append(HandoffRecipient(handoff=handoff, student=g.student,
                                               parent=g.parent))
            continue
        seen.add(g.parent_id)
        if messaging:
            address = {MessageChannel.SMS: g.parent.phone, MessageChannel.WECHAT:
                       g.parent.wechat_id, MessageChannel.EMAIL: g.parent.email}[
                campaign.contact_channel]
            if not address:
                skipped += 1
                continue
            log = MessageLog.objects.create(
                parent=g.parent, guardianship=g, student=g.student,
                channel=campaign.contact_channel, address=address,
                template_code=f"campaign:{campaign.code}"[:40],
                context={"campaign": campaign.pk}, text=text)
            queued.append(log.pk)
        recipients.append(HandoffRecipient(handoff=handoff, student=g.student, parent=g.parent,
                                           message=log))
    HandoffRecipient.objects.bulk_create(recipients, ignore_conflicts=True)
    handoff.recipients, handoff.skipped = len(seen) - skipped, skipped
    handoff.save(update_fields=["recipients", "skipped"])
    audit(actor=actor, action="campaign.handoff", obj=campaign,
          data={"handoff": handoff.pk, "recipients": handoff.recipients, "skipped": skipped})

    def _enqueue() -> None:
        from students.tasks import send_message_task

        for pk in queued:
            send_message_task.delay(pk)

    # robust: a broker hiccup leaves the rows queued and visible, never fails the request.
    transaction.on_commit(_enqueue, robust=True)
    return handoff


CSV_HEADER = ["student_id", "student", "grade", "branch", "period", "parent_id", "parent",
              "relation", "phone", "channel"]


@transaction.atomic
def campaign_export(*, campaign: Campaign, actor: Any) -> str:
    """The audience as CSV (an export of contacts: audited and recorded as a handoff)."""
    _check_use(actor, campaign)
    rows = _handoff_rows(campaign, actor)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for g in rows:
        writer.writerow(safe_row(
            [g.student_id, g.student.name_zh, g.student.grade, g.student.branch.code,
             g.student.period, g.parent_id, g.parent.name, g.relation,
             g.parent.phone, campaign.contact_channel]))
    handoff = AudienceHandoff.objects.create(
        campaign=campaign, kind=AudienceHandoff.Kind.EXPORT, channel=campaign.contact_channel,
        actor=actor, at=timezone.now(), recipients=len({g.parent_id for g in rows}))
    HandoffRecipient.objects.bulk_create(
        [HandoffRecipient(handoff=handoff, student_id=g.student_id, parent_id=g.parent_id)
         for g in rows], ignore_conflicts=True)
    audit(actor=actor, action="campaign.export", obj=campaign,
          data={"handoff": handoff.pk, "rows": len(rows)})
    return out.getvalue()
