from django.contrib import admin

from audits.models import AuditEvent, Checkpoint
from fmgov.core.admin_readonly import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "timestamp", "actor_username", "actor_system", "action", "object_type", "object_repr"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_repr", "actor_username", "action", "object_id"]
    date_hierarchy = "timestamp"


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["seq", "head_hash", "created_at"]
