from django.urls import path

from fmgov.accounts.api.views import MeView, ObtainTokenView, RevokeTokenView

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="auth-token"),
    path("auth/token/revoke/", RevokeTokenView.as_view(), name="auth-token-revoke"),
    path("me/", MeView.as_view(), name="me"),
]
