"""Both Entra token scopes against the fake identity provider, and the scope each resource accepts remembered."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from fake_idp import EntraHarness
from keyring.backends import fail

from desktop.auth import EntraOptions, EntraSession, KeyStore, SessionKeyStore
from desktop.config import Configuration, Profile, SettingsStore, normalize_endpoint
from desktop.services._connections import AI_SCOPE, Connections
from desktop.simulator import Simulator, SimulatorConfig

COGNITIVE_SCOPE = "https://cognitiveservices.azure.com/.default"


def test_one_sign_in_gives_tokens_for_both_scopes(entra: EntraHarness, arun: Any) -> None:
    session = entra.session()
    arun(session.sign_in_browser())
    cognitive = arun(session.get_token(COGNITIVE_SCOPE)).token
    ai = arun(session.get_token(AI_SCOPE)).token
    scopes = entra.idp.access_scopes
    assert (scopes[cognitive], scopes[ai]) == (COGNITIVE_SCOPE, AI_SCOPE)


class _World:
    """Settings on disk, a simulator that accepts only tokens for one scope, and real sessions on the fake IdP."""

    def __init__(self, entra: EntraHarness, folder: Path, accepted: str, arun: Any) -> None:
        self.entra = entra
        self.asked: list[str | None] = []
        self.sim = Simulator(SimulatorConfig(tokens=()))
        arun(self.sim.start())

        def accept(token: str, scope: str) -> None:
            if scope == accepted:  # the resource checks the token's audience
                self.sim.config = dataclasses.replace(self.sim.config, tokens=(*self.sim.config.tokens, token))

        entra.idp.on_access_token = accept
        self.folder = folder
        configuration = self.configuration()
        configuration.put_profile(
            Profile(
                id="p1",
                display_name="Resource",
                endpoint=normalize_endpoint(self.sim.base_url).base_url,
                auth_method="entra",
                default_deployment="gpt-4.1",
            )
        )

    def configuration(self) -> Configuration:
        configuration = Configuration(SettingsStore(self.folder))
        configuration.load()
        return configuration

    def connections(self) -> Connections:
        asked = self.asked
        entra = self.entra

        class Recording(EntraSession):
            async def get_token(self, scope: str | None = None) -> Any:
                asked.append(scope)
                return await super().get_token(scope)

        def session(options: EntraOptions, allow_unencrypted: bool) -> EntraSession:
            record = entra.idp.reusable_record(options.record_json) if options.record_json else None
            made = Recording(
                dataclasses.replace(options, authority_host=entra.idp.host, record_json=record),
                cache_name=entra.cache_name,
                allow_unencrypted_storage=allow_unencrypted,
            )
            entra.sessions.append(made)
            return made

        return Connections(self.configuration(), KeyStore(fail.Keyring()), SessionKeyStore(), entra_sessions=session)


@pytest.mark.parametrize("accepted", [COGNITIVE_SCOPE, AI_SCOPE])
def test_the_scope_a_resource_accepts_is_found_recorded_and_remembered(
    entra: EntraHarness, tmp_path: Path, arun: Any, accepted: str
) -> None:
    world = _World(entra, tmp_path / "config", accepted, arun)
    connections = world.connections()
    try:
        arun(connections.sign_in("p1"))
        report = arun(connections.test_connection("p1"))
        assert report.ok, report.steps
        tried = [COGNITIVE_SCOPE] if accepted == COGNITIVE_SCOPE else [COGNITIVE_SCOPE, AI_SCOPE]
        assert list(dict.fromkeys(world.asked)) == tried
        saved = world.configuration().settings.profile("p1")
        assert saved is not None and saved.entra.scope == accepted  # recorded in the profile
        # Remembered for the resource in this session: the next chat is accepted (it needs no other scope).
        world.asked.clear()
        client = arun(connections.client_for("p1"))
        arun(client.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "hi"}]))
        assert set(world.asked) <= {accepted}
    finally:
        arun(connections.aclose())
    # And after a restart (a new service reading the saved profile), that scope is the one asked for first.
    world.asked.clear()
    later = world.connections()
    try:
        assert arun(later.restore("p1"))
        assert arun(later.test_connection("p1")).ok
        assert set(world.asked) == {accepted}
    finally:
        arun(later.aclose())
        arun(world.sim.stop())
