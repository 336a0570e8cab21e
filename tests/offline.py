"""A fixture for tests that talk to a loopback model server: nothing may leave 127.0.0.1."""

import pytest

from duress.testing import loopback_only


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No proxies, and no connection or name lookup off the loopback interface."""
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with loopback_only() as refused:
        yield refused
    assert refused == [], f"something tried to reach the network: {refused}"
