"""Parents (the payers and often the deciders), guardianships and consent records."""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.text import pinyin_keys

from .phones import normalize_phone


class Parent(models.Model):
    """A parent or other guardian; one parent may have several children (siblings)."""

    branch = models.ForeignKey("crm.Branch", on_delete=models.PROTECT, related_name="parents",
                               verbose_name=_("registered at branch"))
    name = models.CharField(_("name"), max_length=50)
    name_pinyin = models.CharField(_("pinyin"), max_length=200, blank=True, editable=False,
                                   db_index=True)
    name_initials = models.CharField(_("initials"), max_length=50, blank=True, editable=False,
                                     db_index=True)
    # Stored in E.164 so "138 1234 5678" and "+86 13812345678" are the same parent.
    phone = models.CharField(_("phone"), max_length=20, unique=True,
                             error_messages={"unique": _("A parent with this phone number is "
                                                         "already registered.")})
    wechat_id = models.CharField(_("WeChat id"), max_length=50, blank=True)
    email = models.EmailField(_("email"), blank=True)
    occupation = models.CharField(_("occupation"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    students = models.ManyToManyField("students.Student", through="Guardianship",
                                      related_name="parents", verbose_name=_("children"))

    history = HistoricalRecords(excluded_fields=["name_pinyin", "name_initials", "updated_at"])

    class Meta:
        verbose_name = _("parent")
        verbose_name_plural = _("parents")
        ordering = ["name_pinyin", "id"]

    def __str__(self) -> str:
        # No phone here: __str__ ends up in pages and logs seen by roles without contact rights.
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.name_pinyin, self.name_initials = pinyin_keys(self.name)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.phone:
            try:
                self.phone = normalize_phone(self.phone)
            except ValidationError as exc:
                raise ValidationError({"phone": exc.messages}) from exc


class Guardianship(models.Model):
    """Links a student to a guardian, with the relation and who is contacted / decides."""

    class Relation(models.TextChoices):
        MOTHER = "mother", _("Mother")
        FATHER = "father", _("Father")
        GRANDPARENT = "grandparent", _("Grandparent")
        OTHER = "other", _("Other guardian")

    student = models.ForeignKey("students.Student", on_delete=models.CASCADE,
                                related_name="guardianships", verbose_name=_("student"),
                                db_index=False)
    parent = models.ForeignKey(Parent, on_delete=models.CASCADE, related_name="guardianships",
                               verbose_name=_("parent"))
    relation = models.CharField(_("relation"), max_length=12, choices=Relation.choices)
    is_primary_contact = models.BooleanField(_("primary contact"), default=False)
    is_decision_maker = models.BooleanField(_("decision maker"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("guardianship")
        verbose_name_plural = _("guardianships")
        constraints = [
            models.UniqueConstraint(fields=["student", "parent"], name="guardianship_once",
                                    violation_error_message=_("This parent is already a guardian "
                                                              "of this student.")),
            models.UniqueConstraint(fields=["student"], condition=Q(is_primary_contact=True),
                                    name="one_primary_contact_per_student",
                                    violation_error_message=_("This student already has a "
                                                              "primary contact.")),
        ]

    def __str__(self) -> str:
        return f"{self.parent.name} → {self.student} ({self.get_relation_display()})"


class GuardianConsent(models.Model):
    """PIPL: a guardian's consent to process an under-14 student's personal data."""

    class Method(models.TextChoices):
        PAPER = "paper", _("Signed paper form")
        ESIGN = "esign", _("Electronic signature")
        RECORDED_CALL = "recorded_call", _("Recorded phone call")

    class Scope(models.TextChoices):
        PROFILE = "profile", _("Profile and learning records")
        CONTACT = "contact", _("Contacting the family")
        PHOTOS = "photos", _("Photos and videos")
        MARKETING = "marketing", _("Marketing messages")

    student = models.ForeignKey("students.Student", on_delete=models.CASCADE,
                                related_name="consents", verbose_name=_("student"))
    guardian = models.ForeignKey(Parent, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="consents_given", verbose_name=_("given by"))
    guardian_name = models.CharField(_("guardian name"), max_length=50,
                                     help_text=_("As signed; kept even if the parent record "
                                                 "changes."))
    given_at = models.DateTimeField(_("given at"))
    method = models.CharField(_("how"), max_length=15, choices=Method.choices)
    scope = models.JSONField(_("scope"), default=list,
                             help_text=_("What the guardian agreed to."))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("recorded by"))

    class Meta:
        verbose_name = _("guardian consent")
        verbose_name_plural = _("guardian consents")
        ordering = ["-given_at"]

    def __str__(self) -> str:
        return f"{self.guardian_name} {self.given_at:%Y-%m-%d}"

    def clean(self) -> None:
        valid = set(self.Scope.values)
        if not isinstance(self.scope, list) or not self.scope:
            raise ValidationError({"scope": _("Choose at least one thing the guardian agreed "
                                              "to.")})
        unknown = [s for s in self.scope if s not in valid]
        if unknown:
            raise ValidationError({"scope": _("Unknown consent scope: %(scope)s.")
                                   % {"scope": ", ".join(map(str, unknown))}})


class ContactConsent(models.Model):
    """Whether a parent may be contacted on a channel (messages and campaigns respect it)."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone calls")
        SMS = "sms", _("SMS")
        WECHAT = "wechat", _("WeChat")
        EMAIL = "email", _("Email")

    parent = models.ForeignKey(Parent, on_delete=models.CASCADE, related_name="contact_consents",
                               verbose_name=_("parent"), db_index=False)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    granted = models.BooleanField(_("granted"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    source = models.CharField(_("how recorded"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("contact consent")
        verbose_name_plural = _("contact consents")
        constraints = [
            models.UniqueConstraint(fields=["parent", "channel"], name="contact_consent_once",
                                    violation_error_message=_("This parent already has a consent "
                                                              "record for this channel.")),
        ]

    def __str__(self) -> str:
        return f"{self.parent.name} {self.get_channel_display()}: {self.granted}"
