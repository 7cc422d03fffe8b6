"""Shared by the browser tests and docs/screenshots.py: Debian's Chromium, logging in, waiting."""

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct-horse-battery-staple"  # the root conftest's make_user default


@pytest.fixture(scope="module")
def sync_orm_beside_playwright(celery_worker):
    """Let tests use the ORM while Playwright's sync API has an event loop running in the same thread.

    Django refuses ORM calls from a thread with a running event loop; the calls here (and the
    database flush after each test) are ordinary synchronous code between page actions. Set for
    one module at a time, never for the session, so later subprocesses such as ``manage.py check
    --deploy`` do not inherit it; and only after the shared worker has started.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def playwright(sync_orm_beside_playwright):
    """Playwright for one module, not the session (pytest-playwright's default).

    Its sync API marks an event loop as running in the main thread for as long as it is
    started; stopped at the end of the module, later tests of the session run their ORM
    calls under Django's normal async guard again.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser_type(playwright, browser_name):
    return getattr(playwright, browser_name)


@pytest.fixture(scope="module")
def browser(browser_type, browser_type_launch_args):
    browser = browser_type.launch(**launch_args(browser_type_launch_args))
    yield browser
    browser.close()


def launch_args(base: dict) -> dict:
    """Never a downloaded browser: Debian's chromium, headless."""
    return {**base, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


def login(browser, base_url: str, username: str, password: str = PASSWORD, **context_args):
    """A fresh browser context logged in through the login form; returns its page."""
    context = browser.new_context(base_url=base_url, **context_args)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base_url.rstrip("/") + "/")
    return page
