"""Fixtures for evaluation tests: the local OpenAI-compatible server."""

import pytest

from fmgov.evaluations.testing.fake_openai import Behaviour, FakeOpenAIServer


@pytest.fixture(scope="session")
def _fake_openai_server():
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def fake_openai(_fake_openai_server):
    """The session's fake server, reset to a compliant model with no delay for each test."""
    _fake_openai_server.reset(Behaviour())
    yield _fake_openai_server
    _fake_openai_server.reset(Behaviour())
