"""Connections against the simulator: keys, clients and their cache, turn targets, Entra and Azure CLI sign-in."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from keyring.backends.fail import Keyring as NoKeyring

from desktop.auth import EntraSignInError, KeyStore, SignInAction, SignInCancelledError, SignInProblem
from desktop.config import ChatDefaults, Deployment
from desktop.log import redact
from desktop.services import ChatService, ErrorAction, Finished, TurnSetupError
from desktop.services._connections import Connections
from desktop.simulator import DEFAULT_TOKEN, Simulator
from desktop.storage import HistoryStore, Outcome
from tests.services.conftest import collect
from tests.services.test_connections_fixtures import (
    RECORD,
    FakeEntraSession,
    World,
    key_world,
    world,
)

__all__ = ["key_world", "world"]  # fixtures used here


def setup_error(excinfo: pytest.ExceptionInfo[TurnSetupError]) -> tuple[str, ErrorAction]:
    return excinfo.value.error.title, excinfo.value.error.action


# ---- API keys ------------------------------------------------------------------------------------------------------


def test_key_auth_reaches_the_simulator_and_the_key_is_scrubbed_from_logs(
    key_world: World, sim: Simulator, arun: Any
) -> None:
    target = arun(key_world.connections.target_for(None))
    answer = arun(target.client.responses.create(model=target.deployment, input="hi"))
    assert answer.output_text
    assert sim.requests[-1].headers["api-key"] == sim.api_key
    assert (target.deployment, target.auth_method, target.api) == ("gpt-4.1", "api_key", "unknown")
    assert sim.api_key not in redact(f"sending with key {sim.api_key}")


def test_missing_key_asks_for_one_in_settings(world: World, sim: Simulator, arun: Any) -> None:
    world.add_profile(sim.base_url, default_deployment="gpt-4.1")
    with pytest.raises(TurnSetupError) as excinfo:
        arun(world.connections.target_for(None))
    assert setup_error(excinfo) == ("No API key for this connection", ErrorAction.OPEN_SETTINGS)
    assert "Profile p1" in excinfo.value.error.explanation


def test_no_keyring_falls_back_to_the_session_key(world: World, sim: Simulator, arun: Any) -> None:
    world.add_profile(sim.base_url, default_deployment="gpt-4.1")
    connections = Connections(world.configuration, KeyStore(NoKeyring()), world.session_keys)
    try:
        with pytest.raises(TurnSetupError) as excinfo:
            arun(connections.target_for(None))
        title, action = setup_error(excinfo)
        assert (title, action) == ("The password store is not available", ErrorAction.OPEN_SETTINGS)
        assert "session only" in excinfo.value.error.explanation
        saved = arun(connections.keys.save("p1", sim.api_key, consent=True))  # the user agreed: session only
        assert saved.place.value == "session"
        target = arun(connections.target_for(None))
        assert arun(target.client.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "x"}]))
    finally:
        arun(connections.aclose())


def test_wrong_key_ends_the_turn_with_open_settings(
    key_world: World, sim: Simulator, store: HistoryStore, arun: Any
) -> None:
    key_world.keys.set("p1", "wrong-key-0123456789abcdef")
    conversation = store.create_conversation(profile_id="p1")
    chat = ChatService(store, lambda cid: key_world.connections.target_for(store.get_conversation(cid)))
    events = arun(collect(chat.send(conversation.id, "hello")))
    finished = events[-1]
    assert isinstance(finished, Finished)
    assert finished.error is not None
    assert (finished.outcome, finished.error.action) == (Outcome.FAILED, ErrorAction.OPEN_SETTINGS)
    assert finished.error.title == "The API key was not accepted"


# ---- turn targets --------------------------------------------------------------------------------------------------


def test_no_connection_and_no_deployment_are_explained(world: World, sim: Simulator, arun: Any) -> None:
    with pytest.raises(TurnSetupError) as excinfo:
        arun(world.connections.target_for(None))
    assert setup_error(excinfo) == ("No connection set up", ErrorAction.OPEN_SETTINGS)
    world.add_profile(sim.base_url)
    world.keys.set("p1", sim.api_key)
    with pytest.raises(TurnSetupError) as excinfo:
        arun(world.connections.target_for(None))
    assert setup_error(excinfo) == ("Choose a deployment", ErrorAction.OPEN_SETTINGS)


def test_a_removed_profile_is_not_silently_replaced(key_world: World, store: HistoryStore, arun: Any) -> None:
    conversation = store.create_conversation(profile_id="gone", deployment="gpt-4.1")
    with pytest.raises(TurnSetupError) as excinfo:
        arun(key_world.connections.target_for(conversation))
    assert setup_error(excinfo) == ("This connection no longer exists", ErrorAction.OPEN_SETTINGS)


def test_conversation_settings_override_the_chat_defaults(key_world: World, store: HistoryStore, arun: Any) -> None:
    profile = key_world.configuration.settings.profile("p1")
    assert profile is not None
    defaults = ChatDefaults(instructions="Be brief.", temperature=0.2, max_output_tokens=500, reasoning_effort="low")
    key_world.configuration.put_profile(
        replace(profile, chat_defaults=defaults, deployments=(Deployment("o4-mini", api="responses"),))
    )
    plain = store.create_conversation(profile_id="p1")
    target = arun(key_world.connections.target_for(plain))
    assert (target.deployment, target.instructions, target.temperature) == ("gpt-4.1", "Be brief.", 0.2)
    assert (target.max_output_tokens, target.reasoning_effort) == (500, "low")
    own = store.create_conversation(
        profile_id="p1",
        deployment="o4-mini",
        instructions="Answer in French.",
        params={"temperature": 1, "max_output_tokens": 64, "reasoning_effort": "high"},
    )
    target = arun(key_world.connections.target_for(own))
    assert (target.deployment, target.api, target.instructions) == ("o4-mini", "responses", "Answer in French.")
    assert (target.temperature, target.max_output_tokens, target.reasoning_effort) == (1.0, 64, "high")
    broken = store.create_conversation(profile_id="p1", params={"temperature": "hot", "max_output_tokens": -3})
    target = arun(key_world.connections.target_for(broken))
    assert (target.temperature, target.max_output_tokens) == (0.2, 500)


def test_the_instructions_preset_goes_with_the_target(key_world: World, store: HistoryStore, arun: Any) -> None:
    profile = key_world.configuration.settings.profile("p1")
    assert profile is not None
    key_world.configuration.put_profile(replace(profile, chat_defaults=ChatDefaults(instructions="Be brief.")))
    plain = arun(key_world.connections.target_for(store.create_conversation(profile_id="p1")))
    assert (plain.instructions, plain.preset) == ("Be brief.", "Connection default")
    none = store.create_conversation(profile_id="p1", params={"preset": "No instructions"})
    target = arun(key_world.connections.target_for(none))
    assert (target.instructions, target.preset) == ("", "No instructions")  # not the connection's default
    own = store.create_conversation(profile_id="p1", instructions="Talk like a pirate.", params={"preset": "Concise"})
    assert arun(key_world.connections.target_for(own)).preset == "Custom"


def test_remember_api_is_saved_in_settings_json(
    key_world: World, sim: Simulator, store: HistoryStore, arun: Any
) -> None:
    conversation = store.create_conversation(profile_id="p1", deployment="gpt-4o-mini")
    chat = ChatService(store, lambda cid: key_world.connections.target_for(store.get_conversation(cid)))
    events = arun(collect(chat.send(conversation.id, "hello")))
    assert isinstance(events[-1], Finished)
    assert events[-1].outcome is Outcome.COMPLETE
    saved = key_world.saved_profile()["deployments"]
    assert {"name": "gpt-4o-mini", "api": "chat"}.items() <= next(
        d for d in saved if d["name"] == "gpt-4o-mini"
    ).items()
    # The next turn goes straight to Chat Completions.
    paths_before = len(sim.requests)
    arun(collect(chat.send(conversation.id, "again")))
    assert [r.path for r in sim.requests[paths_before:]] == ["/openai/v1/chat/completions"]


# ---- the client cache ----------------------------------------------------------------------------------------------


def test_client_is_cached_and_rebuilt_when_settings_change(key_world: World, sim: Simulator, arun: Any) -> None:
    connections = key_world.connections
    first = arun(connections.client_for("p1"))
    assert arun(connections.client_for("p1")) is first
    old_pool = connections._clients["p1"].http
    key_world.configuration.update_app(request_timeout=30.0)
    second = arun(connections.client_for("p1"))
    assert second is not first
    assert old_pool.is_closed
    assert second.timeout.read == 30.0
    key_world.configuration.update_app(proxy="none")
    third = arun(connections.client_for("p1"))
    assert third is not second
    arun(connections.keys.save("p1", sim.api_key[::-1]))  # a new key also means a new client
    assert arun(connections.client_for("p1")) is not third
    key_world.configuration.update_app(max_retries=0)
    assert arun(connections.client_for("p1")).max_retries == 0


def test_aclose_closes_every_client_and_session(world: World, sim: Simulator, arun: Any) -> None:
    world.add_profile(sim.base_url, default_deployment="gpt-4.1")
    world.keys.set("p1", sim.api_key)
    world.entra_profile(sim.base_url, pid="p2", default_deployment="gpt-4.1")
    arun(world.connections.client_for("p1"))
    arun(world.connections.client_for("p2"))
    pools = [pooled.http for pooled in world.connections._clients.values()]
    arun(world.connections.aclose())
    assert all(pool.is_closed for pool in pools)
    assert world.sessions.last.closed


# ---- Entra ---------------------------------------------------------------------------------------------------------


def test_entra_token_auth_uses_the_cloud_scope(world: World, sim: Simulator, arun: Any) -> None:
    world.entra_profile(sim.base_url, default_deployment="gpt-4.1")
    target = arun(world.connections.target_for(None))
    arun(target.client.responses.create(model="gpt-4.1", input="hi"))
    assert sim.requests[-1].headers["authorization"] == f"Bearer {DEFAULT_TOKEN}"
    assert world.sessions.last.scopes == ["https://cognitiveservices.azure.com/.default"]
    assert target.auth_method == "entra"
    assert world.connections.account("p1") is not None


def test_signed_out_profile_asks_to_sign_in(world: World, sim: Simulator, arun: Any) -> None:
    world.entra_profile(sim.base_url, record=None, default_deployment="gpt-4.1")
    assert world.connections.account("p1") is None
    with pytest.raises(TurnSetupError) as excinfo:
        arun(world.connections.target_for(None))
    assert setup_error(excinfo) == ("Please sign in", ErrorAction.SIGN_IN)


def test_expired_sign_in_during_a_turn_offers_sign_in(
    world: World, sim: Simulator, store: HistoryStore, arun: Any
) -> None:
    world.entra_profile(sim.base_url, default_deployment="gpt-4.1")
    conversation = store.create_conversation(profile_id="p1")
    chat = ChatService(store, lambda cid: world.connections.target_for(store.get_conversation(cid)))
    arun(world.connections.client_for("p1"))
    world.sessions.last.expired = True
    finished = arun(collect(chat.send(conversation.id, "hello")))[-1]
    assert isinstance(finished, Finished)
    assert finished.error is not None
    assert (finished.error.title, finished.error.action) == ("Please sign in again", ErrorAction.SIGN_IN)


def test_sign_in_saves_the_record_and_sign_out_removes_it(world: World, sim: Simulator, arun: Any) -> None:
    world.entra_profile(sim.base_url, record=None, default_deployment="gpt-4.1")
    account = arun(world.connections.sign_in("p1"))
    assert account.username == "ada@contoso.example"
    assert world.saved_profile()["entra"]["authentication_record"] == RECORD
    assert arun(world.connections.restore("p1")) is True
    arun(world.connections.target_for(None))
    arun(world.connections.sign_out("p1"))
    assert world.sessions.last.signed_out
    assert world.saved_profile()["entra"].get("authentication_record") is None
    assert world.connections.account("p1") is None
    assert arun(world.connections.restore("p1")) is False


def test_restore_at_start_up(world: World, sim: Simulator, arun: Any) -> None:
    world.entra_profile(sim.base_url)
    assert world.connections.account("p1") is not None  # from the saved record, before any session exists
    assert arun(world.connections.restore("p1")) is True
    world.sessions.defaults["expired"] = True  # the next app start finds the sign-in expired
    later = Connections(world.configuration, world.keys, world.session_keys, entra_sessions=world.sessions)
    try:
        assert arun(later.restore("p1")) is False
    finally:
        arun(later.aclose())


def test_device_code_fallback_when_no_browser_opens(world: World, sim: Simulator, arun: Any) -> None:
    no_browser = EntraSignInError(SignInProblem("No web browser could be opened", "...", SignInAction.USE_DEVICE_CODE))
    world.sessions.defaults["browser_error"] = no_browser
    world.entra_profile(sim.base_url, record=None)
    prompts: list[tuple[str, str]] = []
    with pytest.raises(EntraSignInError) as excinfo:
        arun(world.connections.sign_in("p1"))
    assert excinfo.value.problem.action is SignInAction.USE_DEVICE_CODE
    account = arun(world.connections.sign_in("p1", lambda uri, code, expires: prompts.append((uri, code))))
    assert prompts == [("https://microsoft.com/devicelogin", "ABCD-1234")]
    assert account.record_json == world.saved_profile()["entra"]["authentication_record"]


def test_device_code_sign_in_directly(world: World, sim: Simulator, arun: Any) -> None:
    world.entra_profile(sim.base_url, record=None)
    codes: list[str] = []
    arun(world.connections.sign_in_device_code("p1", lambda uri, code, expires: codes.append(code)))
    assert codes == ["ABCD-1234"]
    assert world.connections.account("p1") is not None


def test_cancel_sign_in_ends_the_pending_attempt(world: World, sim: Simulator, arun: Any) -> None:
    world.sessions.defaults["hold_browser"] = True
    world.entra_profile(sim.base_url, record=None)

    arun(world.connections.client_for("p1"))  # builds the session without any request

    async def sign_in_then_cancel() -> BaseException | None:
        attempt = asyncio.ensure_future(world.connections.sign_in("p1"))
        await world.sessions.last.started.wait()
        world.connections.cancel_sign_in("p1")
        try:
            await attempt
        except SignInCancelledError as error:
            return error
        return None

    error = arun(sign_in_then_cancel())
    assert isinstance(error, SignInCancelledError)
    assert error.problem.action is SignInAction.NONE
    assert world.saved_profile()["entra"].get("authentication_record") is None


def test_unencrypted_cache_consent_reaches_the_session(world: World, sim: Simulator, arun: Any) -> None:
    world.entra_profile(sim.base_url, record=None)
    arun(world.connections.sign_in("p1"))
    assert world.sessions.last.allow_unencrypted is False
    arun(world.connections.sign_in("p1", allow_unencrypted=True))
    assert world.sessions.last.allow_unencrypted is True


def test_unexpected_sign_in_failures_become_plain_words(world: World, sim: Simulator, arun: Any) -> None:
    class Broken(FakeEntraSession):
        async def sign_in_browser(self) -> Any:
            raise RuntimeError("Failed to establish a new connection")

    connections = Connections(world.configuration, world.keys, world.session_keys, entra_sessions=Broken)
    world.entra_profile(sim.base_url, record=None)
    try:
        with pytest.raises(EntraSignInError) as excinfo:
            arun(connections.sign_in("p1"))
        assert excinfo.value.problem.action is SignInAction.CHECK_NETWORK
    finally:
        arun(connections.aclose())


def test_changing_the_tenant_replaces_the_session(world: World, sim: Simulator, arun: Any) -> None:
    profile = world.entra_profile(sim.base_url, default_deployment="gpt-4.1")
    arun(world.connections.client_for("p1"))
    first = world.sessions.last
    world.configuration.put_profile(replace(profile, entra=replace(profile.entra, tenant="contoso.onmicrosoft.com")))
    arun(world.connections.client_for("p1"))
    assert first.closed
    assert world.sessions.last is not first
    assert world.sessions.last.options.tenant == "contoso.onmicrosoft.com"


# ---- Azure CLI -----------------------------------------------------------------------------------------------------


def test_azure_cli_profile_uses_the_cli_session(world: World, sim: Simulator, arun: Any) -> None:
    made: list[tuple[str, str]] = []

    def cli(tenant: str, cloud: str) -> FakeEntraSession:
        made.append((tenant, cloud))
        from desktop.auth import EntraOptions

        return FakeEntraSession(EntraOptions(record_json=RECORD), False)

    connections = Connections(world.configuration, world.keys, world.session_keys, cli_sessions=cli)
    world.add_profile(sim.base_url, auth="azure_cli", default_deployment="gpt-4.1")
    try:
        target = arun(connections.target_for(None))
        arun(target.client.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "x"}]))
        assert sim.requests[-1].headers["authorization"] == f"Bearer {DEFAULT_TOKEN}"
        assert made == [("organizations", "public")]
        with pytest.raises(ValueError, match="does not use Microsoft Entra"):
            arun(connections.sign_in("p1"))
    finally:
        arun(connections.aclose())
