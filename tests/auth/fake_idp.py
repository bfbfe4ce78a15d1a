"""A fake Microsoft Entra identity provider on loopback HTTPS, to drive the real azure-identity + MSAL offline."""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import itertools
import json
import ssl
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from desktop.auth import EntraOptions, EntraSession

TENANT_ID = "72f988bf-0000-4000-8000-000000000001"
USER_ID = "9f2b7a3c-0000-4000-8000-000000000002"
USERNAME = "ada@contoso.example"
DECLINE_DESCRIPTION = "AADSTS65004: User declined to consent to access the app."
EXPIRED_RT_DESCRIPTION = "AADSTS700082: The refresh token has expired due to inactivity."


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_test_ca(directory: Path) -> tuple[Path, Path, Path]:
    """Write a throw-away CA and a localhost/127.0.0.1 server certificate; returns (ca.pem, cert.pem, key.pem)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Fake IdP test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = (directory / "ca.pem", directory / "cert.pem", directory / "key.pem")
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


@dataclass
class Behaviour:
    """How the fake user and directory behave; tests flip these between steps."""

    browser: str = "approve"  # "approve" | "decline" | "never" (the user never finishes)
    device_approved: bool = True
    refresh_tokens_expired: bool = False
    access_token_lifetime: int = 3600


@dataclass
class _Grant:
    client_id: str
    scope: str
    nonce: str | None = None
    code_challenge: str | None = None


@dataclass
class FakeIdentityProvider:
    """Serves openid-configuration, authorize, token and devicecode endpoints on https://localhost[:port]."""

    ca_file: Path
    cert_file: Path
    key_file: Path
    behaviour: Behaviour = field(default_factory=Behaviour)
    grants: Counter[str] = field(default_factory=Counter)  # token requests by grant_type
    #: The resource scope each access token was issued for (what a resource checks as the token's audience).
    access_scopes: dict[str, str] = field(default_factory=dict)
    #: Told (token, scope) of each access token issued, before the client gets it (a fake resource's audience check).
    on_access_token: Callable[[str, str], None] | None = None
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _codes: dict[str, _Grant] = field(default_factory=dict)
    _refresh_tokens: dict[str, _Grant] = field(default_factory=dict)
    _device_codes: dict[str, _Grant] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def host(self) -> str:
        """The authority host to configure (EntraOptions.authority_host)."""
        return "localhost" if self.port == 443 else f"localhost:{self.port}"

    def start(self, port: int) -> None:
        """Listen on 127.0.0.1:`port` (0 = any free port) in a daemon thread."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        server = ThreadingHTTPServer(("127.0.0.1", port), _make_handler(self))
        server.daemon_threads = True
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True, name="fake-idp").start()

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def reset(self) -> None:
        """Forget every grant and restore default behaviour (between tests)."""
        with self._lock:
            self.behaviour = Behaviour()
            self.grants.clear()
            self.access_scopes.clear()
            self.on_access_token = None
            self._codes.clear()
            self._refresh_tokens.clear()
            self._device_codes.clear()

    def reusable_record(self, record_json: str) -> str:
        """Make a saved record usable again: on a non-443 port its bare "host:port" authority is rejected on reuse."""
        if self.port == 443:
            return record_json
        data = json.loads(record_json)
        data["authority"] = f"https://{self.host}"
        return json.dumps(data)

    def open_browser(self, url: str, *args: Any, **kwargs: Any) -> bool:
        """Stand-in for webbrowser.open: a thread plays the user in the browser, like a real one would."""
        threading.Thread(target=self.play_user, args=(url,), daemon=True, name="fake-browser").start()
        return True

    def play_user(self, url: str) -> None:
        """Do what the configured user does on the authorize page (blocking)."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        with urllib.request.urlopen(url, context=context, timeout=10) as response:
            page = json.loads(response.read())
        if page.get("post_to"):
            body = urllib.parse.urlencode(page["fields"]).encode()
            with urllib.request.urlopen(page["post_to"], data=body, timeout=10):
                pass

    # --- endpoint logic (called from handler threads) ---

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    def openid_configuration(self, tenant: str) -> dict[str, Any]:
        """The discovery document MSAL fetches first."""
        base = f"https://{self.host}/{tenant}"
        return {
            "issuer": f"https://{self.host}/{TENANT_ID}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "response_modes_supported": ["query", "fragment", "form_post"],
        }

    def authorize(self, query: dict[str, str]) -> dict[str, Any]:
        """The authorize page, as instructions for the fake browser: what to post to the redirect URI."""
        redirect = query["redirect_uri"]
        if self.behaviour.browser == "never":
            return {}
        if self.behaviour.browser == "decline":
            fields = {"error": "access_denied", "error_description": DECLINE_DESCRIPTION, "state": query["state"]}
            return {"post_to": redirect, "fields": fields}
        code = self._new_id("code")
        with self._lock:
            self._codes[code] = _Grant(
                query["client_id"], query["scope"], query.get("nonce"), query.get("code_challenge")
            )
        return {"post_to": redirect, "fields": {"code": code, "state": query["state"], "client_info": _client_info()}}

    def device_code(self, form: dict[str, str]) -> dict[str, Any]:
        """Start a device-code flow."""
        device_code = self._new_id("device")
        with self._lock:
            self._device_codes[device_code] = _Grant(form["client_id"], form["scope"])
        return {
            "device_code": device_code,
            "user_code": "FAKE-CODE",
            "verification_uri": f"https://{self.host}/devicelogin",
            "expires_in": 900,
            "interval": 1,
            "message": "Open the page and enter the code",
        }

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Redeem an authorization code (PKCE-checked), a refresh token or a device code."""
        grant_type = form.get("grant_type", "")
        with self._lock:
            self.grants[grant_type] += 1
            if grant_type == "authorization_code":
                grant = self._codes.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                challenge = _b64url(hashlib.sha256(verifier.encode()).digest())
                if grant is None or grant.code_challenge != challenge:
                    return 400, _error("invalid_grant", "AADSTS54005: The code was already redeemed or is wrong.")
            elif grant_type == "refresh_token":
                grant = self._refresh_tokens.get(form.get("refresh_token", ""))
                if grant is None or self.behaviour.refresh_tokens_expired:
                    return 400, _error("invalid_grant", EXPIRED_RT_DESCRIPTION)
                grant = _Grant(grant.client_id, form.get("scope", grant.scope))
            elif grant_type == "urn:ietf:params:oauth:grant-type:device_code":
                grant = self._device_codes.get(form.get("device_code", ""))
                if grant is None:
                    return 400, _error("expired_token", "AADSTS70020: The device code expired.")
                if not self.behaviour.device_approved:
                    return 400, _error("authorization_pending", "AADSTS70016: Pending end-user authorization.")
                del self._device_codes[form["device_code"]]
            else:
                return 400, _error("unsupported_grant_type", f"AADSTS70003: {grant_type!r} is not supported.")
            refresh_token = self._new_id("rt")
            self._refresh_tokens[refresh_token] = grant
        return 200, self._tokens(grant, refresh_token)

    def _tokens(self, grant: _Grant, refresh_token: str) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "aud": grant.client_id,
            "iss": f"https://{self.host}/{TENANT_ID}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "name": "Ada Lovelace",
            "oid": USER_ID,
            "preferred_username": USERNAME,
            "sub": "fake-subject",
            "tid": TENANT_ID,
            "ver": "2.0",
        }
        if grant.nonce:
            claims["nonce"] = grant.nonce
        # MSAL >= 1.38 no longer validates ID token signatures, so an unsigned JWT is enough.
        id_token = ".".join((_b64url(b'{"alg":"none","typ":"JWT"}'), _b64url(json.dumps(claims).encode()), ""))
        reserved = {"openid", "profile", "offline_access"}
        scope = " ".join(s for s in grant.scope.split() if s not in reserved)
        access_token = self._new_id("at")
        self.access_scopes[access_token] = scope
        if self.on_access_token is not None:
            self.on_access_token(access_token, scope)
        return {
            "token_type": "Bearer",
            "scope": scope,
            "expires_in": self.behaviour.access_token_lifetime,
            "ext_expires_in": self.behaviour.access_token_lifetime,
            "access_token": access_token,
            "refresh_token": refresh_token,
            "id_token": id_token,
            "client_info": _client_info(),
        }


def _client_info() -> str:
    return _b64url(json.dumps({"uid": USER_ID, "utid": TENANT_ID}).encode())


def _error(code: str, description: str) -> dict[str, Any]:
    return {"error": code, "error_description": description, "error_codes": [], "timestamp": "", "trace_id": ""}


def _make_handler(idp: FakeIdentityProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

        def _reply(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            tenant = url.path.strip("/").split("/", 1)[0]
            query = dict(urllib.parse.parse_qsl(url.query))
            if url.path.endswith("/v2.0/.well-known/openid-configuration"):
                self._reply(200, idp.openid_configuration(tenant))
            elif url.path.endswith("/oauth2/v2.0/authorize"):
                self._reply(200, idp.authorize(query))
            else:
                self._reply(404, _error("not_found", self.path))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            if self.path.endswith("/oauth2/v2.0/token"):
                self._reply(*idp.token(form))
            elif self.path.endswith("/oauth2/v2.0/devicecode"):
                self._reply(200, idp.device_code(form))
            else:
                self._reply(404, _error("not_found", self.path))

    return Handler


@dataclass
class EntraHarness:
    """Builds sessions against the fake IdP, each test with its own cache name."""

    idp: FakeIdentityProvider
    cache_name: str
    sessions: list[EntraSession]

    def options(self, record_json: str | None = None, **changes: Any) -> EntraOptions:
        """Options pointing at the fake IdP."""
        record = self.idp.reusable_record(record_json) if record_json else None
        return EntraOptions(authority_host=self.idp.host, record_json=record, **changes)

    def session(self, record_json: str | None = None, **kwargs: Any) -> EntraSession:
        """A session (closed after the test) using this test's cache."""
        kwargs.setdefault("cache_name", self.cache_name)
        session = EntraSession(self.options(record_json), **kwargs)
        self.sessions.append(session)
        return session
