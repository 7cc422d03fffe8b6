"""Deployments named an environment variable (``api_key_env``); now they name a registered credential.

A name already in ``FMGOV_CREDENTIAL_*`` becomes an ``env`` credential allowed
to go to the deployment's base-URL host, as a recorded system action. Any
other name (``DATABASE_URL``, ``OPENAI_API_KEY``) is not trusted: the
deployment keeps it in ``legacy_credential_name`` and cannot run until an admin
registers a credential. Approvals hold either way: the review content hash
does not include the credential.
"""

from urllib.parse import urlsplit

from django.db import migrations

PREFIX = "FMGOV_CREDENTIAL_"
SYSTEM = "migration:registry.0003"


def _host(base_url: str) -> str:
    try:
        parts = urlsplit(base_url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return ""
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port}" if host and port else host


def _credential_name(variable: str) -> str:
    return variable[len(PREFIX) :].lower().replace("_", "-").strip("-") or variable.lower()


def register_legacy_credentials(apps, schema_editor):
    from audits.services import audit_record

    Deployment = apps.get_model("registry", "Deployment")
    Credential = apps.get_model("registry", "EndpointCredential")
    for deployment in Deployment.objects.exclude(endpoint_api_key_env="").order_by("pk"):
        variable, host = deployment.endpoint_api_key_env, _host(deployment.endpoint_base_url)
        deployment_ref = {
            "object_type": "registry.deployment",
            "object_id": deployment.pk,
            "object_repr": f"{deployment.name} ({deployment.environment})",
        }
        if not (variable.startswith(PREFIX) and host):
            Deployment.objects.filter(pk=deployment.pk).update(legacy_credential_name=variable)
            audit_record(
                action="deployment.credential_migrate",
                system=SYSTEM,
                changes={"api_key_env": [variable, None], "legacy_credential_name": ["", variable]},
                context={
                    "note": "Not an FMGOV_CREDENTIAL_* variable: the deployment cannot run until an admin "
                    "registers a credential and names it here."
                },
                **deployment_ref,
            )
            continue
        credential = Credential.objects.filter(source="env", env_var=variable).first()
        if credential is None:
            name = _credential_name(variable)
            if Credential.objects.filter(name=name).exists():
                name = variable
            credential = Credential.objects.create(name=name, source="env", env_var=variable, allowed_hosts=[host])
            audit_record(
                action="credential.migrate",
                system=SYSTEM,
                object_type="registry.endpointcredential",
                object_id=credential.pk,
                object_repr=credential.name,
                changes={
                    "name": [None, credential.name],
                    "source": [None, "env"],
                    "env_var": [None, variable],
                    "allowed_hosts": [None, [host]],
                },
            )
        elif host not in credential.allowed_hosts:
            before = list(credential.allowed_hosts)
            credential.allowed_hosts = [*before, host]
            credential.save(update_fields=["allowed_hosts"])
            audit_record(
                action="credential.migrate",
                system=SYSTEM,
                object_type="registry.endpointcredential",
                object_id=credential.pk,
                object_repr=credential.name,
                changes={"allowed_hosts": [before, credential.allowed_hosts]},
            )
        Deployment.objects.filter(pk=deployment.pk).update(endpoint_credential=credential)
        audit_record(
            action="deployment.credential_migrate",
            system=SYSTEM,
            changes={"api_key_env": [variable, None], "endpoint_credential": [None, credential.pk]},
            **deployment_ref,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0002_credentials_and_local_models"),
        ("audits", "0002_append_only_triggers"),
    ]

    operations = [migrations.RunPython(register_legacy_credentials, migrations.RunPython.noop)]
