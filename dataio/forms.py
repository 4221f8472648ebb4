from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.models import Branch
from crm.permissions import scope_branches, sees_all_branches
from lifecycle.periods import Period
from students.choices import Grade

from .exports import exports_for
from .models import ColumnTemplate, ImportKind, ImportMode
from .services import import_kinds_for


def _bootstrap(form: forms.Form) -> None:
    for field in form.fields.values():
        if isinstance(field.widget, forms.RadioSelect):
            continue
        if isinstance(field.widget, forms.CheckboxInput):
            field.widget.attrs.setdefault("class", "form-check-input")
            continue
        css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
        field.widget.attrs.setdefault("class", css)


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What to import"))
    file = forms.FileField(label=_("File (.xlsx or .csv)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}))
    branch = forms.ModelChoiceField(label=_("Default branch"), queryset=Branch.objects.none(),
                                    required=False,
                                    help_text=_("For rows without a branch column."))
    mode = forms.ChoiceField(label=_("When some rows have errors"), choices=ImportMode.choices,
                             initial=ImportMode.ALL, widget=forms.RadioSelect, required=False)
    consumes = forms.BooleanField(
        label=_("Attended lessons draw lesson hours"), required=False,
        help_text=_("Attendance files: charge lessons after a contract's opening-balance "
                    "date to the contract (leave unticked when the remaining hours already "
                    "count them)."))
    template = forms.ModelChoiceField(
        label=_("Column mapping"), queryset=ColumnTemplate.objects.none(), required=False,
        empty_label=_("Recognise the headers"),
        help_text=_("A mapping saved from an earlier file of the same source system."))

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        kinds = import_kinds_for(user)
        self.fields["kind"].choices = [(k, ImportKind(k).label) for k in kinds]
        field = self.fields["template"]
        field.queryset = ColumnTemplate.objects.filter(kind__in=kinds)
        field.label_from_instance = lambda t: (f"{t.source_system} · {t.name} "
                                               f"({ImportKind(t.kind).label})")
        if sees_all_branches(user):
            self.fields["branch"].queryset = scope_branches(user, Branch.objects.all())
        else:
            del self.fields["branch"]
        _bootstrap(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        template = data.get("template")
        if template is not None and data.get("kind") and template.kind != data["kind"]:
            self.add_error("template", _("This template is for another kind of data."))
        return data

    def options(self) -> dict[str, Any]:
        """The choices stored on the job (ImportJob.options)."""
        return {"consumes": bool(self.cleaned_data.get("consumes")),
                "mode": self.cleaned_data.get("mode") or ImportMode.ALL}


class ExportForm(forms.Form):
    list = forms.ChoiceField(label=_("List"))
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=Branch.objects.none(),
                                    required=False)
    grade = forms.ChoiceField(label=_("Grade"), required=False,
                              choices=[("", _("All grades")), *Grade.choices])
    period = forms.ChoiceField(label=_("Lifecycle period"), required=False,
                               choices=[("", _("All periods")), *Period.choices])
    format = forms.ChoiceField(label=_("Format"), choices=[("xlsx", "Excel (.xlsx)"),
                                                            ("csv", "CSV")], initial="xlsx")

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["list"].choices = [(s.name, s.label) for s in exports_for(user)]
        self.fields["branch"].queryset = scope_branches(user, Branch.objects.all())
        _bootstrap(self)

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data
        branch = data.get("branch")
        return {"branch": branch.pk if branch else None, "grade": data.get("grade", ""),
                "period": data.get("period", "")}
