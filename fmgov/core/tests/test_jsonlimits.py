"""The one JSON depth cap and the upload size checks that every parser of user input uses."""

import io

import pytest
from django.test import RequestFactory

from fmgov.core.exceptions import InvalidInput
from fmgov.core.jsonlimits import MAX_JSON_DEPTH, JSONTooDeep, json_depth, loads_bounded
from fmgov.core.uploads import PayloadTooLarge, ensure_body_size, read_upload


def _nested(depth: int) -> str:
    """``depth`` levels as json_depth counts them: depth-1 lists around a scalar."""
    return "[" * (depth - 1) + "1" + "]" * (depth - 1)


def test_depth_64_parses_and_65_is_refused():
    assert json_depth(loads_bounded(_nested(MAX_JSON_DEPTH))) == MAX_JSON_DEPTH
    with pytest.raises(JSONTooDeep, match="nested deeper than 64"):
        loads_bounded(_nested(MAX_JSON_DEPTH + 1))


def test_nesting_beyond_the_recursion_limit_is_the_same_refusal():
    with pytest.raises(JSONTooDeep):
        loads_bounded("[" * 200_000 + "]" * 200_000)


def test_invalid_json_and_bad_bytes_are_value_errors():
    for data in ("{", b"\xff\xfe{"):
        with pytest.raises(ValueError):
            loads_bounded(data)


class _Upload(io.BytesIO):
    def __init__(self, data: bytes, size: int):
        super().__init__(data)
        self.size = size
        self.reads = 0

    def read(self, *args):
        self.reads += 1
        return super().read(*args)


def test_an_upload_is_refused_by_its_size_before_any_read():
    upload = _Upload(b"x", size=101)
    with pytest.raises(InvalidInput) as refused:
        read_upload(upload, max_bytes=100, field="file")
    assert upload.reads == 0 and "larger than 100 bytes" in refused.value.field_errors["file"][0]


def test_an_upload_whose_size_lied_stops_one_byte_past_the_limit():
    upload = _Upload(b"x" * 10_000, size=10)
    with pytest.raises(InvalidInput):
        read_upload(upload, max_bytes=100, field="file")
    assert upload.tell() == 101


def test_the_declared_body_length_is_checked_before_the_body():
    request = RequestFactory().post("/x", data=b"{}", content_type="application/json")
    request.META["CONTENT_LENGTH"] = str(3 * 1024 * 1024)
    with pytest.raises(PayloadTooLarge) as refused:
        ensure_body_size(request, max_bytes=1024 * 1024, field="file")
    assert refused.value.status_code == 413
    assert refused.value.detail["file"][0] == "The request body (3 MiB) is larger than the 1 MiB accepted here."
    request.META["CONTENT_LENGTH"] = "2"
    ensure_body_size(request, max_bytes=1024 * 1024, field="file")
