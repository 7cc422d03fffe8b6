import datetime as dt

import django_filters
from django import forms
from django.utils.dateparse import parse_datetime

from audits.models import AuditEvent

MAX_UTC_OFFSET = dt.timedelta(hours=14)  # the widest offset any time zone uses


class BoundedIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    def to_python(self, value):
        raw = parse_datetime(str(value)) if value not in (None, "") else None
        if raw is not None:
            offset = raw.utcoffset()
            if offset is not None and abs(offset) > MAX_UTC_OFFSET:
                raise forms.ValidationError("The UTC offset must be between -14:00 and +14:00.")
            if raw.year < 1900:
                raise forms.ValidationError("Dates before 1900 are not in the audit trail.")
        return super().to_python(value)


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


class AuditEventFilter(django_filters.FilterSet):
    object_type = django_filters.CharFilter()
    object_id = django_filters.CharFilter()
    actor = django_filters.CharFilter(field_name="actor_username")
    action = django_filters.CharFilter()
    action_prefix = django_filters.CharFilter(field_name="action", lookup_expr="startswith")
    since = BoundedIsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = BoundedIsoDateTimeFilter(field_name="timestamp", lookup_expr="lte")

    class Meta:
        model = AuditEvent
        fields = ["object_type", "object_id", "actor", "action", "action_prefix", "since", "until"]
