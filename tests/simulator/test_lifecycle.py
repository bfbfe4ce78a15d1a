"""Running the simulator: the async context manager, the thread, the command line, and client disconnects."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from desktop.simulator import RemoteAddressError, Simulator, SimulatorConfig, SimulatorThread, is_loopback

from .helpers import parse_sse, responses


def test_async_context_manager_serves_and_stops(arun: Callable[..., Any]) -> None:
    async def scenario() -> tuple[str, int]:
        async with Simulator(SimulatorConfig()) as sim, httpx.AsyncClient(base_url=sim.base_url) as client:
            assert sim.base_url.endswith("/openai/v1/")
            assert sim.base_url.startswith("http://127.0.0.1:")
            sim.push_answer("async ok")
            response = await client.post("responses", json=responses("hi"), headers={"api-key": sim.api_key})
            text = response.json()["output"][0]["content"][0]["text"]
            port = sim.port
        return text, port

    text, port = arun(scenario())
    assert text == "async ok"
    try:
        httpx.get(f"http://127.0.0.1:{port}/openai/v1/models", timeout=2)
        refused = False
    except httpx.ConnectError:
        refused = True
    assert refused


def test_paced_stream_ends_when_the_server_stops(arun: Callable[..., Any]) -> None:
    async def scenario() -> type[BaseException]:
        sim = Simulator(SimulatorConfig(tokens_per_second=1.0, answer_deltas=1000))
        await sim.start()
        async with (
            httpx.AsyncClient(base_url=sim.base_url, headers={"api-key": sim.api_key}) as client,
            client.stream("POST", "responses", json=responses("hi", stream=True)) as response,
        ):
            chunks = response.aiter_raw()
            first = await anext(chunks)
            assert b"response.created" in first
            stopping = asyncio.ensure_future(sim.stop())
            try:
                async for _ in chunks:
                    pass
            except httpx.RemoteProtocolError as exc:
                await stopping
                return type(exc)
        raise AssertionError("the stream should have been cut")

    assert arun(scenario()) is httpx.RemoteProtocolError


def test_client_closing_mid_stream_is_quiet_on_the_server(sim: SimulatorThread) -> None:
    # A cancelled answer: the client hangs up while the server is still writing 20,000 deltas. logfail proves the
    # server logs nothing above INFO, and the next request is served normally.
    sim.simulator.config.answer_deltas = 20_000
    with httpx.Client(base_url=sim.base_url, headers={"api-key": sim.api_key}) as http:
        with http.stream("POST", "responses", json=responses("hi", stream=True)) as response:
            assert b"response.created" in next(response.iter_raw())
        sim.simulator.config.answer_deltas = None
        sim.push_answer("still fine")
        events = parse_sse(http.post("responses", json=responses("hi", stream=True)).content)
        assert events[-1].json()["response"]["output"][0]["content"][0]["text"] == "still fine"


def test_thread_exposes_urls_and_key_after_start() -> None:
    sim = SimulatorThread()
    sim.start()
    try:
        assert sim.resource_url + "openai/v1/" == sim.base_url
        assert sim.arm_url + "/" == sim.resource_url
        response = httpx.get(sim.base_url + "models", headers={"api-key": sim.api_key})
        assert response.status_code == 200
        assert [r.path for r in sim.requests] == ["/openai/v1/models"]
    finally:
        sim.stop()


def test_thread_start_reports_a_taken_port() -> None:
    first = SimulatorThread()
    first.start()
    try:
        second = SimulatorThread(SimulatorConfig(port=first.simulator.port))
        try:
            second.start()
            started = True
        except OSError:
            started = False
        assert not started
    finally:
        first.stop()


def test_command_line_prints_url_and_key_and_stops_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "desktop.simulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        key_line = process.stdout.readline()
        base_url = first.rsplit(" ", 1)[1].strip()
        key = key_line.split(": ", 1)[1].strip()
        assert httpx.get(base_url + "models", headers={"api-key": key}).status_code == 200
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "stopped" in out
    assert "Traceback" not in err


def test_every_run_has_its_own_random_key(arun: Callable[..., Any]) -> None:
    first, second = SimulatorConfig(), SimulatorConfig()
    assert first.api_keys != second.api_keys
    assert all(len(key) >= 32 for key in (*first.api_keys, *second.api_keys))

    async def wrong_key_refused() -> tuple[int, int]:
        async with Simulator(first) as sim, httpx.AsyncClient(base_url=sim.base_url) as client:
            sim.push_answer("ok")
            good = await client.post("responses", json=responses("hi"), headers={"api-key": first.api_keys[0]})
            bad = await client.post("responses", json=responses("hi"), headers={"api-key": second.api_keys[0]})
            return good.status_code, bad.status_code

    assert arun(wrong_key_refused()) == (200, 401)


def test_non_loopback_addresses_are_refused_unless_allowed(arun: Callable[..., Any]) -> None:
    async def start(config: SimulatorConfig) -> str:
        async with Simulator(config) as sim:
            return sim.base_url

    for host in ("0.0.0.0", "::", "192.0.2.10"):
        with pytest.raises(RemoteAddressError, match="--allow-remote"):
            arun(start(SimulatorConfig(host=host)))
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    out = subprocess.run(
        [sys.executable, "-m", "desktop.simulator", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 2
    assert "--allow-remote" in out.stderr
    assert "Traceback" not in out.stderr
