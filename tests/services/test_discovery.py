"""Deployment discovery: the data plane with a key, ARM with a sign-in, and plain degradation when either fails."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from desktop.auth import EntraSignInError, SignInAction, SignInProblem
from desktop.services._discovery import TYPE_THE_NAME, DiscoveredDeployment, list_from_arm
from desktop.simulator import DEFAULT_ARM_TOKEN, Fault, Simulator, SimulatorConfig
from desktop.simulator._azure import arm_error_body
from tests.services.test_connections_fixtures import World, key_world, world

__all__ = ["key_world", "world"]  # fixtures used here


def test_data_plane_with_a_key(key_world: World, sim: Simulator, arun: Any) -> None:
    result = arun(key_world.connections.discover_deployments("p1"))
    assert result.source == "data_plane"
    assert result.message is None
    assert [d.label for d in result.deployments] == [
        "gpt-4.1 on 127.0.0.1",
        "gpt-4o-mini on 127.0.0.1",
        "o4-mini on 127.0.0.1",
    ]
    assert {d.endpoint for d in result.deployments} == {sim.base_url}
    assert sim.requests[-1].headers["api-key"] == sim.api_key


def test_data_plane_missing_degrades_to_typing_the_name(world: World, arun: Any) -> None:
    async def run() -> Any:
        async with Simulator(SimulatorConfig(data_plane_deployments=False)) as sim:
            world.add_profile(sim.base_url)
            world.keys.set("p1", sim.api_key)
            return await world.connections.discover_deployments("p1")

    result = arun(run())
    assert (result.deployments, result.source) == ((), "none")
    assert result.message == f"This resource does not list its deployments. {TYPE_THE_NAME}"


def test_wrong_key_degrades_too(key_world: World, arun: Any) -> None:
    key_world.keys.replace("p1", "wrong-key-0123456789abcdef")
    result = arun(key_world.connections.discover_deployments("p1"))
    assert result.deployments == ()
    assert result.message is not None
    assert result.message.endswith(TYPE_THE_NAME)


def test_missing_key_degrades_with_the_reason(world: World, sim: Simulator, arun: Any) -> None:
    world.add_profile(sim.base_url)
    result = arun(world.connections.discover_deployments("p1"))
    assert result.deployments == ()
    assert result.message is not None
    assert "Paste the key" in result.message


def test_arm_with_entra(world: World, sim: Simulator, arun: Any) -> None:
    world.entra_profile(sim.base_url)
    result = arun(world.connections.discover_deployments("p1", arm_base_url=sim.arm_url))
    assert result.source == "arm"
    assert result.message is None
    assert [d.label for d in result.deployments] == [
        "gpt-4.1 on sim-openai",
        "gpt-4o-mini on sim-openai",
        "o4-mini on sim-openai",
    ]
    assert result.deployments[1] == DiscoveredDeployment(
        "gpt-4o-mini", "gpt-4o-mini", "2024-07-18", "sim-openai", sim.base_url, "OpenAI"
    )
    arm = [r for r in sim.requests if r.path.startswith("/subscriptions")]
    assert len(arm) == 3
    assert all(r.headers["authorization"] == f"Bearer {DEFAULT_ARM_TOKEN}" for r in arm)
    assert all("api-version" in r.query for r in arm)
    assert "https://management.azure.com/.default" in world.sessions.last.scopes


def test_arm_403_falls_back_to_the_data_plane(world: World, sim: Simulator, arun: Any) -> None:
    world.entra_profile(sim.base_url)
    denied = arm_error_body("AuthorizationFailed", "The client does not have authorization to perform action.")
    sim.push_fault(Fault(status=403, body=denied, path="/subscriptions"))
    result = arun(world.connections.discover_deployments("p1", arm_base_url=sim.arm_url))
    assert result.source == "data_plane"
    assert len(result.deployments) == 3


def test_arm_403_and_no_data_plane_degrade_to_typing_the_name(world: World, arun: Any) -> None:
    denied = arm_error_body("AuthorizationFailed", "The client does not have authorization to perform action.")

    async def run() -> Any:
        async with Simulator(SimulatorConfig(data_plane_deployments=False)) as sim:
            world.entra_profile(sim.base_url)
            sim.push_fault(Fault(status=403, body=denied, path="/subscriptions"))
            return await world.connections.discover_deployments("p1", arm_base_url=sim.arm_url)

    result = arun(run())
    assert (result.deployments, result.source) == ((), "none")
    assert result.message == (
        f"Your account may not list Azure resources (it needs at least the Reader role). {TYPE_THE_NAME}"
    )


def test_arm_unreachable_and_signed_out(world: World, sim: Simulator, arun: Any) -> None:
    world.entra_profile(sim.base_url, record=None)
    result = arun(world.connections.discover_deployments("p1", arm_base_url=sim.arm_url))
    assert result.deployments == ()
    assert result.message is not None
    assert result.message.endswith(TYPE_THE_NAME)
    assert "Sign in again" in result.message


# ---- ARM edge cases on a mock transport ----------------------------------------------------------------------------


def _arm_routes(pages: dict[str, Any]) -> tuple[httpx.AsyncClient, list[str]]:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        body = pages.get(request.url.path)
        return httpx.Response(200, json=body) if body is not None else httpx.Response(404, json={})

    return httpx.AsyncClient(transport=httpx.MockTransport(handler)), seen


async def _token() -> str:
    return "arm"


SUB1 = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
SUB2 = "11111111-2222-3333-4444-555555555555"


def test_ai_services_endpoint_paging_and_filtering(arun: Any) -> None:
    account = f"/subscriptions/{SUB1}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/contoso-east"
    pages = {
        "/subscriptions": {"value": [{"subscriptionId": SUB1}, {"subscriptionId": SUB2}]},
        f"/subscriptions/{SUB1}/providers/Microsoft.CognitiveServices/accounts": {
            "value": [
                {
                    "id": account,
                    "name": "contoso-east",
                    "kind": "AIServices",
                    "properties": {
                        "endpoint": "https://contoso-east.cognitiveservices.azure.com/",
                        "endpoints": {"OpenAI Language Model Instance API": "https://contoso-east.openai.azure.com/"},
                    },
                },
                {
                    "id": "/x/speech",
                    "name": "speech",
                    "kind": "SpeechServices",
                    "properties": {"endpoint": "https://s/"},
                },
            ],
            "nextLink": "https://evil.example/steal?token",
        },
        f"{account}/deployments": {
            "value": [
                {
                    "name": "chat",
                    "properties": {
                        "model": {"name": "gpt-4o", "version": "1"},
                        "capabilities": {"chatCompletion": "true"},
                    },
                },
                {
                    "name": "embed",
                    "properties": {"model": {"name": "text-embedding-3"}, "capabilities": {"embeddings": "true"}},
                },
                {"name": 42},
            ]
        },
    }
    http, seen = _arm_routes(pages)

    async def run() -> Any:
        async with http:
            return await list_from_arm(http, "https://arm.test", _token, timeout=5)

    result = arun(run())
    assert [d.label for d in result.deployments] == ["chat (gpt-4o) on contoso-east"]
    assert result.deployments[0].endpoint == "https://contoso-east.openai.azure.com/openai/v1/"
    assert not any("evil" in url for url in seen)  # the token never follows a link off the ARM host
    # s2 answered 404: the rest is still shown, with a note that some may be missing.
    assert result.message is not None
    assert result.message.endswith("Some deployments may be missing.")


def test_arm_garbage_and_token_failure(arun: Any) -> None:
    http, _ = _arm_routes({"/subscriptions": {"value": "nonsense"}})

    async def no_token() -> str:
        raise EntraSignInError(
            SignInProblem("Please sign in again", "Your sign-in has expired.", SignInAction.SIGN_IN_AGAIN)
        )

    async def run() -> Any:
        async with http:
            empty = await list_from_arm(http, "https://arm.test", _token, timeout=5)
            failed = await list_from_arm(http, "https://arm.test", no_token, timeout=5)
            return empty, failed

    empty, failed = arun(run())
    assert empty.message == f"No Azure OpenAI deployments were found for your account. {TYPE_THE_NAME}"
    assert failed.message == f"Your sign-in has expired. {TYPE_THE_NAME}"
    assert failed.deployments == ()
    assert failed.source == "none"


@pytest.mark.parametrize(
    "account_id",
    [
        ".attacker.example/x",
        f"/subscriptions/{SUB1}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a/../../../../x",
        f"/subscriptions/{SUB1}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a?steal=1",
        f"/subscriptions/{SUB1}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a@evil.example",
        "https://evil.example/subscriptions/x",
    ],
)
def test_arm_urls_come_only_from_validated_ids(arun: Any, account_id: str, logfail: Any) -> None:
    logfail.allow("desktop.services._discovery", "refused")
    pages = {
        "/subscriptions": {"value": [{"subscriptionId": SUB1}, {"subscriptionId": "../../evil"}]},
        f"/subscriptions/{SUB1}/providers/Microsoft.CognitiveServices/accounts": {
            "value": [
                {
                    "id": account_id,
                    "name": "a",
                    "kind": "OpenAI",
                    "properties": {"endpoint": "https://a.openai.azure.com/"},
                }
            ]
        },
    }
    sent_to: list[httpx.URL] = []
    inner, _ = _arm_routes(pages)

    async def record(request: httpx.Request) -> httpx.Response:
        sent_to.append(request.url)
        return await inner._transport.handle_async_request(request)  # type: ignore[arg-type]

    http = httpx.AsyncClient(transport=httpx.MockTransport(record))

    async def run() -> Any:
        async with http, inner:
            return await list_from_arm(http, "https://management.azure.com", _token, timeout=5)

    result = arun(run())
    assert result.deployments == ()
    assert {u.host for u in sent_to} == {"management.azure.com"}
    assert all("evil" not in str(u) and ".." not in u.path for u in sent_to)
    assert len(sent_to) == 2  # the subscriptions and the one valid subscription's accounts: nothing else


def test_arm_redirects_are_not_followed(arun: Any) -> None:
    sent_to: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent_to.append(request.url)
        return httpx.Response(302, headers={"location": "https://evil.example/steal"})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler), follow_redirects=True)

    async def run() -> Any:
        async with http:
            return await list_from_arm(http, "https://management.azure.com", _token, timeout=5)

    result = arun(run())
    assert result.deployments == ()
    assert [u.host for u in sent_to] == ["management.azure.com"]
