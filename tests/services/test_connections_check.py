"""The connection test against the simulator, a closed port, an untrusted certificate and a dead proxy."""

from __future__ import annotations

from typing import Any

import pytest

from desktop.services._connections import Connections
from desktop.simulator import DEFAULT_TOKEN_WITHOUT_ROLE, Fault, Simulator, SimulatorConfig
from tests.services.test_connections_fixtures import (
    World,
    closed_port,
    key_world,
    tls_files,
    tls_server,
    world,
)

__all__ = ["key_world", "tls_files", "tls_server", "world"]  # fixtures used here


def titles(report: Any) -> list[tuple[str, bool]]:
    return [(step.title, step.ok) for step in report.steps]


@pytest.mark.parametrize(
    ("deployment", "responses", "chat", "api"),
    [
        ("gpt-4.1", True, True, "responses"),
        ("gpt-4o-mini", False, True, "chat"),
        ("o4-mini", True, True, "responses"),
    ],
)
def test_each_simulator_deployment(
    key_world: World, sim: Simulator, arun: Any, deployment: str, responses: bool, chat: bool, api: str
) -> None:
    report = arun(key_world.connections.test_connection("p1", deployment))
    host = sim.base_url.split("/")[2]
    assert titles(report) == [
        (f"Reach {host}", True),
        ("API key accepted", True),
        (f"Deployment “{deployment}” found", True),
        ("Responses", True),
        ("Chat Completions", True),
    ]
    # A way of answering the model does not offer is a neutral note, never a failure next to "Everything works".
    assert [step.neutral for step in report.steps[3:]] == [not responses, not chat]
    assert (report.ok, report.api, report.deployment) == (True, api, deployment)
    assert report.summary == f"Everything works: “{deployment}” answers."
    saved = next(d for d in key_world.saved_profile()["deployments"] if d["name"] == deployment)
    assert saved["api"] == api
    # One attempt per request (max_retries=0 per request), with small token limits.
    assert {r.retry_count for r in sim.requests} == {0}
    bodies = [r.json for r in sim.requests if r.method == "POST"]
    assert [b.get("max_output_tokens", b.get("max_completion_tokens")) for b in bodies] == [16, 16]


def test_unsupported_responses_is_explained(key_world: World, arun: Any) -> None:
    report = arun(key_world.connections.test_connection("p1", "gpt-4o-mini"))
    responses = next(step for step in report.steps if step.title == "Responses")
    assert (responses.ok, responses.neutral) == (True, True)
    assert responses.message == "Not offered by this model: this model answers through Chat Completions."


def test_a_server_error_is_not_retried_and_nothing_is_recorded(key_world: World, sim: Simulator, arun: Any) -> None:
    sim.push_fault(Fault(status=500, path="/responses"))
    report = arun(key_world.connections.test_connection("p1"))
    assert report.ok
    assert report.api is None
    responses = next(step for step in report.steps if step.title == "Responses")
    assert not responses.ok
    assert responses.message.startswith("Could not be checked: Azure had a problem.")
    assert [r.path for r in sim.requests].count("/openai/v1/responses") == 1
    assert "deployments" not in key_world.saved_profile() or not key_world.saved_profile()["deployments"]


def test_wrong_key(key_world: World, sim: Simulator, arun: Any) -> None:
    key_world.keys.replace("p1", "wrong-key-0123456789abcdef")
    report = arun(key_world.connections.test_connection("p1"))
    assert not report.ok
    assert titles(report)[-1] == ("API key accepted", False)
    assert report.summary.startswith("The API key was not accepted.")
    assert len(sim.requests) == 1


def test_missing_key(world: World, sim: Simulator, arun: Any) -> None:
    world.add_profile(sim.base_url, default_deployment="gpt-4.1")
    report = arun(world.connections.test_connection("p1"))
    assert titles(report) == [("API key accepted", False)]
    assert report.summary.startswith("No API key for this connection.")
    assert sim.requests == []


def test_unknown_deployment_lists_the_ones_that_exist(key_world: World, arun: Any) -> None:
    report = arun(key_world.connections.test_connection("p1", "gpt-5-typo"))
    assert titles(report)[-1] == ("Deployment “gpt-5-typo” found", False)
    assert report.summary.startswith("This deployment does not exist.")
    assert report.summary.endswith("This resource has: gpt-4.1, gpt-4o-mini, o4-mini.")


