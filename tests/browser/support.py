"""Shared by the browser tests and docs/screenshots.py: Debian's Chromium, logging in, waiting."""

import os

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# between page actions are ordinary synchronous code, so Django's async guard is lifted here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

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
