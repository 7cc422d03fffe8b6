"""The Accept headers every file endpoint is tested with, and what each must answer."""

from typing import Any

__all__ = ["accept_cases", "assert_negotiated"]


def accept_cases(media_type: str) -> list[tuple[str | None, int]]:
    """(Accept header or None for none sent, expected status) for an endpoint serving ``media_type``."""
    return [
        (media_type, 200),
        ("*/*", 200),
        (None, 200),
        (f"{media_type.split('/')[0]}/*", 200),
        (f"application/json;q=0.9, {media_type}", 200),
        ("application/json", 406),
        ("text/html", 406),
        ("image/png, application/xml", 406),
    ]


def assert_negotiated(response: Any, media_type: str, status: int) -> None:
    """The file in its own media type, or a JSON 406 that names the type to ask for."""
    assert response.status_code == status, getattr(response, "content", b"")[:500]
    if status == 200:
        assert response["Content-Type"].split(";")[0] == media_type
        assert "attachment" in response["Content-Disposition"] or "inline" in response["Content-Disposition"]
    else:
        assert response["Content-Type"] == "application/json"
        detail = response.json()["detail"]
        assert f"serves {media_type}" in detail and f"Accept: {media_type} or */*" in detail
