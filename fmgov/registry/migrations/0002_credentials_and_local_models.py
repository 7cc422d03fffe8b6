import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

NAME_VALIDATOR = django.core.validators.RegexValidator(
    "^[A-Za-z0-9][A-Za-z0-9._/-]*$", "Use letters, digits and . _ / - (starting with a letter or digit)."
)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="EndpointCredential",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="created at")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                (
                    "name",
                    models.CharField(max_length=100, unique=True, validators=[NAME_VALIDATOR], verbose_name="name"),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("env", "Worker environment variable (FMGOV_CREDENTIAL_*)"),
                            ("sealed", "Value sealed to the workers' public key"),
                        ],
                        max_length=10,
                        verbose_name="source",
                    ),
                ),
                (
                    "env_var",
                    models.CharField(
                        blank=True,
                        max_length=100,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^FMGOV_CREDENTIAL_[A-Z0-9_]+$",
                                "Give the NAME of a worker environment variable starting with FMGOV_CREDENTIAL_ "
                                "(A-Z, 0-9, _).",
                            )
                        ],
                        verbose_name="environment variable",
                    ),
                ),
                ("sealed_value", models.TextField(blank=True, editable=False, verbose_name="sealed value")),
                ("allowed_hosts", models.JSONField(default=list, verbose_name="allowed hosts")),
                ("active", models.BooleanField(default=True, verbose_name="active")),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"verbose_name": "endpoint credential", "ordering": ["name"]},
        ),
        migrations.CreateModel(
            name="LocalModel",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="created at")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                (
                    "name",
                    models.CharField(max_length=200, unique=True, validators=[NAME_VALIDATOR], verbose_name="name"),
                ),
                (
                    "source",
                    models.CharField(
                        help_text="package:<installed module>, or a path under LOCAL_MODELS_DIR.",
                        max_length=500,
                        verbose_name="source",
                    ),
                ),
                ("description", models.TextField(blank=True, verbose_name="description")),
                ("active", models.BooleanField(default=True, verbose_name="active")),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"verbose_name": "local model", "ordering": ["name"]},
        ),
        migrations.AddField(
            model_name="deployment",
            name="endpoint_credential",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deployments",
                to="registry.endpointcredential",
                verbose_name="endpoint credential",
            ),
        ),
        migrations.AddField(
            model_name="deployment",
            name="legacy_credential_name",
            field=models.CharField(blank=True, max_length=100, verbose_name="legacy credential name"),
        ),
    ]
