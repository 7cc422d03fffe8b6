"""Single sign-on configuration: is OpenID Connect on, which identity-provider groups give which fmgov role.

Everything comes from settings (``fmgov/settings/base.py``, environment-driven, off by default). The role map is
explicit: a group that is not in ``FMGOV_OIDC_ROLE_MAP`` gives nothing, and no default ever gives admin.
Configuration mistakes are reported by ``manage.py check`` (registered in ``AccountsConfig.ready``) and refused at
sign-in, never guessed around.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from fmgov.core.roles import Role

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "ENDPOINT_SETTINGS",
    "check_sso_settings",
    "groups_from_claims",
    "manages_roles",
    "parse_role_map",
    "provider_name",
    "roles_for_groups",
    "sso_enabled",
]

#: ID tokens are verified with the provider's public key (JWKS); a shared-secret HS* algorithm is refused.
ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
ENDPOINT_SETTINGS = (
    "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "OIDC_OP_TOKEN_ENDPOINT",
    "OIDC_OP_USER_ENDPOINT",
    "OIDC_OP_JWKS_ENDPOINT",
)
REQUIRED_SETTINGS = ("OIDC_RP_CLIENT_ID", "OIDC_RP_CLIENT_SECRET", "OIDC_OP_ISSUER", *ENDPOINT_SETTINGS)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_GROUPS = 500


def sso_enabled() -> bool:
    return bool(getattr(settings, "FMGOV_OIDC_ENABLED", False))


def provider_name() -> str:
    return getattr(settings, "FMGOV_OIDC_PROVIDER_NAME", "") or "single sign-on"


def manages_roles() -> bool:
    """While single sign-on is on, the identity provider is the only source of its users' roles."""
    return sso_enabled()


def parse_role_map(text: str) -> dict[str, frozenset[str]]:
    """``"fmgov-engineers=engineer,fmgov-board=reviewer"`` -> ``{group: roles}``; a group may be listed twice.

    Unknown roles and malformed entries raise ImproperlyConfigured: a typo must not silently drop a mapping.
    """
    mapping: dict[str, set[str]] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        group, sep, role = (piece.strip() for piece in entry.rpartition("="))
        if not sep or not group or not role:
            raise ImproperlyConfigured(f"FMGOV_OIDC_ROLE_MAP: {entry!r} is not GROUP=ROLE.")
        if role not in Role.values:
            raise ImproperlyConfigured(
                f"FMGOV_OIDC_ROLE_MAP: {role!r} (for group {group!r}) is not a role; "
                f"choose from {', '.join(Role.values)}."
            )
        mapping.setdefault(group, set()).add(role)
    return {group: frozenset(roles) for group, roles in mapping.items()}


def groups_from_claims(claims: dict) -> list[str]:
    """The configured groups claim as a sorted list of names; a single string counts as one group.

    Anything else (a number, an object, a missing claim) is no group at all, so it maps to no role.
    """
    value = claims.get(getattr(settings, "FMGOV_OIDC_GROUPS_CLAIM", "groups") or "groups")
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return sorted({item for item in value if isinstance(item, str) and item})[:MAX_GROUPS]


def roles_for_groups(groups: list[str]) -> list[str]:
    """The roles the mapping gives these groups, sorted; an unmapped group gives none."""
    mapping = parse_role_map(getattr(settings, "FMGOV_OIDC_ROLE_MAP", ""))
    roles: set[str] = set()
    for group in groups:
        roles |= mapping.get(group, frozenset())
    return sorted(roles)


def _endpoint_problem(name: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return ""
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return ""  # a provider on this machine (the tests' provider, a local sidecar)
    return f"{name} must be an https:// URL (http only for a provider on loopback), not {url!r}."


def check_sso_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """``manage.py check``: single sign-on is either off or completely and safely configured."""
    if not sso_enabled():
        return []
    errors = [
        checks.Error(f"Single sign-on is on but {name} is empty.", id="accounts.E101")
        for name in REQUIRED_SETTINGS
        if not getattr(settings, name, "")
    ]
    errors += [
        checks.Error(problem, id="accounts.E102")
        for name in ENDPOINT_SETTINGS
        if getattr(settings, name, "") and (problem := _endpoint_problem(name, getattr(settings, name)))
    ]
    algorithm = getattr(settings, "OIDC_RP_SIGN_ALGO", "")
    if algorithm not in ASYMMETRIC_ALGORITHMS:
        errors.append(
            checks.Error(
                f"OIDC_RP_SIGN_ALGO={algorithm!r}: ID tokens must be signed with the provider's key "
                f"({', '.join(sorted(ASYMMETRIC_ALGORITHMS))}).",
                id="accounts.E103",
            )
        )
    if getattr(settings, "OIDC_ALLOW_UNSECURED_JWT", False):
        errors.append(checks.Error("OIDC_ALLOW_UNSECURED_JWT must stay off.", id="accounts.E104"))
    try:
        parse_role_map(getattr(settings, "FMGOV_OIDC_ROLE_MAP", ""))
    except ImproperlyConfigured as exc:
        errors.append(checks.Error(str(exc), id="accounts.E105"))
    return errors
