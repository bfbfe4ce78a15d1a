"""Sign-in failures that need no Secret Service: no browser, untrusted TLS, no network, no encryption, Azure CLI."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid
import webbrowser
from pathlib import Path
from typing import Any

import pytest
from fake_idp import USERNAME, FakeIdentityProvider

from desktop.auth import (
    AzureCliSession,
    EntraOptions,
    EntraSession,
    EntraSignInError,
    SignInAction,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
NO_BUS = "unix:path=/nonexistent/aoc-test-bus"

# A fresh interpreter whose Secret Service is unreachable, as on a Linux PC without a password store.
_NO_ENCRYPTION_SCRIPT = """
import asyncio, json, os, sys, webbrowser
from pathlib import Path
from fake_idp import FakeIdentityProvider
from desktop.auth import EntraOptions, EntraSession, TokenCacheUnavailableError

host, cache, ca, cert, key = sys.argv[1:6]
idp = FakeIdentityProvider(Path(ca), Path(cert), Path(key))
opened = []

def browser(url, *args, **kwargs):
    opened.append(url)
    return idp.open_browser(url)

webbrowser.open = browser

async def main():
    session = EntraSession(EntraOptions(authority_host=host), cache_name=cache)
    out = {}
    try:
        await session.sign_in_browser()
    except TokenCacheUnavailableError as error:
        out["refused"] = error.problem.action.value
    out["browser_before_consent"] = len(opened)
    session.allow_unencrypted_storage()
    out["user"] = (await session.sign_in_browser()).username
    out["token"] = (await session.get_token()).token
    path = Path.home() / ".IdentityService" / (cache + ".nocae")
    out["mode"] = oct(path.stat().st_mode & 0o777)
    await session.sign_out()
    out["after_sign_out"] = str(json.loads(path.read_text()).get("RefreshToken"))
    await session.close()
    return out

print(json.dumps(asyncio.run(main())))
"""


@pytest.fixture
def unencrypted_ok(fake_idp: FakeIdentityProvider, secret_service: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sessions here may fall back to the private file cache; without a Secret Service, fail fast instead of probing."""
    if not secret_service:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", NO_BUS)


def _session(idp: FakeIdentityProvider, **options: Any) -> EntraSession:
    options.setdefault("authority_host", idp.host)
    return EntraSession(
        EntraOptions(**options), cache_name=f"aoc-test-{uuid.uuid4().hex[:12]}", allow_unencrypted_storage=True
    )


def test_no_encryption_refuses_before_the_browser_then_works_with_consent(
    fake_idp: FakeIdentityProvider, tmp_path: Path
) -> None:
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": NO_BUS, "PYTHONPATH": os.pathsep.join((str(REPO), str(HERE)))}
    env.pop("DISPLAY", None)
    cache = f"aoc-test-{uuid.uuid4().hex[:12]}"
    args = [fake_idp.host, cache, str(fake_idp.ca_file), str(fake_idp.cert_file), str(fake_idp.key_file)]
    done = subprocess.run(
        [sys.executable, "-c", _NO_ENCRYPTION_SCRIPT, *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
        env=env,
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["refused"] == SignInAction.ALLOW_UNENCRYPTED.value
    assert out["browser_before_consent"] == 0  # refused before any browser opened
    assert out["user"] == USERNAME
    assert out["token"].startswith("at-")
    assert out["mode"] == oct(stat.S_IRUSR | stat.S_IWUSR)
    assert out["after_sign_out"] == "{}"


def test_no_browser_suggests_device_code(
    fake_idp: FakeIdentityProvider, unencrypted_ok: None, monkeypatch: pytest.MonkeyPatch, arun: Any
) -> None:
    monkeypatch.setattr(webbrowser, "open", lambda *args, **kwargs: False)
    session = _session(fake_idp)
    with pytest.raises(EntraSignInError) as caught:
        arun(session.sign_in_browser())
    assert caught.value.problem.action is SignInAction.USE_DEVICE_CODE
    arun(session.close())


def test_untrusted_certificate_names_the_proxy(
    fake_idp: FakeIdentityProvider, unencrypted_ok: None, monkeypatch: pytest.MonkeyPatch, arun: Any
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")  # the fake's CA is unknown, as a corporate proxy's would be
    session = _session(fake_idp)
    with pytest.raises(EntraSignInError) as caught:
        arun(session.sign_in_browser())
    assert caught.value.problem.title == "The connection is not trusted"
    assert caught.value.problem.action is SignInAction.CONTACT_ADMIN
    arun(session.close())


def test_unreachable_sign_in_service(fake_idp: FakeIdentityProvider, unencrypted_ok: None, arun: Any) -> None:
    session = _session(fake_idp, authority_host="localhost:9")  # discard port: nothing listens
    with pytest.raises(EntraSignInError) as caught:
        arun(session.sign_in_device_code(lambda *_: None), timeout=60)
    assert caught.value.problem.action is SignInAction.CHECK_NETWORK
    arun(session.close())


@pytest.fixture
def fake_az(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An `az` on PATH that prints what `az account get-access-token` would."""
    script = tmp_path / "bin" / "az"
    script.parent.mkdir()
    script.write_text(
        "#!/bin/sh\n"
        f'if [ -f "{tmp_path}/bin/signed-out" ]; then echo "ERROR: Please run \'az login\' to setup account." >&2;'
        " exit 1; fi\n"
        'echo \'{"accessToken": "cli-token", "expires_on": 4102444800, "tokenType": "Bearer"}\'\n'
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(script.parent))
    return script


def test_azure_cli_session_gives_the_cli_token(fake_az: Path, arun: Any) -> None:
    session = AzureCliSession()
    assert arun(session.token_provider()()) == "cli-token"
    arun(session.close())


def test_azure_cli_signed_out_or_missing(fake_az: Path, arun: Any, logfail: Any) -> None:
    logfail.allow("azure.identity", "failed")
    (fake_az.parent / "signed-out").touch()
    session = AzureCliSession(tenant="contoso.onmicrosoft.com")
    with pytest.raises(EntraSignInError) as caught:
        arun(session.get_token())
    assert caught.value.problem.title == "Azure CLI is not signed in"
    fake_az.unlink()
    with pytest.raises(EntraSignInError) as caught:
        arun(session.get_token())
    assert caught.value.problem.title == "Azure CLI is not signed in"
    arun(session.close())