def test_no_deployment_chosen(world: World, sim: Simulator, arun: Any) -> None:
    world.add_profile(sim.base_url)
    world.keys.set("p1", sim.api_key)
    report = arun(world.connections.test_connection("p1"))
    assert titles(report)[-1] == ("Deployment chosen", False)
    assert "gpt-4o-mini" in report.summary


def test_resource_without_deployment_listing(world: World, arun: Any) -> None:
    async def run() -> Any:
        async with Simulator(SimulatorConfig(data_plane_deployments=False)) as sim:
            world.add_profile(sim.base_url, default_deployment="gpt-4.1")
            world.keys.set("p1", sim.api_key)
            return await world.connections.test_connection("p1")

    report = arun(run())
    assert report.ok
    assert [ok for _, ok in titles(report)] == [True] * 5


def test_unreachable_port(world: World, memory_keyring: Any, arun: Any) -> None:
    world.add_profile(f"http://127.0.0.1:{closed_port()}/", default_deployment="gpt-4.1")
    world.keys.set("p1", "0123456789abcdef0123")
    report = arun(world.connections.test_connection("p1"))
    assert len(report.steps) == 1
    assert not report.ok
    assert report.summary.startswith("Nothing answered at this address.")


def test_untrusted_certificate_is_named(world: World, tls_server: str, arun: Any) -> None:
    world.add_profile(tls_server, default_deployment="gpt-4.1")
    world.keys.set("p1", "0123456789abcdef0123")
    report = arun(world.connections.test_connection("p1"))
    assert len(report.steps) == 1
    assert report.summary.startswith("The connection is not trusted.")
    assert "ask IT" in report.summary


def test_dead_manual_proxy_is_named(world: World, arun: Any) -> None:
    # Not loopback, so it must go through the proxy, which is a closed local port: no real network is touched.
    world.add_profile("https://contoso-east.openai.azure.com/", default_deployment="gpt-4.1")
    world.keys.set("p1", "0123456789abcdef0123")
    world.configuration.update_app(proxy=f"http://127.0.0.1:{closed_port()}")
    report = arun(world.connections.test_connection("p1"))
    assert report.summary.startswith("The proxy did not let the connection through.")


def test_entra_not_signed_in(world: World, sim: Simulator, arun: Any) -> None:
    world.entra_profile(sim.base_url, record=None, default_deployment="gpt-4.1")
    report = arun(world.connections.test_connection("p1"))
    assert titles(report) == [("Sign-in accepted", False)]
    assert report.summary.startswith("Please sign in again.")


def test_entra_without_the_role(world: World, sim: Simulator, arun: Any) -> None:
    world.sessions.defaults["token"] = DEFAULT_TOKEN_WITHOUT_ROLE
    world.entra_profile(sim.base_url, default_deployment="gpt-4.1")
    report = arun(world.connections.test_connection("p1"))
    assert titles(report)[-1] == ("Sign-in accepted", False)
    host = sim.base_url.split("/")[2].split(":")[0]
    assert "Cognitive Services OpenAI User" in report.summary
    assert f"“{host}”" in report.summary and "up to 5 minutes" in report.summary


def test_entra_signed_in_works(world: World, sim: Simulator, arun: Any) -> None:
    world.entra_profile(sim.base_url, default_deployment="o4-mini")
    report = arun(world.connections.test_connection("p1"))
    assert report.ok
    assert report.api == "responses"
    assert ("Sign-in accepted", True) in titles(report)


def test_separate_connections_object_uses_the_os_trust_store(world: World, tls_server: str, arun: Any) -> None:
    # Without an injected context the connection goes through truststore (the OS store), which rejects the test CA.
    connections = Connections(world.configuration, world.keys, world.session_keys)
    world.add_profile(tls_server, default_deployment="gpt-4.1")
    world.keys.set("p1", "0123456789abcdef0123")
    try:
        report = arun(connections.test_connection("p1"))
    finally:
        arun(connections.aclose())
    assert report.summary.startswith("The connection is not trusted.")
