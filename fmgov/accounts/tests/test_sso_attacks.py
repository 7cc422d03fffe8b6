"""The attacker's tests of single sign-on: role escalation through claim shapes, look-alike names, redirects, PKCE.

An identity provider whose users may name their own groups or usernames (self-service groups, an editable
profile) is the attacker here: nothing they type may map to a role the explicit mapping does not give, or
make an account whose name reads as another's.
"""

from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from fmgov.accounts.sso_services import SsoRefused, sso_sign_in
from fmgov.accounts.tests.sso_support import signed_in_user, sso_login
from fmgov.core.roles import user_roles

pytestmark = pytest.mark.django_db
User = get_user_model()

ESCALATIONS = [
    "FMGOV-ADMINS",  # case
    "fmgov-admins ",  # padding
    "fmgov\u2010admins",  # a Unicode hyphen
    "fmgov-\u0430dmins",  # a Cyrillic a
    "\uff46\uff4d\uff47\uff4f\uff56-admins",  # full-width letters (NFKC would fold them)
    "fmgov-engineers,fmgov-admins",  # a list written as one string
    "fmgov-engineers fmgov-admins",
    ["fmgov-engineers fmgov-admins"],
    ["FMGOV-ADMINS", "fmgov-admin"],
    [["fmgov-admins"]],  # nested
    [{"name": "fmgov-admins"}],
    {"fmgov-admins": True},
    True,
]


@pytest.mark.parametrize("groups", ESCALATIONS, ids=repr)
def test_no_shape_or_spelling_of_the_admins_group_gives_admin(idp, groups):
    user = sso_sign_in(issuer=idp.issuer, claims={"sub": "mallory", "preferred_username": "mallory", "groups": groups})
    assert "admin" not in user_roles(user) and not user.is_superuser and not user.is_staff
    assert user_roles(user) <= {"engineer"}  # at most the one exactly-spelled engineers group


@pytest.mark.parametrize(
    ("claimed", "expected"),
    [
        ("\u0430dmin", "mallory@idp.example.org"),  # Cyrillic a: not a name, the e-mail is
        ("admin\u200b", "mallory@idp.example.org"),  # a zero-width space
        ("Bob\u0301", "mallory@idp.example.org"),  # a combining accent
    ],
)
def test_a_look_alike_username_is_never_created(idp, claimed, expected):
    user = sso_sign_in(
        issuer=idp.issuer, claims={"sub": f"sub-{claimed}", "preferred_username": claimed, "email": expected}
    )
    assert user.username == expected and user.username.isascii()


def test_a_full_width_or_cased_copy_of_a_local_name_is_refused_not_created(idp, make_user):
    make_user("admin", "admin")
    for n, claimed in enumerate(["\uff41\uff44\uff4d\uff49\uff4e", "ADMIN", "Admin"]):
        with pytest.raises(SsoRefused, match="already exists"):
            sso_sign_in(issuer=idp.issuer, claims={"sub": f"s{n}", "preferred_username": claimed})
    assert User.objects.filter(username__iexact="admin").count() == 1
    nameless = sso_sign_in(issuer=idp.issuer, claims={"sub": "s9", "preferred_username": "\u0430\u0434\u043c"})
    assert nameless.username.startswith("sso-") and not user_roles(nameless)


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.example/",
        "/\\evil.example/",
        "https:evil.example",
        "javascript:alert(1)",
        "http://testserver@evil.example/",
    ],
)
def test_no_spelling_of_another_host_is_followed_after_sign_in(client, idp, next_url):
    idp.add_user("gus", groups=["fmgov-engineers"])
    page = sso_login(client, idp, "gus", next_url=next_url)
    assert signed_in_user(client).username == "gus"
    assert page.redirect_chain[-1][0] == "/"


def test_every_start_carries_a_fresh_state_nonce_and_an_s256_pkce_challenge(client, idp):
    starts = [parse_qs(urlsplit(client.get("/accounts/oidc/authenticate/")["Location"]).query) for _ in range(2)]
    for params in starts:
        assert params["code_challenge_method"] == ["S256"] and len(params["code_challenge"][0]) >= 43
        assert len(params["state"][0]) >= 32 and len(params["nonce"][0]) >= 32
    for name in ("state", "nonce", "code_challenge"):
        assert starts[0][name] != starts[1][name]


def test_ensure_admin_never_promotes_an_sso_account_that_took_the_name_admin(idp, settings, tmp_path):
    """On a fresh install the provider may hand out the name "admin" before ensure_admin runs: it stays role-less."""
    settings.VAR_DIR = tmp_path
    squatter = sso_sign_in(issuer=idp.issuer, claims={"sub": "sq", "preferred_username": "admin", "groups": ["x"]})
    call_command("ensure_admin", stdout=StringIO())
    squatter.refresh_from_db()
    assert not user_roles(squatter) and not squatter.is_superuser and not squatter.is_staff
    assert User.objects.filter(username__iexact="admin").count() == 1
    with pytest.raises(CommandError, match="already exists"):
        call_command("adduser", "admin", "--role", "admin", stdout=StringIO())
