"""Fixtures for Entra tests: a fake identity provider on loopback HTTPS and the real encrypted token cache."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
import webbrowser
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_idp import EntraHarness, FakeIdentityProvider, make_test_ca

_PROBE = "from msal_extensions.libsecret import trial_run; trial_run()"


@pytest.fixture(scope="session")
def secret_service() -> bool:
    """Whether a Secret Service can store the encrypted MSAL cache (probed in a subprocess: libsecret may hang)."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return False
    try:
        probe = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        return False
    return probe.returncode == 0


@pytest.fixture
def require_secret_service(secret_service: bool) -> None:
    """Skip (or fail when AOC_REQUIRE_KEYRING=1) without a usable Secret Service."""
    if secret_service:
        return
    reason = (
        "no usable Secret Service for the encrypted MSAL cache; run under dbus-run-session with "
        "gnome-keyring-daemon --unlock (see tests/auth/conftest.py)"
    )
    if os.environ.get("AOC_REQUIRE_KEYRING") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def idp_certificates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A throw-away CA and server certificate for the session."""
    return make_test_ca(tmp_path_factory.mktemp("fake-idp-ca"))


@pytest.fixture(scope="session")
def _idp_server(idp_certificates: tuple[Path, Path, Path]) -> Iterator[FakeIdentityProvider]:
    idp = FakeIdentityProvider(*idp_certificates)
    # Port 443 keeps saved records reusable as they are (their authority carries no port); without root, any port
    # and FakeIdentityProvider.reusable_record rewrites the authority.
    try:
        idp.start(443)
    except OSError:
        idp.start(0)
    yield idp
    idp.stop()


@pytest.fixture
def fake_idp(
    _idp_server: FakeIdentityProvider,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    logfail: Any,
) -> FakeIdentityProvider:
    """The fake IdP, reset, trusted (REQUESTS_CA_BUNDLE), with a patched browser and a private HOME."""
    _idp_server.reset()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(_idp_server.ca_file))
    monkeypatch.setenv("HOME", str(tmp_path))  # the cache's signal file lives in ~/.IdentityService
    monkeypatch.delenv("AZURE_AUTHORITY_HOST", raising=False)
    monkeypatch.setattr(webbrowser, "open", _idp_server.open_browser)
    # azure-identity logs every failed or "sign-in required" token call at WARNING; these tests provoke them.
    logfail.allow("azure.identity", "failed")
    return _idp_server


@pytest.fixture
def entra(
    fake_idp: FakeIdentityProvider, require_secret_service: None, arun: Callable[..., Any]
) -> Iterator[EntraHarness]:
    """A harness over the fake IdP and the real encrypted cache."""
    harness = EntraHarness(fake_idp, f"aoc-test-{uuid.uuid4().hex[:12]}", [])
    yield harness
    for session in harness.sessions:
        arun(session.close())
