"""Single sign-on URLs (included under ``accounts/oidc/``); they answer 404 while single sign-on is off.

The names are mozilla-django-oidc's, which its backend reverses for the redirect URI.
"""

from django.urls import path

from fmgov.accounts.sso_views import SsoCallbackView, SsoStartView

urlpatterns = [
    path("authenticate/", SsoStartView.as_view(), name="oidc_authentication_init"),
    path("callback/", SsoCallbackView.as_view(), name="oidc_authentication_callback"),
]
