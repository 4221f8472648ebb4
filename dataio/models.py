"""Import jobs: an uploaded file, its dry-run result and, once confirmed, its import.

The status pipeline is a table (as in django-oscar): `ImportJob.NEXT` lists the statuses
that may follow each one, and services move a job with a conditional UPDATE so two
workers (or a double click) can never run the same step twice.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Errors kept per job: a 50,000-row file with a wrong date format would otherwise store
# 50,000 messages nobody reads; the count is kept in full.
MAX_STORED_ERRORS = 1000
# Rows of the per-row preview kept for the dry-run page.
MAX_PREVIEW_ROWS = 500


class ImportMode(models.TextChoices):
    ALL = "all", _("All or nothing: any error stops the whole file")
    VALID = "valid", _("Import the valid rows; return the refused ones as a file")


class ImportKind(models.TextChoices):
    STUDENTS = "students", _("Students and parents")
    CONTRACTS = "contracts", _("Contracts and lesson-hour balances")
    ATTENDANCE = "attendance", _("Attendance history")
    PAYMENTS = "payments", _("Payments")
    EXAMS = "exams", _("Exam scores")
    INTERACTIONS = "interactions", _("Visits and satisfaction (回访)")
    COMPLAINTS = "complaints", _("Complaints")
    PROSPECTS = "prospects", _("Prospects (leads)")


class ImportJob(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        VALIDATING = "validating", _("Checking (dry run)")
        VALIDATED = "validated", _("Checked: waiting for confirmation")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed: nothing was imported")

    # status -> statuses that may follow it.
    NEXT = {
        Status.UPLOADED: {Status.VALIDATING},
        Status.VALIDATING: {Status.VALIDATED, Status.FAILED},
        Status.VALIDATED: {Status.IMPORTING, Status.VALIDATING},
        Status.IMPORTING: {Status.DONE, Status.FAILED},
        Status.DONE: set(),
        Status.FAILED: {Status.VALIDATING},
    }

    kind = models.CharField(_("kind"), max_length=12, choices=ImportKind.choices)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices,
                              default=Status.UPLOADED, db_index=True)
    branch = models.ForeignKey("crm.Branch", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name=_("default branch"),
                               help_text=_("Rows without a branch column go to this branch."))
    # Messages are rendered in the uploader's language by the worker, which has none.
    language = models.CharField(_("language"), max_length=10, blank=True)
    # Header (normalised) -> column key, "" to ignore it: the user's mapping of headers
    # the built-in aliases do not know (see ColumnTemplate).
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    # Choices made for this file: {"mode": "all" | "valid", "consumes": bool,
    # "values": {column key: {value as written: code}}}.
    options = models.JSONField(_("options"), default=dict, blank=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows processed"), default=0)
    # {"create": n, "update": n, "match": n, "error": n, "rows": [...preview...], ...}
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    # [{"row": 7, "column": "家长电话", "reason": "..."}], at most MAX_STORED_ERRORS.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    error_count = models.PositiveIntegerField(_("errors found"), default=0)
    # Every refused row (not capped like `errors`): {"7": "电话1: ...; 年级: ..."}, for the
    # file of refused rows the user fixes and uploads again.
    refused = models.JSONField(_("refused rows"), default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("uploaded by"))
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    validated_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    # When the running step (check or import) started: the page's time-left estimate.
    step_started_at = models.DateTimeField(_("step started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name}"

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 100 if self.status in {self.Status.DONE, self.Status.VALIDATED} else 0
        return min(100, round(self.rows_done * 100 / self.rows_total))

    @property
    def seconds_left(self) -> int | None:
        """Time left in the running step at the pace so far; None until there is a pace."""
        if not self.is_running or not self.step_started_at or not self.rows_done:
            return None
        elapsed = (timezone.now() - self.step_started_at).total_seconds()
        left = max(self.rows_total - self.rows_done, 0)
        return round(elapsed / self.rows_done * left)

    @property
    def is_running(self) -> bool:
        return self.status in {self.Status.UPLOADED, self.Status.VALIDATING,
                               self.Status.IMPORTING}


class ColumnTemplate(models.Model):
    """A saved column mapping: how one source system's export names its columns, so the
    next file from that system maps itself (DOMAIN: a school switching systems)."""

    kind = models.CharField(_("kind"), max_length=12, choices=ImportKind.choices)
    source_system = models.CharField(_("source system"), max_length=80)
    name = models.CharField(_("name"), max_length=80)
    mapping = models.JSONField(_("column mapping"), default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("saved by"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("column mapping template")
        verbose_name_plural = _("column mapping templates")
        ordering = ["source_system", "name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "source_system", "name"],
                                    name="column_template_unique_name",
                                    violation_error_message=_("A template of this name "
                                                              "already exists for this "
                                                              "source system.")),
        ]

    def __str__(self) -> str:
        return f"{self.source_system} · {self.name}"
