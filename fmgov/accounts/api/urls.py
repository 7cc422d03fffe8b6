from django.urls import path
from rest_framework.routers import SimpleRouter

from fmgov.accounts.api.views import ApiTokenViewSet, MeView, ObtainTokenView, RevokeTokenView

router = SimpleRouter()
router.register("auth/tokens", ApiTokenViewSet, basename="api-token")

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="auth-token"),
    path("auth/token/revoke/", RevokeTokenView.as_view(), name="auth-token-revoke"),
    path("me/", MeView.as_view(), name="me"),
    *router.urls,
]
