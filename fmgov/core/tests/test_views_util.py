"""``call_service``: the one "call the service, show the refusal, redirect" of every page that changes something."""

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.test import RequestFactory

from fmgov.core.exceptions import InvalidInput, NotAllowed
from fmgov.core.views_util import call_service


class NameForm(forms.Form):
    name = forms.CharField()


def _request():
    request = RequestFactory().post("/anything/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def _messages(request) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(request)]


def _refuse():
    raise InvalidInput("Not like that.", field_errors={"name": ["Taken."], "other": ["Wrong."]})


def test_success_says_so_and_redirects_to_the_result():
    request = _request()
    response = call_service(
        request, lambda: 7, success=lambda n: f"Made {n}.", to=lambda n: f"/things/{n}/", form=NameForm({"name": "x"})
    )
    assert response.status_code == 302 and response["Location"] == "/things/7/"
    assert _messages(request) == [("success", "Made 7.")]


def test_refusal_with_a_form_lands_on_its_fields_and_returns_none():
    request, form = _request(), NameForm({"name": "x"})
    assert form.is_valid()
    assert call_service(request, _refuse, success="never", to="/things/", form=form) is None
    assert form.errors == {"name": ["Taken."], "__all__": ["other: Wrong."]}
    assert _messages(request) == [("error", "Not like that.")]


def test_refusal_without_a_form_is_shown_and_goes_back():
    request = _request()
    response = call_service(request, _refuse, success="never", to="/things/")
    assert response.status_code == 302 and response["Location"] == "/things/"
    assert _messages(request) == [("error", "Not like that."), ("error", "Taken."), ("error", "Wrong.")]


def test_other_errors_are_not_swallowed():
    def broken():
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        call_service(_request(), broken, success="never", to="/things/")


def test_without_a_form_the_target_cannot_depend_on_the_result():
    def refuse():
        raise NotAllowed("No.")

    with pytest.raises(TypeError):
        call_service(_request(), refuse, success="never", to=lambda n: f"/things/{n}/")
