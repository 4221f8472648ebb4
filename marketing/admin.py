from django.contrib import admin

from .models import Channel


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "is_referral", "is_active", "sort_order")
    list_filter = ("is_active", "is_referral")
    search_fields = ("code", "name_zh", "name_en")
    list_editable = ("sort_order", "is_active")
