from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from crm.validators import plausible_date


class Contract(models.Model):
    """An enrolment contract: a package of lesson hours with a validity window.

    The balance is never stored here: it is the sum of the contract's ledger entries.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed (hours used up)")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")
        EXPIRED = "expired", _("Expired")
        TRANSFERRED = "transferred", _("Transferred out")

    # Statuses that end a contract; `ended_on` is set when one of them is reached.
    CLOSED = frozenset({Status.COMPLETED, Status.CANCELLED, Status.REFUNDED, Status.EXPIRED,
                        Status.TRANSFERRED})

    contract_no = models.CharField(_("contract number"), max_length=40, unique=True)
    student = models.ForeignKey("students.Student", on_delete=models.PROTECT,
                                related_name="contracts", verbose_name=_("student"), db_index=False)
    branch = models.ForeignKey("crm.Branch", on_delete=models.PROTECT, related_name="contracts",
                               verbose_name=_("branch"))
    course = models.ForeignKey("students.Course", on_delete=models.PROTECT,
                               related_name="contracts", verbose_name=_("course"))
    class_group = models.ForeignKey("students.ClassGroup", on_delete=models.SET_NULL, null=True,
                                    blank=True, related_name="contracts",
                                    verbose_name=_("class group"))
    hours_purchased = models.DecimalField(_("hours purchased"), max_digits=7, decimal_places=2)
    hours_gifted = models.DecimalField(_("hours gifted"), max_digits=7, decimal_places=2,
                                       default=Decimal("0"))
    list_price = models.DecimalField(_("list price"), max_digits=10, decimal_places=2)
    discount = models.DecimalField(_("discount"), max_digits=10, decimal_places=2,
                                   default=Decimal("0"))
    valid_from = models.DateField(_("valid from"), validators=[plausible_date])
    valid_until = models.DateField(_("valid until"), validators=[plausible_date])
    signed_on = models.DateField(_("signed on"), validators=[plausible_date])
    status = models.CharField(_("status"), max_length=12, choices=Status.choices,
                              default=Status.ACTIVE, db_index=True)
    is_renewal = models.BooleanField(_("renewal"), default=False,
                                     help_text=_("A further contract of a student who already "
                                                 "had one."))
    is_trial = models.BooleanField(_("trial package"), default=False)
    sales_counselor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                        null=True, blank=True, related_name="+",
                                        verbose_name=_("signed by counselor"))
    # The day the contract completed, expired, was refunded or transferred; renewal-rate
    # figures count completions by this month.
    ended_on = models.DateField(_("ended on"), null=True, blank=True, db_index=True)
    # Set once when the renewal reminder before expiry is queued: the daily job claims a
    # contract with a conditional update, so a rerun never writes to a family twice.
    expiry_notice_at = models.DateTimeField(_("expiry reminder sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-signed_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(hours_purchased__gt=0),
                                   name="contract_hours_positive",
                                   violation_error_message=_("Hours purchased must be positive.")),
            models.CheckConstraint(condition=Q(hours_gifted__gte=0),
                                   name="contract_gift_not_negative",
                                   violation_error_message=_("Gifted hours cannot be negative.")),
            models.CheckConstraint(condition=Q(list_price__gte=0),
                                   name="contract_price_not_negative",
                                   violation_error_message=_("The price cannot be negative.")),
            models.CheckConstraint(condition=Q(discount__gte=0) & Q(discount__lte=F("list_price")),
                                   name="contract_discount_within_price",
                                   violation_error_message=_("The discount must be between 0 "
                                                             "and the list price.")),
            models.CheckConstraint(condition=Q(valid_until__gte=F("valid_from")),
                                   name="contract_valid_until_after_from",
                                   violation_error_message=_("The contract must end on or after "
                                                             "its start date.")),
        ]
        indexes = [models.Index(fields=["student", "status"])]

    def __str__(self) -> str:
        return self.contract_no

    @property
    def amount(self) -> Decimal:
        """What the family owes for the package."""
        return self.list_price - self.discount

    @property
    def unit_price(self) -> Decimal:
        """Paid price per purchased hour (gifted hours are free and not refundable)."""
        return (self.amount / self.hours_purchased).quantize(Decimal("0.01"))


class LedgerEntry(models.Model):
    """One movement of lesson hours; a contract's balance is the sum of its entries.

    Entries are never edited: a correction is a new `reversal` entry pointing at the
    entry it cancels.
    """

    class Kind(models.TextChoices):
        PURCHASED = "purchased", _("Purchased")
        GIFTED = "gifted", _("Gifted")
        CONSUMED = "consumed", _("Consumed")
        EXPIRED = "expired", _("Expired")
        REFUNDED = "refunded", _("Refunded")
        TRANSFER_IN = "transfer_in", _("Transferred in")
        TRANSFER_OUT = "transfer_out", _("Transferred out")
        REVERSAL = "reversal", _("Reversal")
        # The hours left on a contract brought over from a previous system, as of a date:
        # one entry instead of a made-up history of purchases and lessons.
        OPENING = "opening", _("Opening balance")

    POSITIVE = (Kind.PURCHASED, Kind.GIFTED, Kind.TRANSFER_IN, Kind.OPENING)
    NEGATIVE = (Kind.CONSUMED, Kind.EXPIRED, Kind.REFUNDED, Kind.TRANSFER_OUT)

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="ledger",
                                 verbose_name=_("contract"), db_index=False)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    hours = models.DecimalField(_("hours"), max_digits=7, decimal_places=2)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    attendance = models.ForeignKey("students.Attendance", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="ledger_entries",
                                   verbose_name=_("attendance"))
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="reversed_by", verbose_name=_("reverses"))
    # Set on a handful of entries in a thousand: indexed only where set (Meta.indexes),
    # not a NULL per lesson consumed.
    refund = models.ForeignKey("students.Refund", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="ledger_entries",
                               verbose_name=_("refund"), db_index=False)
    transfer = models.ForeignKey("students.Transfer", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="ledger_entries",
                                 verbose_name=_("transfer"), db_index=False)
    # Branch policy "owe": a lesson consumed beyond the balance; the entry is flagged so
    # owed hours can be listed and settled. db_default: bulk loaders insert raw rows.
    is_overdraft = models.BooleanField(_("overdraft"), default=False, db_default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+", verbose_name=_("created by"))

    class Meta:
        verbose_name = _("lesson-hour ledger entry")
        verbose_name_plural = _("lesson-hour ledger")
        ordering = ["occurred_at", "id"]
        constraints = [
            # The sign follows the kind, so a sum can never be skewed by a typo.
            models.CheckConstraint(
                condition=(Q(kind__in=["purchased", "gifted", "transfer_in", "opening"],
                             hours__gt=0)
                           | Q(kind__in=["consumed", "expired", "refunded", "transfer_out"],
                               hours__lt=0)
                           | Q(kind="reversal", reverses__isnull=False)),
                name="ledger_sign_matches_kind",
                violation_error_message=_("Purchases, gifts, transfers in and opening "
                                          "balances add hours; "
                                          "consumption, expiry, refunds and transfers out "
                                          "subtract them; a reversal must name its entry."),
            ),
            # Expiry (nightly job, or gifted hours forfeited at a refund) closes a contract
            # once: a second run of the job cannot write a second entry.
            models.UniqueConstraint(fields=["contract"], condition=Q(kind="expired"),
                                    name="ledger_one_expiry_per_contract",
                                    violation_error_message=_("This contract's hours have "
                                                              "already expired.")),
        ]
        # One index for every per-contract read: by contract (and kind, and time), and
        # on PostgreSQL balances and consumption from the index alone. Key columns, not
        # INCLUDE: other databases skip covering indexes and would be left with none.
        indexes = [
            models.Index(fields=["contract", "kind", "occurred_at", "hours"],
                         name="ledger_contract_cover"),
            models.Index(fields=["refund"], condition=Q(refund__isnull=False),
                         name="ledger_refund_set"),
            models.Index(fields=["transfer"], condition=Q(transfer__isnull=False),
                         name="ledger_transfer_set"),
        ]

    def __str__(self) -> str:
        return f"{self.contract} {self.get_kind_display()} {self.hours}"


class Payment(models.Model):
    class Method(models.TextChoices):
        WECHAT = "wechat", _("WeChat Pay")
        ALIPAY = "alipay", _("Alipay")
        CARD = "card", _("Bank card")
        TRANSFER = "transfer", _("Bank transfer")
        CASH = "cash", _("Cash")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="payments",
                                 verbose_name=_("contract"), db_index=False)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    paid_at = models.DateTimeField(_("paid at"), validators=[plausible_date])
    reference = models.CharField(_("transaction reference"), max_length=64, blank=True,
                                 help_text=_("The payment provider's id; a repeated reference is "
                                             "refused so a payment is never booked twice."))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                    blank=True, related_name="+", verbose_name=_("recorded by"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    # The form's one-time token: a double-clicked submit books the payment once.
    request_key = models.CharField(_("request key"), max_length=64, blank=True, default="",
                                   editable=False)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-paid_at"]
        # Paid totals per contract from the index alone (PostgreSQL); key columns, so
        # every database has it (see LedgerEntry).
        indexes = [models.Index(fields=["contract", "paid_at", "amount"],
                                name="payment_contract_cover")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive",
                                   violation_error_message=_("A payment must be positive.")),
            models.UniqueConstraint(fields=["reference"], condition=~Q(reference=""),
                                    name="payment_reference_unique",
                                    violation_error_message=_("A payment with this transaction "
                                                              "reference is already recorded.")),
            models.UniqueConstraint(fields=["request_key"], condition=~Q(request_key=""),
                                    name="payment_request_key_unique",
                                    violation_error_message=_("This form was already "
                                                              "submitted.")),
        ]

    def __str__(self) -> str:
        return f"{self.contract} {self.amount}"


class Refund(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        PAID = "paid", _("Paid out")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="refunds",
                                 verbose_name=_("contract"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.REQUESTED, db_index=True)
    hours = models.DecimalField(_("hours refunded"), max_digits=7, decimal_places=2,
                                default=Decimal("0"))
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2,
                                 default=Decimal("0"))
    reason = models.TextField(_("reason"))
    requested_at = models.DateTimeField(_("requested at"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("requested by"))
    # The branch formula's breakdown as shown before approval (refund_quote), kept with
    # the decision so the figure can be explained later.
    quote = models.JSONField(_("quote"), default=dict, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=200, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0) & Q(hours__gte=0),
                                   name="refund_not_negative",
                                   violation_error_message=_("Refund hours and amount cannot be "
                                                             "negative.")),
            models.UniqueConstraint(fields=["contract"], condition=Q(status="requested"),
                                    name="refund_one_open_request_per_contract",
                                    violation_error_message=_("A refund of this contract is "
                                                              "already requested.")),
        ]

    def __str__(self) -> str:
        return f"{self.contract} {self.get_status_display()} {self.amount}"
