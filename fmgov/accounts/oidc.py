"""Authentication backends for OpenID Connect single sign-on (mozilla-django-oidc) and local passwords.

``SsoBackend`` keeps mozilla-django-oidc's code flow (state, nonce, PKCE, token exchange) and tightens what
it leaves open: the ID token's issuer, audience, expiry and nonce are always verified (the library skips the
audience), only the configured asymmetric algorithm is accepted, the user-info ``sub`` must match the ID
token's, users are found by (issuer, subject) and never by e-mail, and inactive users keep no session.

Egress: the token, user-info and JWKS calls go from the web process to the identity provider an admin
configured (not to anything a user names), each with ``OIDC_TIMEOUT``, no redirects and a size cap; the
provider's answers are never echoed into errors.
"""

import hmac
import json
import logging

import jwt
import requests
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from fmgov.accounts.selectors import is_sso_user
from fmgov.accounts.sso_config import ASYMMETRIC_ALGORITHMS, sso_enabled
from fmgov.accounts.sso_services import SsoRefused, sso_sign_in

__all__ = ["LocalPasswordBackend", "SsoBackend"]

logger = logging.getLogger(__name__)
MAX_RESPONSE_BYTES = 256 * 1024
REQUIRED_ID_TOKEN_CLAIMS = ["iss", "aud", "sub", "exp", "iat", "nonce"]
UNREACHABLE = "The identity provider could not be reached or answered in an unexpected way; try again later."


class LocalPasswordBackend(ModelBackend):
    """Django's username/password backend; with FMGOV_OIDC_DISABLE_LOCAL_PASSWORD it refuses SSO users.

    ``user_can_authenticate`` is also asked when a session is loaded, so an SSO user's old password session
    ends when the switch is turned on.
    """

    def user_can_authenticate(self, user) -> bool:
        if not super().user_can_authenticate(user):
            return False
        return not (getattr(settings, "FMGOV_OIDC_DISABLE_LOCAL_PASSWORD", False) and is_sso_user(user))


def _fetch_json(method: str, url: str, **kwargs) -> tuple[dict, int]:
    """One call to the identity provider: time-capped, size-capped, no redirects; (JSON object, status)."""
    try:
        with requests.request(
            method,
            url,
            timeout=getattr(settings, "OIDC_TIMEOUT", 5.0),
            allow_redirects=False,
            stream=True,
            verify=getattr(settings, "OIDC_VERIFY_SSL", True),
            proxies=getattr(settings, "OIDC_PROXY", None),
            **kwargs,
        ) as response:
            body = response.raw.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
            status = response.status_code
    except requests.RequestException as exc:
        logger.warning("single sign-on: %s %s failed: %s", method, url, type(exc).__name__)
        raise SsoRefused(UNREACHABLE) from exc
    if len(body) > MAX_RESPONSE_BYTES:
        raise SsoRefused(UNREACHABLE)
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        logger.warning("single sign-on: %s %s answered %s without a JSON object", method, url, status)
        raise SsoRefused(UNREACHABLE)
    return data, status


class SsoBackend(OIDCAuthenticationBackend):
    """The OpenID Connect code flow's backend: verified claims in, an fmgov user with the mapped roles out."""

    def authenticate(self, request, **kwargs):
        # Only the callback view passes a nonce; a password login (even one with ?code= in its URL) is not ours.
        if not sso_enabled() or request is None or not kwargs.get("nonce"):
            return None
        return super().authenticate(request, **kwargs)

    def get_token(self, payload: dict) -> dict:
        auth = None
        if getattr(settings, "OIDC_TOKEN_USE_BASIC_AUTH", False):
            auth = (payload["client_id"], payload.pop("client_secret"))
        data, status = _fetch_json("POST", self.OIDC_OP_TOKEN_ENDPOINT, data=payload, auth=auth)
        if status != 200:
            # An OAuth error code is a fixed vocabulary (RFC 6749 5.2); the description is not shown.
            error = data.get("error") if isinstance(data.get("error"), str) else "unknown"
            logger.warning("single sign-on: token endpoint answered %s (%s)", status, error[:40])
            raise SsoRefused("The identity provider refused the sign-in code; start again.")
        return data

    def retrieve_matching_jwk(self, token: str) -> jwt.PyJWK:
        """The provider's key for this token's ``kid`` and algorithm (one key without a ``kid`` is that key)."""
        header = jwt.get_unverified_header(token)
        jwks, status = _fetch_json("GET", self.OIDC_OP_JWKS_ENDPOINT)
        keys = jwks.get("keys") if status == 200 else None
        if not isinstance(keys, list):
            raise SsoRefused(UNREACHABLE)
        kid = header.get("kid")
        candidates = [
            key
            for key in keys
            if isinstance(key, dict)
            and key.get("use", "sig") == "sig"
            and key.get("alg", header["alg"]) == header["alg"]
            and (kid is None or key.get("kid") == kid)
        ]
        if len(candidates) != 1:
            raise SsoRefused("The ID token was not signed with a key the identity provider publishes.")
        return jwt.PyJWK(candidates[0], algorithm=header["alg"])

    def verify_token(self, token, **kwargs) -> dict:
        """Signature, issuer, audience, authorised party, expiry and nonce: all of them, every time."""
        algorithm = self.OIDC_RP_SIGN_ALGO
        if algorithm not in ASYMMETRIC_ALGORITHMS or not isinstance(token, str):
            raise SsoRefused("The ID token was refused.")
        try:
            if jwt.get_unverified_header(token).get("alg") != algorithm:
                raise SsoRefused(f"The ID token was refused: it is not signed with {algorithm}.")
            claims = jwt.decode(
                token,
                self.retrieve_matching_jwk(token),
                algorithms=[algorithm],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.OIDC_OP_ISSUER,
                leeway=getattr(settings, "OIDC_LEEWAY_SECONDS", 60),
                options={"require": REQUIRED_ID_TOKEN_CLAIMS},
            )
        except jwt.InvalidTokenError as exc:
            logger.warning("single sign-on: ID token refused: %s", exc)
            raise SsoRefused(f"The ID token was refused ({exc}).") from exc
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SsoRefused("The ID token was refused: it was issued to another client (azp).")
        nonce = kwargs.get("nonce") or ""
        if not isinstance(claims["nonce"], str) or not hmac.compare_digest(claims["nonce"], nonce):
            raise SsoRefused("The ID token was refused: its nonce is not this sign-in's.")
        return claims

    def get_userinfo(self, access_token, id_token, payload) -> dict:
        if not isinstance(access_token, str) or not access_token:
            raise SsoRefused("The identity provider sent no access token.")
        info, status = _fetch_json(
            "GET", self.OIDC_OP_USER_ENDPOINT, headers={"Authorization": f"Bearer {access_token}"}
        )
        if status != 200:
            raise SsoRefused(UNREACHABLE)
        # OpenID Connect Core 5.3.2: a user-info response about someone else must not be used.
        if info.get("sub") != payload["sub"]:
            raise SsoRefused("The identity provider's user information is about another subject.")
        return info

    def get_or_create_user(self, access_token, id_token, payload):
        info = self.get_userinfo(access_token, id_token, payload)
        claims = {**info, **payload}  # the signed ID token wins where both speak
        return sso_sign_in(
            issuer=payload["iss"],
            claims=claims,
            username_claim=getattr(settings, "FMGOV_OIDC_USERNAME_CLAIM", "") or "preferred_username",
        )

    def get_user(self, user_id):
        """A session of a deactivated user ends (mozilla-django-oidc's own ``get_user`` would keep it)."""
        user = super().get_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
