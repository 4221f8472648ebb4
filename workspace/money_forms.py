"""Forms of the money pages: bounds and labels only; the rules are the services'."""
from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from students.models import ClassGroup, Contract, Course, Payment, Student

# Sane upper bounds for a desk form; larger figures are typos, not enrolments.
MAX_HOURS = Decimal("2000")
MAX_MONEY = Decimal("1000000")


def _money(label: Any, required: bool = True, minimum: str = "0.01") -> forms.DecimalField:
    return forms.DecimalField(label=label, required=required, max_digits=10, decimal_places=2,
                              min_value=Decimal(minimum), max_value=MAX_MONEY)


def _hours(label: Any, minimum: str) -> forms.DecimalField:
    return forms.DecimalField(label=label, max_digits=7, decimal_places=2,
                              min_value=Decimal(minimum), max_value=MAX_HOURS)


class OnceForm(forms.Form):
    """A hidden one-time key: the same form posted twice books once."""

    request_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("request_key", uuid.uuid4().hex)

    def apply(self, exc: ValidationError) -> None:
        """Show a service's refusal on the fields it names (others on top of the form)."""
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, exc)


class PaymentFields(OnceForm):
    method = forms.ChoiceField(label=_("payment method"), choices=Payment.Method.choices)
    reference = forms.CharField(label=_("transaction reference"), required=False, max_length=64,
                                help_text=_("WeChat / Alipay / bank transaction number; each "
                                            "can be booked only once."))
    note = forms.CharField(label=_("note"), required=False, max_length=200)


class EnrolmentForm(PaymentFields):
    course = forms.ModelChoiceField(label=_("course"), queryset=Course.objects.none())
    class_group = forms.ModelChoiceField(label=_("class group"), required=False,
                                         queryset=ClassGroup.objects.none())
    hours_purchased = _hours(_("hours purchased"), "0.5")
    hours_gifted = _hours(_("hours gifted"), "0")
    list_price = _money(_("list price"), minimum="0")
    discount = _money(_("discount"), minimum="0")
    valid_from = forms.DateField(label=_("valid from"),
                                 widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(label=_("valid until"),
                                  widget=forms.DateInput(attrs={"type": "date"}))
    first_amount = _money(_("first payment"))

    field_order = ["course", "class_group", "hours_purchased", "hours_gifted", "list_price",
                   "discount", "valid_from", "valid_until", "first_amount", "method",
                   "reference", "note"]

    def __init__(self, *args: Any, student: Student, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = Course.objects.filter(
            Q(branch__isnull=True) | Q(branch=student.branch_id), is_active=True).order_by(
                "subject", "name")
        self.fields["class_group"].queryset = ClassGroup.objects.filter(
            branch=student.branch_id, is_active=True).select_related("course").order_by("name")
        self.initial.setdefault("hours_gifted", Decimal("0"))
        self.initial.setdefault("discount", Decimal("0"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("The contract must end on or after its start "
                                            "date."))
        price, discount = data.get("list_price"), data.get("discount")
        if price is not None and discount is not None and discount > price:
            self.add_error("discount", _("The discount must be between 0 and the list price."))
        return data


class PaymentForm(PaymentFields):
    amount = _money(_("amount"))
    field_order = ["amount", "method", "reference", "note"]


class RefundRequestForm(OnceForm):
    amount = _money(_("amount agreed with the family"), required=False, minimum="0")
    reason = forms.CharField(label=_("reason"), max_length=2000, widget=forms.Textarea(
        attrs={"rows": 3}))


class TransferRequestForm(OnceForm):
    target_contract = forms.ModelChoiceField(
        label=_("into an open contract"), required=False, queryset=Contract.objects.none(),
        help_text=_("Leave empty to open a new contract of the course below."))
    target_course = forms.ModelChoiceField(label=_("to course"), required=False,
                                           queryset=Course.objects.none())
    target_class_group = forms.ModelChoiceField(label=_("to class group"), required=False,
                                                queryset=ClassGroup.objects.none())
    reason = forms.CharField(label=_("reason"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, source: Contract, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target_contract"].queryset = source.student.contracts.filter(
            status__in=[Contract.Status.ACTIVE, Contract.Status.COMPLETED]).exclude(
                pk=source.pk).select_related("course")
        self.fields["target_course"].queryset = Course.objects.filter(
            Q(branch__isnull=True) | Q(branch=source.branch_id), is_active=True)
        self.fields["target_class_group"].queryset = ClassGroup.objects.filter(
            branch=source.branch_id, is_active=True).select_related("course")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("target_contract") and not data.get("target_course") \
                and not data.get("target_class_group"):
            self.add_error("target_course", _("Choose a course (or class, or open contract) "
                                              "to transfer the hours to."))
        return data


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("decision"), choices=[("approve", _("Approve")),
                                                               ("reject", _("Reject"))])
    note = forms.CharField(label=_("decision note"), required=False, max_length=200)
    expected_amount = forms.DecimalField(required=False, widget=forms.HiddenInput,
                                         max_digits=10, decimal_places=2)
