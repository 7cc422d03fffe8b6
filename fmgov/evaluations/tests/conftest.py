"""Fixtures for evaluation tests: the local OpenAI-compatible server."""

import pytest

from fmgov.evaluations.testing.fake_openai import FakeOpenAIServer


@pytest.fixture
def fake_openai():
    """A fresh server per test (a compliant model, no delay), so a run still in
    flight from an earlier test can never change this test's request counts."""
    with FakeOpenAIServer() as server:
        yield server
