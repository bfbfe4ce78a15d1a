"""Shared fakes and fixtures for the connection, discovery and network tests (this module holds no tests)."""

from __future__ import annotations

import asyncio
import datetime
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from azure.identity import AuthenticationRequiredError

from desktop.auth import (
    EntraAccount,
    EntraOptions,
    EntraSignInError,
    KeyStore,
    SessionKeyStore,
    SignInCancelledError,
    SignInRequiredError,
    describe_sign_in_problem,
)
from desktop.config import Configuration, Profile, SettingsStore, normalize_endpoint
from desktop.config import EntraOptions as ProfileEntra
from desktop.services._connections import Connections
from desktop.simulator import DEFAULT_ARM_TOKEN, DEFAULT_TOKEN, Simulator
from tests.auth.fake_idp import make_test_ca

RECORD = json.dumps(
    {
        "username": "ada@contoso.example",
        "tenantId": "72f988bf-0000-4000-8000-000000000001",
        "homeAccountId": "u1.t1",
        "authority": "login.microsoftonline.com",
        "clientId": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        "version": "1.0",
    }
)


@dataclass
class FakeEntraSession:
    """Stands in for `EntraSession`: same surface, tokens the simulator accepts, scripted sign-in outcomes."""

    options: EntraOptions
    allow_unencrypted: bool
    token: str = DEFAULT_TOKEN
    browser_error: EntraSignInError | None = None
    hold_browser: bool = False
    expired: bool = False
    closed: bool = False
    signed_out: bool = False
    scopes: list[str | None] = field(default_factory=list)
    _account: EntraAccount | None = None
    _cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    started: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        if self.options.record_json:
            self._account = EntraAccount.from_record_json(self.options.record_json)

    @property
    def account(self) -> EntraAccount | None:
        return self._account

    def allow_unencrypted_storage(self) -> None:
        self.allow_unencrypted = True

    def cancel(self) -> None:
        self._cancelled.set()

    async def sign_in_browser(self) -> EntraAccount:
        self.started.set()
        if self.browser_error is not None:
            raise self.browser_error
        if self.hold_browser:
            await self._cancelled.wait()
            raise SignInCancelledError(describe_sign_in_problem("cancelled"))
        self._account = EntraAccount.from_record_json(RECORD)
        return self._account

    async def sign_in_device_code(self, prompt: Any) -> EntraAccount:
        prompt("https://microsoft.com/devicelogin", "ABCD-1234", datetime.datetime.now(datetime.UTC))
        self._account = EntraAccount.from_record_json(RECORD)
        return self._account

    async def sign_out(self) -> None:
        self._account = None
        self.signed_out = True

    def token_provider(self, scope: str | None = None) -> Any:
        async def provide() -> str:
            if self._account is None or self.expired:
                raise SignInRequiredError(describe_sign_in_problem(AuthenticationRequiredError([], message="expired")))
            self.scopes.append(scope)
            return DEFAULT_ARM_TOKEN if scope and "management" in scope else self.token

        return provide

    async def close(self) -> None:
        self.closed = True


@dataclass
class Sessions:
    """The Entra session factory handed to Connections; keeps every session it built."""

    made: list[FakeEntraSession] = field(default_factory=list)
    defaults: dict[str, Any] = field(default_factory=dict)

    def __call__(self, options: EntraOptions, allow_unencrypted: bool) -> FakeEntraSession:
        session = FakeEntraSession(options, allow_unencrypted, **self.defaults)
        self.made.append(session)
        return session

    @property
    def last(self) -> FakeEntraSession:
        return self.made[-1]


@dataclass
class World:
    """A configuration on disk, key stores, the fake sessions and the Connections under test."""

    configuration: Configuration
    keys: KeyStore
    session_keys: SessionKeyStore
    sessions: Sessions
    connections: Connections
    settings_file: Path

    def add_profile(self, endpoint: str, *, pid: str = "p1", auth: str = "api_key", **changes: Any) -> Profile:
        profile = Profile(
            id=pid,
            display_name=f"Profile {pid}",
            endpoint=normalize_endpoint(endpoint).base_url,
            auth_method=auth,  # type: ignore[arg-type]
            **changes,
        )
        self.configuration.put_profile(profile)
        self.configuration.update_app(active_profile_id=pid)
        return profile

    def entra_profile(self, endpoint: str, *, record: str | None = RECORD, **changes: Any) -> Profile:
        return self.add_profile(endpoint, auth="entra", entra=ProfileEntra(authentication_record=record), **changes)

    def saved(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.settings_file.read_text())
        return data

    def saved_profile(self, pid: str = "p1") -> dict[str, Any]:
        return next(p for p in self.saved()["profiles"] if p["id"] == pid)


@pytest.fixture
def world(tmp_path: Path, memory_keyring: Any, arun: Any) -> Iterator[World]:
    configuration = Configuration(SettingsStore(tmp_path / "config"))
    configuration.load()
    keys, session_keys, sessions = KeyStore(memory_keyring), SessionKeyStore(), Sessions()
    connections = Connections(configuration, keys, session_keys, entra_sessions=sessions, check_timeout=10.0)
    yield World(configuration, keys, session_keys, sessions, connections, tmp_path / "config" / "settings.json")
    arun(connections.aclose())


@pytest.fixture
def key_world(world: World, sim: Simulator) -> World:
    """A world with one API-key profile on the simulator (default deployment gpt-4.1) and its key in the keyring."""
    world.add_profile(sim.base_url, default_deployment="gpt-4.1")
    world.keys.set("p1", sim.api_key)
    return world


def with_deployment(world: World, deployment: str, pid: str = "p1") -> None:
    profile = world.configuration.settings.profile(pid)
    assert profile is not None
    world.configuration.put_profile(replace(profile, default_deployment=deployment))


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(ca.pem, cert.pem, key.pem): a throw-away CA and a 127.0.0.1 certificate it signed."""
    return make_test_ca(tmp_path_factory.mktemp("tls"))


class _JsonHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        payload = b'{"data": [], "object": "list"}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def tls_server(tls_files: tuple[Path, Path, Path]) -> Iterator[str]:
    """A loopback HTTPS server whose certificate no system trust store knows; yields its base URL."""
    _, cert, key = tls_files
    server = ThreadingHTTPServer(("127.0.0.1", 0), _JsonHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    # Handshakes happen in accept(); a client that rejects the certificate only makes accept() fail quietly.
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


def closed_port() -> int:
    """A loopback port nothing listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
