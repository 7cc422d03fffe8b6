"""Issue 15: the content-hash scheme of each review and sign-off, and admins' environment -> policy rules.

Reviews and sign-offs recorded before this migration were hashed under scheme 1 and keep it, so their approvals
still verify; new submissions take the current scheme.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0003_sign_off_conflict_of_interest"),
    ]

    operations = [
        migrations.AddField(
            model_name="riskreview",
            name="hash_scheme",
            field=models.PositiveSmallIntegerField(default=1, verbose_name="content hash scheme"),
        ),
        migrations.AlterField(
            model_name="riskreview",
            name="hash_scheme",
            field=models.PositiveSmallIntegerField(default=2, verbose_name="content hash scheme"),
        ),
        migrations.AddField(
            model_name="signoff",
            name="hash_scheme",
            field=models.PositiveSmallIntegerField(default=1, verbose_name="content hash scheme"),
            preserve_default=False,
        ),
        migrations.CreateModel(
            name="EnvironmentPolicy",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="created at")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                (
                    "environment",
                    models.CharField(
                        choices=[("development", "Development"), ("staging", "Staging"), ("production", "Production")],
                        max_length=20,
                        unique=True,
                        verbose_name="environment",
                    ),
                ),
                (
                    "policy",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="environment_rules",
                        to="reviews.reviewpolicy",
                        verbose_name="policy",
                    ),
                ),
            ],
            options={
                "verbose_name": "environment policy",
                "verbose_name_plural": "environment policies",
                "ordering": ["environment"],
            },
        ),
    ]
