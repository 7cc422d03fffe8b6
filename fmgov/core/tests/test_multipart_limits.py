"""Multipart bodies on any API view are refused by their declared size before Django spools a file to disk.

DATA_UPLOAD_MAX_MEMORY_SIZE does not count files: without this check anyone, even
unauthenticated (the token endpoint), could make a worker write gigabytes to /tmp.
"""

import django.http.multipartparser
import pytest
from django.test.client import encode_multipart
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def unparsable(monkeypatch):
    """Any attempt to parse a multipart body fails the test: the refusal must come first."""

    def parse(self):
        raise AssertionError("the multipart body was parsed")

    monkeypatch.setattr(django.http.multipartparser.MultiPartParser, "parse", parse)


def _post(client: APIClient, url: str, size: int):
    body = encode_multipart("BoUnDaRy", {"username": "x", "password": "y", "file": _File(size)})
    return client.generic("POST", url, body, content_type="multipart/form-data; boundary=BoUnDaRy")


class _File:
    """A file-like value for encode_multipart."""

    def __init__(self, size: int):
        self.name, self._data = "big.bin", b"0" * size

    def read(self) -> bytes:
        return self._data


def test_an_oversized_multipart_body_is_413_before_it_is_parsed_even_unauthenticated(settings, unparsable):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    response = _post(APIClient(), "/api/v1/auth/token/", 64 * 1024)
    assert response.status_code == 413
    assert "larger than" in response.json()["non_field_errors"][0]


def test_an_oversized_multipart_body_is_413_on_an_authenticated_view(settings, unparsable, engineer, client_for):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    assert _post(client_for(engineer), "/api/v1/deployments/", 64 * 1024).status_code == 413


def test_a_small_multipart_body_is_still_parsed(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    response = _post(APIClient(), "/api/v1/auth/token/", 100)
    assert response.status_code == 400 and "Unable to log in" in response.json()["detail"]
