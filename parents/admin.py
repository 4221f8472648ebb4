from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm.admin import ScopedAdminMixin, merge_selected
from crm.permissions import can_see_contact

from .models import ContactConsent, GuardianConsent, Guardianship, Parent
from .phones import display_phone, mask_phone, mask_text
from .services import parent_merge


class GuardianshipInline(admin.TabularInline):
    model = Guardianship
    extra = 0
    autocomplete_fields = ("student",)
    fields = ("student", "relation", "is_primary_contact", "is_decision_maker")


class ContactConsentInline(admin.TabularInline):
    model = ContactConsent
    extra = 0
    fields = ("channel", "granted", "source", "updated_at")
    readonly_fields = ("updated_at",)


@admin.register(Parent)
class ParentAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    scope = "parent"
    list_filter = ("branch",)
    search_fields = ("name", "name_pinyin", "name_initials", "phone", "wechat_id",
                     "students__name_zh")
    phone_search = True
    inlines = [GuardianshipInline, ContactConsentInline]
    actions = ["merge_into_first"]
    list_select_related = ("branch",)

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("students")

    def get_list_display(self, request: HttpRequest) -> Any:
        # Teachers and other roles without contact rights see masked numbers.
        if can_see_contact(request.user):
            return ("name", "phone_full", "wechat_id", "branch", "children", "updated_at")
        return ("name", "phone_masked", "wechat_masked", "branch", "children", "updated_at")

    @admin.display(description=_("phone"), ordering="phone")
    def phone_full(self, obj: Parent) -> str:
        return display_phone(obj.phone)

    @admin.display(description=_("phone"))
    def phone_masked(self, obj: Parent) -> str:
        return mask_phone(obj.phone)

    @admin.display(description=_("WeChat id"))
    def wechat_masked(self, obj: Parent) -> str:
        return mask_text(obj.wechat_id)

    @admin.display(description=_("children"))
    def children(self, obj: Parent) -> str:
        return "、".join(s.name_zh for s in obj.students.all())

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if not can_see_contact(request.user):
            return [f for f in fields if f not in ("phone", "wechat_id", "email")]
        return fields

    @admin.action(description=_("Merge the selected parents into the first one"))
    def merge_into_first(self, request: HttpRequest, queryset: Any) -> None:
        merge_selected(self, request, queryset, parent_merge)


@admin.register(GuardianConsent)
class GuardianConsentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope = "by_student"
    list_display = ("student", "guardian_name", "method", "given_at", "withdrawn_at")
    list_filter = ("method",)
    search_fields = ("student__name_zh", "guardian_name")
    autocomplete_fields = ("student", "guardian")


@admin.register(Guardianship)
class GuardianshipAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope = "by_student"
    list_display = ("student", "parent", "relation", "is_primary_contact", "is_decision_maker")
    list_filter = ("relation", "is_primary_contact", "is_decision_maker", "student__branch")
    search_fields = ("student__name_zh", "student__name_pinyin", "parent__name",
                     "parent__name_pinyin")
    autocomplete_fields = ("student", "parent")
    list_select_related = ("student", "parent")


@admin.register(ContactConsent)
class ContactConsentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope = "parent_rel"
    list_display = ("parent", "channel", "granted", "source", "updated_at")
    list_filter = ("channel", "granted")
    search_fields = ("parent__name", "parent__name_pinyin")
    autocomplete_fields = ("parent",)
