"""The only way WeasyPrint may load a resource while rendering a report.

It serves files from the reports app's own static directory, addressed as
``fmgov-static:reports/<name>``, and refuses every other URL and file path:
``file:``, ``http(s):``, ``data:``, relative paths and anything that resolves
outside that directory. Refusals are recorded so a report's render log (and
the tests) can show what user content tried to load. No file is opened and no
socket is touched before a URL has passed every check.
"""

from pathlib import Path
from urllib.parse import unquote

from weasyprint.urls import URLFetcher, URLFetcherResponse

__all__ = ["STATIC_SCHEME", "STATIC_ROOT", "SafeURLFetcher", "RefusedURL"]

STATIC_SCHEME = "fmgov-static:"
STATIC_ROOT = (Path(__file__).resolve().parent.parent / "static").resolve()
ALLOWED_SUFFIXES = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}


class RefusedURL(ValueError):
    """A URL the report renderer will not load."""


def _read_bytes(path: Path) -> bytes:
    # One place where the fetcher reads a file, so tests can watch it.
    return path.read_bytes()


class SafeURLFetcher(URLFetcher):
    def __init__(self, static_root: Path = STATIC_ROOT):
        super().__init__(timeout=1, allowed_protocols=set(), allow_redirects=False, fail_on_errors=False)
        self.static_root = Path(static_root).resolve()
        self.served: list[str] = []
        self.refused: list[dict[str, str]] = []

    def resolve(self, url: str) -> Path:
        """The file a URL names, or RefusedURL. Pure: opens nothing."""
        if not isinstance(url, str) or not url.startswith(STATIC_SCHEME):
            raise RefusedURL("only the report's own static assets may be loaded")
        relative = unquote(url[len(STATIC_SCHEME) :].split("?", 1)[0].split("#", 1)[0]).lstrip("/")
        parts = relative.split("/")
        if not relative or "\\" in relative or "\x00" in relative or any(p in ("", ".", "..") for p in parts):
            raise RefusedURL("malformed static asset path")
        path = (self.static_root / relative).resolve()
        if not path.is_relative_to(self.static_root):
            raise RefusedURL("path leaves the static directory")
        if path.suffix.lower() not in ALLOWED_SUFFIXES:
            raise RefusedURL("file type not allowed")
        if not path.is_file():
            raise RefusedURL("no such static asset")
        return path

    def fetch(self, url, headers=None):
        try:
            path = self.resolve(url)
        except RefusedURL as exc:
            self.refused.append({"url": str(url)[:500], "reason": str(exc)})
            raise
        self.served.append(url)
        return URLFetcherResponse(url, _read_bytes(path), {"Content-Type": ALLOWED_SUFFIXES[path.suffix.lower()]})
