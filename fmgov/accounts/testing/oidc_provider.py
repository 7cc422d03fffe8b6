"""A small OpenID Connect provider on 127.0.0.1 for the tests: authorize, token, user info and JWKS.

It runs the authorization-code flow as a real provider would (state passed back, single-use codes bound to the
client, redirect URI and PKCE challenge; RS256 ID tokens carrying the nonce, signed with a key published on the
JWKS endpoint), and it can be told to misbehave (``tamper``) the ways an attacker or a misconfigured provider
would, so the tests show each is refused. Test code only: never configured outside the test suite.

    with OidcProvider(redirect_uris=["http://testserver/accounts/oidc/callback/"]) as idp:
        idp.add_user("alice", groups=["fmgov-engineers"])
        idp.auto_login = "alice"                      # or leave None: the provider shows a login form
        with override_settings(**idp.django_settings(role_map="fmgov-engineers=engineer")): ...
"""

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["IDP_PASSWORD", "TAMPERINGS", "OidcProvider"]

IDP_PASSWORD = "idp-password"  # the test provider's accounts

#: What ``OidcProvider.tamper`` can do to the next ID tokens (or user info).
TAMPERINGS = (
    "signature",  # a byte of the signature changed
    "foreign-key",  # signed by another key under the published key's kid
    "audience",  # issued to another client
    "issuer",  # issued by another provider
    "nonce",  # a nonce that is not the one the client sent
    "expired",  # expired an hour ago
    "alg-none",  # unsigned ("alg": "none")
    "hs256",  # HMAC-signed with the client secret (the algorithm-confusion attack)
    "userinfo-sub",  # a valid ID token, but user info about someone else
)
SIGN_IN_FORM = """<!doctype html><html lang="en"><head><title>Test identity provider</title></head><body>
<h1>Test identity provider</h1><form method="post" action="/authorize">{hidden}
<p><label for="u">Username</label><input id="u" name="username"></p>
<p><label for="p">Password</label><input id="p" name="password" type="password"></p>
<button type="submit">Sign in to the identity provider</button></form></body></html>"""


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class OidcProvider:
    """The provider and its state; ``start()``/``stop()`` or use it as a context manager."""

    def __init__(self, *, client_id: str = "fmgov-test", redirect_uris: list[str] | tuple[str, ...] = ()) -> None:
        self.client_id = client_id
        self.client_secret = secrets.token_urlsafe(24)
        self.redirect_uris = list(redirect_uris)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "fmgov-test-" + secrets.token_hex(4)
        self.users: dict[str, dict] = {}
        self.auto_login: str | None = None
        self.tamper = ""
        self.token_calls = 0
        self._codes: dict[str, dict] = {}
        self._access: dict[str, str] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Handler,), {"provider": self}))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-provider", daemon=True)

    # --- lifecycle and configuration ------------------------------------------------------------------
    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "OidcProvider":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "OidcProvider":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def add_user(self, username: str, *, password: str = IDP_PASSWORD, groups=(), sub: str = "", **claims) -> dict:
        """A provider account; ``claims`` (email, given_name, ...) go into its ID token and user info."""
        claims = {"preferred_username": username, "email": f"{username}@idp.example.org", **claims}
        if groups is not None:
            claims["groups"] = list(groups)
        self.users[username] = {"password": password, "sub": sub or f"sub-{username}", "claims": claims}
        return self.users[username]

    def django_settings(self, *, role_map: str = "", **extra) -> dict:
        """Settings that point fmgov at this provider (single sign-on on)."""
        return {
            "FMGOV_OIDC_ENABLED": True,
            "OIDC_RP_CLIENT_ID": self.client_id,
            "OIDC_RP_CLIENT_SECRET": self.client_secret,
            "OIDC_OP_ISSUER": self.issuer,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{self.issuer}/authorize",
            "OIDC_OP_TOKEN_ENDPOINT": f"{self.issuer}/token",
            "OIDC_OP_USER_ENDPOINT": f"{self.issuer}/userinfo",
            "OIDC_OP_JWKS_ENDPOINT": f"{self.issuer}/jwks",
            "OIDC_RP_SIGN_ALGO": "RS256",
            "FMGOV_OIDC_PROVIDER_NAME": "Test IdP",
            "FMGOV_OIDC_ROLE_MAP": role_map,
            "AUTHENTICATION_BACKENDS": [
                "axes.backends.AxesStandaloneBackend",
                "fmgov.accounts.oidc.LocalPasswordBackend",
                "fmgov.accounts.oidc.SsoBackend",
            ],
            **extra,
        }

    # --- the protocol ---------------------------------------------------------------------------------
    def authorize(self, params: dict[str, str], username: str) -> tuple[int, str]:
        """(status, redirect location or error text) for an authorization request by a signed-in ``username``."""
        if params.get("client_id") != self.client_id or params.get("redirect_uri") not in self.redirect_uris:
            return 400, "unknown client or redirect_uri"
        if params.get("response_type") != "code" or "openid" not in params.get("scope", "").split():
            return 400, "unsupported request"
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = {**params, "username": username}
        return 302, f"{params['redirect_uri']}?{urlencode({'code': code, 'state': params.get('state', '')})}"

    def exchange(self, form: dict[str, str], basic: tuple[str, str] | None) -> tuple[int, dict]:
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        if client_id != self.client_id or not secrets.compare_digest(secret, self.client_secret):
            return 401, {"error": "invalid_client"}
        with self._lock:
            self.token_calls += 1
            grant = self._codes.pop(form.get("code", ""), None)  # single use
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant"}
        if grant.get("code_challenge") and _s256(form.get("code_verifier", "")) != grant["code_challenge"]:
            return 400, {"error": "invalid_grant"}
        user = self.users[grant["username"]]
        access = secrets.token_urlsafe(24)
        with self._lock:
            self._access[access] = grant["username"]
        id_token = self.id_token(user, nonce=grant.get("nonce", ""))
        return 200, {"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": id_token}

    def userinfo(self, authorization: str) -> tuple[int, dict]:
        username = self._access.get(authorization.removeprefix("Bearer ").strip())
        if username is None:
            return 401, {"error": "invalid_token"}
        user = self.users[username]
        sub = "someone-else" if self.tamper == "userinfo-sub" else user["sub"]
        return 200, {**user["claims"], "sub": sub}

    def jwks(self) -> dict:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def id_token(self, user: dict, *, nonce: str) -> str:
        now = int(time.time())
        claims = {
            **user["claims"],
            "iss": self.issuer,
            "sub": user["sub"],
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
        }
        changed = {
            "audience": {"aud": "another-client"},
            "issuer": {"iss": "http://127.0.0.1:9/evil"},
            "nonce": {"nonce": "not-the-nonce-of-this-sign-in"},
            "expired": {"iat": now - 7200, "exp": now - 3600},
        }
        claims.update(changed.get(self.tamper, {}))
        headers = {"kid": self.kid}
        if self.tamper == "alg-none":
            return jwt.encode(claims, None, algorithm="none", headers=headers)
        if self.tamper == "hs256":
            return jwt.encode(claims, self.client_secret, algorithm="HS256", headers=headers)
        key = self.key
        if self.tamper == "foreign-key":
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        token = jwt.encode(claims, key, algorithm="RS256", headers=headers)
        if self.tamper == "signature":
            head, body, signature = token.split(".")
            flipped = "A" if signature[10] != "A" else "B"
            token = f"{head}.{body}.{signature[:10]}{flipped}{signature[11:]}"
        return token


