"""Django admin for the registry. Saves go through the services so every change is audited.

Nothing is deleted here (retire a deployment instead), and a deployment's status
changes only through the workflow actions, which call the same services as the API.
"""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from fmgov.core.exceptions import DomainError
from fmgov.core.roles import Role, has_role
from fmgov.registry import services
from fmgov.registry.choices import DeploymentStatus
from fmgov.registry.models import (
    Adaptation,
    AdaptationParent,
    Deployment,
    EndpointCredential,
    FoundationModel,
    LocalModel,
)


class _ServiceAdmin(admin.ModelAdmin):
    """Routes add/change through ``create_service``/``update_service``; no deletes."""

    create_service = None
    update_service = None
    instance_kwarg = ""
    editable_fields: frozenset[str] = frozenset()

    def has_delete_permission(self, request, obj=None):
        return False

    def _changes(self, form) -> dict:
        return {name: form.cleaned_data[name] for name in form.changed_data if name in self.editable_fields}

    def save_model(self, request, obj, form, change):
        try:
            if change:
                saved = type(self).update_service(
                    **{self.instance_kwarg: obj}, actor=request.user, **self._changes(form)
                )
            else:
                fields = {k: v for k, v in form.cleaned_data.items() if k in self.editable_fields}
                saved = type(self).create_service(actor=request.user, **fields)
        except DomainError as exc:
            # The form passed model validation; a business rule refused. Show why, keep the form.
            errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.field_errors.items())
            self.message_user(request, f"{exc.message} {errors}".strip(), messages.ERROR)
            request._registry_refused = True
            return
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        if not getattr(request, "_registry_refused", False):
            super().save_related(request, form, formsets, change)

    def log_addition(self, request, obj, message):
        if not getattr(request, "_registry_refused", False):
            return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        if not getattr(request, "_registry_refused", False):
            return super().log_change(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_registry_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if getattr(request, "_registry_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)


@admin.register(FoundationModel)
class FoundationModelAdmin(_ServiceAdmin):
    list_display = ["name", "version", "provider", "modality", "access", "license", "parameter_count", "owner"]
    list_filter = ["modality", "access", "provider", "license"]
    search_fields = ["name", "provider", "hf_repo_id"]
    list_select_related = ["owner"]
    readonly_fields = ["owner", "model_card_metadata", "created_at", "updated_at"]
    raw_id_fields = ["supersedes"]
    create_service = staticmethod(services.foundation_model_create)
    update_service = staticmethod(services.foundation_model_update)
    instance_kwarg = "foundation_model"
    editable_fields = frozenset(services.FOUNDATION_MODEL_FIELDS) - services.IMPORT_ONLY_FIELDS


class AdaptationParentInline(admin.TabularInline):
    """Lineage edges are shown here and changed through the API (cycle checks, audit)."""

    model = AdaptationParent
    fk_name = "child"
    fields = ["parent_model", "parent_adaptation"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Adaptation)
class AdaptationAdmin(_ServiceAdmin):
    list_display = ["name", "version", "kind", "license", "owner", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "hf_repo_id"]
    list_select_related = ["owner"]
    readonly_fields = ["owner", "model_card_metadata", "created_at", "updated_at"]
    raw_id_fields = ["supersedes"]
    inlines = [AdaptationParentInline]
    update_service = staticmethod(services.adaptation_update)
    instance_kwarg = "adaptation"
    editable_fields = frozenset(services.ADAPTATION_FIELDS) - services.IMPORT_ONLY_FIELDS

    def has_add_permission(self, request):
        return False  # an adaptation needs parents: register it through the API or a model card


@admin.register(Deployment)
class DeploymentAdmin(_ServiceAdmin):
    list_display = ["name", "environment", "status", "foundation_model", "adaptation", "region", "owner"]
    list_filter = ["status", "environment", "endpoint_adapter"]
    search_fields = ["name", "region", "endpoint_model"]
    list_select_related = ["owner", "foundation_model", "adaptation"]
    readonly_fields = [
        "status",
        "went_live_at",
        "revises",
        "legacy_credential_name",
        "owner",
        "created_at",
        "updated_at",
    ]
    raw_id_fields = ["foundation_model", "adaptation"]
    actions = ["go_live", "suspend", "retire"]
    create_service = staticmethod(services.deployment_create)
    update_service = staticmethod(services.deployment_update)
    instance_kwarg = "deployment"
    editable_fields = frozenset(services.DEPLOYMENT_FIELDS)

    def _run(self, request, queryset, service, status: DeploymentStatus) -> None:
        done = 0
        for deployment in queryset:
            try:
                service(deployment=deployment, actor=request.user)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{deployment}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} deployment(s) now {status.label.lower()}.", messages.SUCCESS)

    @admin.action(description="Go live (needs a valid approved review)")
    def go_live(self, request, queryset):
        self._run(request, queryset, services.deployment_go_live, DeploymentStatus.LIVE)

    @admin.action(description="Suspend")
    def suspend(self, request, queryset):
        self._run(request, queryset, services.deployment_suspend, DeploymentStatus.SUSPENDED)

    @admin.action(description="Retire")
    def retire(self, request, queryset):
        self._run(request, queryset, services.deployment_retire, DeploymentStatus.RETIRED)


class _HostsField(forms.CharField):
    """Allowed hosts typed one per line (or comma-separated); the service checks each."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        return [h.strip() for h in str(value or "").replace(",", "\n").splitlines() if h.strip()]


class EndpointCredentialForm(forms.ModelForm):
    allowed_hosts = _HostsField(help_text="host or host:port, one per line.")
    value = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Sealed credentials only: the value, encrypted to the workers' key. Leave empty to keep it.",
    )

    class Meta:
        model = EndpointCredential
        fields = ["name", "source", "env_var", "allowed_hosts"]


class _AdminOnly(_ServiceAdmin):
    """Visible to admins only: engineers never see what workers are allowed to use."""

    def has_module_permission(self, request):
        return has_role(request.user, Role.ADMIN)

    def has_view_permission(self, request, obj=None):
        return has_role(request.user, Role.ADMIN)

    has_add_permission = has_module_permission

    def has_change_permission(self, request, obj=None):
        return has_role(request.user, Role.ADMIN)


@admin.register(EndpointCredential)
class EndpointCredentialAdmin(_AdminOnly):
    form = EndpointCredentialForm
    list_display = ["name", "source", "env_var", "active", "created_by", "updated_at"]
    list_filter = ["source", "active"]
    search_fields = ["name", "env_var"]
    readonly_fields = ["active", "created_by", "created_at", "updated_at"]
    actions = ["deactivate"]
    create_service = staticmethod(services.endpoint_credential_create)
    update_service = staticmethod(services.endpoint_credential_update)
    instance_kwarg = "credential"
    editable_fields = frozenset({"name", "source", "env_var", "allowed_hosts", "value"})

    def get_readonly_fields(self, request, obj=None):
        fixed = ["name", "source"] if obj is not None else []
        return [*fixed, *self.readonly_fields]

    def _changes(self, form) -> dict:
        changes = {k: form.cleaned_data[k] for k in form.changed_data if k in {"allowed_hosts", "env_var"}}
        if form.cleaned_data.get("value"):
            changes["value"] = form.cleaned_data["value"]
        return changes

    @admin.action(description="Deactivate")
    def deactivate(self, request, queryset):
        for credential in queryset:
            services.endpoint_credential_deactivate(credential=credential, actor=request.user)
        self.message_user(request, "Deactivated.", messages.SUCCESS)


@admin.register(LocalModel)
class LocalModelAdmin(_AdminOnly):
    list_display = ["name", "source", "active", "created_by", "updated_at"]
    list_filter = ["active"]
    search_fields = ["name", "source"]
    readonly_fields = ["active", "created_by", "created_at", "updated_at"]
    fields = ["name", "source", "description", *readonly_fields]
    actions = ["deactivate"]
    create_service = staticmethod(services.local_model_create)
    update_service = staticmethod(services.local_model_update)
    instance_kwarg = "local_model"
    editable_fields = frozenset({"name", "source", "description"})

    def get_readonly_fields(self, request, obj=None):
        return ["name", *self.readonly_fields] if obj is not None else self.readonly_fields

    @admin.action(description="Deactivate")
    def deactivate(self, request, queryset):
        for local_model in queryset:
            services.local_model_deactivate(local_model=local_model, actor=request.user)
        self.message_user(request, "Deactivated.", messages.SUCCESS)
