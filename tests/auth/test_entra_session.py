"""The real azure-identity + MSAL stack against the fake identity provider and the real encrypted cache."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import webbrowser
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fake_idp import DECLINE_DESCRIPTION, TENANT_ID, USER_ID, USERNAME, EntraHarness, FakeIdentityProvider

from desktop.auth import (
    EntraOptions,
    EntraSession,
    EntraSignInError,
    SignInAction,
    SignInCancelledError,
    SignInRequiredError,
)

REPO = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter: a restarted app with only the saved record and the persistent cache.
_RESTART_SCRIPT = """
import asyncio, json, sys, webbrowser
from desktop.auth import EntraOptions, EntraSession, EntraSignInError

def no_browser(*args, **kwargs):
    raise AssertionError("a silent restart must not open a browser")

webbrowser.open = no_browser
host, record, cache = sys.argv[1:4]

async def main():
    session = EntraSession(EntraOptions(authority_host=host, record_json=record), cache_name=cache)
    try:
        token = await session.get_token()
        return {"token": token.token, "user": session.account.username}
    except EntraSignInError as error:
        return {"error": type(error).__name__}
    finally:
        await session.close()

print(json.dumps(asyncio.run(main())))
"""


def _restart(entra: EntraHarness, record_json: str) -> dict[str, str]:
    record = entra.idp.reusable_record(record_json)
    done = subprocess.run(
        [sys.executable, "-c", _RESTART_SCRIPT, entra.idp.host, record, entra.cache_name],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    result: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _watch_browser(idp: FakeIdentityProvider, monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    opened = threading.Event()

    def visit(url: str) -> None:
        idp.play_user(url)
        opened.set()  # after the visit, so a test may change the behaviour without racing the fake user

    def open_and_tell(url: str, *args: Any, **kwargs: Any) -> bool:
        threading.Thread(target=visit, args=(url,), daemon=True).start()
        return True

    monkeypatch.setattr(webbrowser, "open", open_and_tell)
    return opened


async def _wait(event: threading.Event) -> None:
    assert await asyncio.get_running_loop().run_in_executor(None, event.wait, 20)


def test_browser_sign_in_returns_the_account_and_a_token(entra: EntraHarness, arun: Any) -> None:
    session = entra.session()
    account = arun(session.sign_in_browser())
    assert (account.username, account.tenant_id) == (USERNAME, TENANT_ID)
    assert account.home_account_id == f"{USER_ID}.{TENANT_ID}"
    assert json.loads(account.record_json)["username"] == USERNAME
    assert session.account == account
    assert arun(session.get_token()).token.startswith("at-")
    assert entra.idp.grants["authorization_code"] == 1


def test_silent_restart_in_a_new_process_uses_the_encrypted_cache(entra: EntraHarness, arun: Any) -> None:
    session = entra.session()
    account = arun(session.sign_in_browser())
    arun(session.close())
    result = _restart(entra, account.record_json)
    assert result["user"] == USERNAME
    assert result["token"].startswith("at-")
    # No browser and no new sign-in: the token came from the refresh token kept in the encrypted cache.
    assert entra.idp.grants["authorization_code"] == 1


def test_expired_access_token_is_refreshed_silently(entra: EntraHarness, arun: Any) -> None:
    # A lifetime under MSAL's and our 5-minute margins makes every call refresh with the refresh token.
    entra.idp.behaviour.access_token_lifetime = 120
    session = entra.session()
    arun(session.sign_in_browser())
    provider = session.token_provider()
    first, second = arun(provider()), arun(provider())
    assert first != second
    assert entra.idp.grants["refresh_token"] == 2


def test_concurrent_provider_awaits_make_one_credential_call(
    entra: EntraHarness, arun: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = entra.session()
    arun(session.sign_in_browser())
    calls = []
    real_get_token = session.get_token

    async def counting_get_token(scope: str | None = None) -> Any:
        calls.append(scope)
        return await real_get_token(scope)

    monkeypatch.setattr(session, "get_token", counting_get_token)
    provider = session.token_provider()
    assert session.token_provider() is provider

    async def ten_at_once() -> set[str]:
        return set(await asyncio.gather(*(provider() for _ in range(10))))

    assert len(arun(ten_at_once())) == 1
    assert calls == ["https://cognitiveservices.azure.com/.default"]


def test_expired_sign_in_raises_sign_in_required(entra: EntraHarness, arun: Any) -> None:
    entra.idp.behaviour.access_token_lifetime = 120
    session = entra.session()
    account = arun(session.sign_in_browser())
    entra.idp.behaviour.refresh_tokens_expired = True
    with pytest.raises(SignInRequiredError) as caught:
        arun(session.get_token())
    assert caught.value.problem.action is SignInAction.SIGN_IN_AGAIN
    assert _restart(entra, account.record_json) == {"error": "SignInRequiredError"}


def test_sign_out_removes_the_account_from_the_persistent_cache(entra: EntraHarness, arun: Any) -> None:
    session = entra.session()
    account = arun(session.sign_in_browser())
    arun(session.sign_out())
    assert session.account is None
    with pytest.raises(SignInRequiredError):
        arun(session.get_token())
    # Even with the old record, nothing is left to refresh from: the cache entries are gone.
    assert _restart(entra, account.record_json) == {"error": "SignInRequiredError"}
    stale = entra.session(account.record_json)
    with pytest.raises(SignInRequiredError):
        arun(stale.get_token())


def test_never_signed_in_requires_sign_in(entra: EntraHarness, arun: Any) -> None:
    with pytest.raises(SignInRequiredError):
        arun(entra.session().get_token())


def test_cancel_ends_a_pending_browser_sign_in_promptly(
    entra: EntraHarness, arun: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    entra.idp.behaviour.browser = "never"
    opened = _watch_browser(entra.idp, monkeypatch)
    # The credential would wait 10 minutes; arun's 30 s limit proves cancel does not wait for that.
    session = entra.session(browser_timeout=600)

    async def sign_in_then_cancel() -> None:
        task = asyncio.ensure_future(session.sign_in_browser())
        await _wait(opened)
        session.cancel()
        await task

    with pytest.raises(SignInCancelledError) as caught:
        arun(sign_in_then_cancel())
    assert caught.value.problem.action is SignInAction.NONE
    # The worker thread is free again: a new sign-in goes through.
    entra.idp.behaviour.browser = "approve"
    assert arun(session.sign_in_browser()).username == USERNAME


def test_cancelling_the_task_frees_the_worker(entra: EntraHarness, arun: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    entra.idp.behaviour.browser = "never"
    opened = _watch_browser(entra.idp, monkeypatch)
    session = entra.session(browser_timeout=600)

    async def cancel_task() -> None:
        task = asyncio.ensure_future(session.sign_in_browser())
        await _wait(opened)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    arun(cancel_task())
    entra.idp.behaviour.browser = "approve"
    assert arun(session.sign_in_browser()).username == USERNAME


def test_device_code_sign_in_prompts_on_the_loop_thread(entra: EntraHarness, arun: Any) -> None:
    prompts: list[tuple[str, str, datetime, bool]] = []

    def prompt(uri: str, code: str, expires_on: datetime) -> None:
        prompts.append((uri, code, expires_on, threading.current_thread() is threading.main_thread()))

    session = entra.session()
    account = arun(session.sign_in_device_code(prompt))
    assert account.username == USERNAME
    [(uri, code, expires_on, on_loop_thread)] = prompts
    assert uri.endswith("/devicelogin")
    assert code == "FAKE-CODE"
    assert expires_on.tzinfo is not None
    assert on_loop_thread
    assert arun(session.get_token()).token.startswith("at-")


def test_cancel_stops_device_code_polling(entra: EntraHarness, arun: Any) -> None:
    entra.idp.behaviour.device_approved = False
    prompted = asyncio.Event()
    session = entra.session()

    async def sign_in_then_cancel() -> None:
        task = asyncio.ensure_future(session.sign_in_device_code(lambda *_: prompted.set()))
        await prompted.wait()
        session.cancel()
        await task

    with pytest.raises(SignInCancelledError):
        arun(sign_in_then_cancel())
    entra.idp.behaviour.device_approved = True
    assert arun(session.sign_in_device_code(lambda *_: None)).username == USERNAME


def test_declined_consent(entra: EntraHarness, arun: Any) -> None:
    entra.idp.behaviour.browser = "decline"
    with pytest.raises(EntraSignInError) as caught:
        arun(entra.session().sign_in_browser())
    problem = caught.value.problem
    assert problem.action is SignInAction.CONTACT_ADMIN
    assert problem.code == "AADSTS65004"
    assert problem.link == "https://login.microsoftonline.com/error?code=65004"
    assert DECLINE_DESCRIPTION.split(": ")[1] not in problem.explanation  # plain words, not the raw text


def test_browser_timeout(entra: EntraHarness, arun: Any) -> None:
    entra.idp.behaviour.browser = "never"
    with pytest.raises(EntraSignInError) as caught:
        arun(entra.session(browser_timeout=1).sign_in_browser())
    assert caught.value.problem.title == "Sign-in not finished"
    assert caught.value.problem.action is SignInAction.SIGN_IN_AGAIN


def test_damaged_record_means_signed_out(entra: EntraHarness, arun: Any, logfail: Any) -> None:
    logfail.allow("desktop.auth", "damaged")
    session = EntraSession(EntraOptions(record_json="{not json"), cache_name=entra.cache_name)
    entra.sessions.append(session)
    assert session.account is None
    with pytest.raises(SignInRequiredError):
        arun(session.get_token())
