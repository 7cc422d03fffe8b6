from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from fmgov.accounts.forms import AuditedPasswordChangeForm
from fmgov.core import views as core_views

api_v1 = [
    path("", include("fmgov.accounts.api.urls")),
    path("", include("audits.api.urls")),
    # Before the registry: its router would read foundation-models/import-ml-bom/ as a detail route.
    path("", include("fmgov.interop.api.urls")),
    path("", include("fmgov.registry.api.urls")),
    path("", include("fmgov.reviews.api.urls")),
    path("", include("fmgov.evaluations.api.urls")),
    path("", include("fmgov.portfolio.api.urls")),
    path("", include("reports.api.urls")),
    path("", include("fmgov.webhooks.api.urls")),
    path("", include("fmgov.incidents.api.urls")),
    path("", include("fmgov.documentation.api.urls")),
    path("", include("fmgov.evidence.api.urls")),
    path("", include("fmgov.retention.api.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file, so the docs page needs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/oidc/", include("fmgov.accounts.sso_urls")),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(form_class=AuditedPasswordChangeForm),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("healthz/", core_views.healthz, name="healthz"),
    path("", include("fmgov.dashboard.urls")),
    path("audit/", include("audits.urls")),
    path("", include("fmgov.registry.urls")),
    path("", include("fmgov.documentation.urls")),
    path("", include("fmgov.incidents.urls")),
    path("", include("fmgov.reviews.urls")),
    path("", include("fmgov.evaluations.urls")),
    path("", include("reports.urls")),
    path("", include("fmgov.notifications.urls")),
]

handler500 = "fmgov.core.views.server_error"