class _Handler(BaseHTTPRequestHandler):
    """HTTP for one ``OidcProvider`` (set as a class attribute by the provider)."""

    provider: OidcProvider

    def log_message(self, format, *args) -> None:  # quiet
        return

    def _send(self, status: int, body: str | dict, *, location: str = "") -> None:
        data = (json.dumps(body) if isinstance(body, dict) else body).encode()
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", "application/json" if isinstance(body, dict) else "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _redirect_or_error(self, status: int, result: str) -> None:
        if status == 302:
            self._send(status, "", location=result)
        else:
            self._send(status, result)

    def _authorize_page(self, params: dict[str, str]) -> None:
        """Signed in already (``auto_login``): straight back to the client; else the provider's login form."""
        if self.provider.auto_login:
            return self._redirect_or_error(*self.provider.authorize(params, self.provider.auto_login))
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
        )
        return self._send(200, SIGN_IN_FORM.format(hidden=hidden))

    def _sign_in(self, form: dict[str, str]) -> None:
        username, password = form.pop("username", ""), form.pop("password", "")
        account = self.provider.users.get(username)
        if account is None or not secrets.compare_digest(password, account["password"]):
            return self._send(401, "wrong username or password")
        return self._redirect_or_error(*self.provider.authorize(form, username))

    def _token(self, form: dict[str, str]) -> None:
        basic = None
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            basic = (user, secret)
        return self._send(*self.provider.exchange(form, basic))

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        params = {key: values[0] for key, values in parse_qs(parts.query).items()}
        routes = {
            "/authorize": lambda: self._authorize_page(params),
            "/userinfo": lambda: self._send(*self.provider.userinfo(self.headers.get("Authorization", ""))),
            "/jwks": lambda: self._send(200, self.provider.jwks()),
        }
        routes.get(parts.path, lambda: self._send(404, {"error": "not_found"}))()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
        routes = {"/authorize": self._sign_in, "/token": self._token}
        routes.get(self.path, lambda _form: self._send(404, {"error": "not_found"}))(form)
