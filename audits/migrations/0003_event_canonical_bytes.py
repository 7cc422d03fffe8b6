"""Store each event's canonical JSON bytes, the bytes its hash is computed over (issue 14).

Existing events get the bytes of what the database returns for them today.
Where those bytes no longer re-hash to the stored hash (PostgreSQL's jsonb
respelled a number such as ``3.8e+25``), the event is reported here and left
as it is: nothing is re-hashed, so ``verify_audit_trail`` keeps naming it.
The append-only triggers are switched off for this one fill, in the
migration's transaction, and switched back on (ENABLE ALWAYS) before it ends.
"""

import hashlib
import sys

from django.db import migrations, models

from audits.canonical import HASHED_FIELDS, canonical_bytes, format_timestamp

TABLE = "audits_auditevent"


def fill_canonical(apps, schema_editor):
    AuditEvent = apps.get_model("audits", "AuditEvent")
    connection = schema_editor.connection
    postgres = connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER;")
    not_rehashing = []
    rows = AuditEvent.objects.order_by("seq").values_list(*HASHED_FIELDS, "hash").iterator(chunk_size=2000)
    with connection.cursor() as cursor:
        for row in rows:
            values = dict(zip(HASHED_FIELDS, row[:-1], strict=True))
            values["timestamp"] = format_timestamp(values["timestamp"])
            data = canonical_bytes(values)
            if hashlib.sha256(values["prev_hash"].encode("ascii") + data).hexdigest() != row[-1]:
                not_rehashing.append(values["seq"])
            cursor.execute("UPDATE audits_auditevent SET canonical = %s WHERE seq = %s", [data, values["seq"]])
    if postgres:
        schema_editor.execute(f"ALTER TABLE {TABLE} ENABLE ALWAYS TRIGGER {TABLE}_no_update_delete;")
        schema_editor.execute(f"ALTER TABLE {TABLE} ENABLE ALWAYS TRIGGER {TABLE}_no_truncate;")
    if not_rehashing:
        shown = ", ".join(map(str, not_rehashing[:50])) + (" ..." if len(not_rehashing) > 50 else "")
        sys.stdout.write(
            f"\n  audits 0003: {len(not_rehashing)} audit event(s) no longer re-hash as the database returns them "
            f"(left as they are, not re-hashed; verify_audit_trail reports the first): sequence {shown}\n"
        )


class Migration(migrations.Migration):
    dependencies = [("audits", "0002_append_only_triggers")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="canonical",
            field=models.BinaryField(
                editable=False,
                null=True,
                help_text="The exact bytes that were hashed; the columns above must say the same.",
                verbose_name="canonical JSON",
            ),
        ),
        migrations.RunPython(fill_canonical, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent",
            name="canonical",
            field=models.BinaryField(
                editable=False,
                help_text="The exact bytes that were hashed; the columns above must say the same.",
                verbose_name="canonical JSON",
            ),
        ),
    ]
