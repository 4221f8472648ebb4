from django.contrib import admin

from .models import ColumnTemplate, ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "original_name", "status", "rows_total", "error_count",
                    "created_by", "created_at"]
    list_filter = ["kind", "status"]
    readonly_fields = [f.name for f in ImportJob._meta.fields]

    def has_add_permission(self, request) -> bool:  # uploads go through the import page
        return False


@admin.register(ColumnTemplate)
class ColumnTemplateAdmin(admin.ModelAdmin):
    list_display = ["source_system", "name", "kind", "updated_at", "created_by"]
    list_filter = ["kind", "source_system"]
