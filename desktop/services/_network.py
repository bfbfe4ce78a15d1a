"""The HTTP connection pool every Azure call goes through: OS trust store for TLS, proxies as the user set them."""

from __future__ import annotations

import functools
import importlib
import re
import ssl
import urllib.request
from dataclasses import dataclass

import httpx

from desktop.config import PROXY_NONE, PROXY_SYSTEM

__all__ = [
    "NetworkProblem",
    "NetworkSettingsError",
    "describe_network_problem",
    "make_http_client",
    "os_ssl_context",
    "proxy_in_use",
]

# Loopback never goes through a proxy: the demo simulator (and a local gateway) must work whatever the proxy says.
_LOOPBACK_DIRECT: dict[str, httpx.AsyncBaseTransport | None] = {
    "all://127.0.0.1": None,
    "all://localhost": None,
    "all://[::1]": None,
}


class NetworkSettingsError(ValueError):
    """The network settings cannot be used; `str(error)` is a sentence for the user."""


@functools.cache
def os_ssl_context() -> ssl.SSLContext:
    """A TLS context trusting what the operating system trusts (IT's proxy certificate works as in the browser)."""
    import truststore

    context: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return context


# Imported by httpx only when the first connection opens (anyio's asyncio backend is httpcore's network backend).
_FIRST_REQUEST_MODULES = ("httpcore", "h11", "sniffio", "anyio._backends._asyncio", "anyio.streams.tls")


def warm_up_network() -> None:
    """Load what the first request needs and the app has not loaded yet: the HTTP stack's lazily imported modules
    (httpcore, anyio's asyncio backend, h11) and the operating system's trust store (`os_ssl_context`, about 50 ms).

    Meant for a worker thread right after the window shows: the first request, on the event loop's thread, then
    finds them ready instead of stalling the window while it loads them. Plain imports and file reads, the same on
    every platform.
    """
    for module in _FIRST_REQUEST_MODULES:
        importlib.import_module(module)
    os_ssl_context()


def make_http_client(
    proxy: str = PROXY_SYSTEM, *, timeout: float = 600.0, verify: ssl.SSLContext | None = None
) -> httpx.AsyncClient:
    """Build the connection pool for one profile: "system" proxy (environment / OS settings), "none", or a URL."""
    # "system": httpx reads the environment through urllib.request.getproxies(), which on Windows and macOS also
    # returns the proxy configured in the OS settings.
    manual = proxy not in (PROXY_SYSTEM, PROXY_NONE)
    try:
        return httpx.AsyncClient(
            verify=verify or os_ssl_context(),
            trust_env=proxy == PROXY_SYSTEM,
            proxy=proxy if manual else None,
            mounts=dict(_LOOPBACK_DIRECT),
            timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
            follow_redirects=False,
        )
    except ImportError:
        # httpx needs the optional `socksio` package for socks5:// proxies.
        raise NetworkSettingsError(
            "SOCKS proxies are not supported by this installation. Use an http:// proxy address in Settings."
        ) from None
    except ValueError as error:
        raise NetworkSettingsError(f"The proxy address in Settings cannot be used ({error}).") from None


def proxy_in_use(proxy: str) -> bool:
    """Whether requests go through a proxy: a manual one, or one from the environment / OS settings."""
    if proxy == PROXY_NONE:
        return False
    if proxy != PROXY_SYSTEM:
        return True
    found = urllib.request.getproxies()
    return bool(found.get("https") or found.get("http") or found.get("all"))


@dataclass(frozen=True)
class NetworkProblem:
    """A failed connection in plain words; `kind` is certificate, tls, dns, refused, proxy, timeout or other."""

    kind: str
    title: str
    explanation: str


_CERTIFICATE = re.compile(r"CERTIFICATE_VERIFY_FAILED|certificate verify failed|self[- ]signed", re.IGNORECASE)
_TLS = re.compile(r"\bSSL\b|\bTLS\b|WRONG_VERSION_NUMBER|handshake", re.IGNORECASE)
_DNS = re.compile(
    r"Name or service not known|nodename nor servname|getaddrinfo failed|Temporary failure in name resolution"
    r"|No address associated|Errno -[235]\b|Errno 1100[14]\b",
    re.IGNORECASE,
)
_REFUSED = re.compile(r"refused|All connection attempts failed|Connect call failed|Errno 111\b", re.IGNORECASE)
_PROXY = re.compile(r"proxy", re.IGNORECASE)


def describe_network_problem(message: str, *, host: str, proxy: str, timed_out: bool = False) -> NetworkProblem:
    """Name what stopped a connection to `host` (from the error text and the proxy setting) in plain words."""
    via_proxy = proxy_in_use(proxy)
    if timed_out:
        return NetworkProblem(
            "timeout",
            "No answer in time",
            f"{host} did not answer in time. Check your internet connection or VPN, and try again.",
        )
    if _CERTIFICATE.search(message):
        return NetworkProblem(
            "certificate",
            "The connection is not trusted",
            f"The security certificate presented for {host} is not trusted by this computer. On company networks "
            "this usually means a proxy inspects traffic: ask IT to install your organisation's certificate.",
        )
    if _PROXY.search(message) or (via_proxy and _REFUSED.search(message)):
        return NetworkProblem(
            "proxy",
            "The proxy did not let the connection through",
            "The proxy set in Settings could not be reached or refused the connection. Check the proxy address in "
            "Settings, or ask IT which proxy to use.",
        )
    if _TLS.search(message):
        return NetworkProblem(
            "tls",
            "A secure connection could not be set up",
            f"The app reached {host} but could not agree on a secure connection. Check that the address in Settings "
            "is right (it should start with https://).",
        )
    if _DNS.search(message):
        return NetworkProblem(
            "dns",
            "The address could not be found",
            f"The name {host} could not be found. Check the address in Settings for typos, and check your internet "
            "connection or VPN.",
        )
    if _REFUSED.search(message):
        return NetworkProblem(
            "refused",
            "Nothing answered at this address",
            f"Nothing answered at {host}. Check the address in Settings, and that your VPN is connected.",
        )
    return NetworkProblem(
        "other",
        "Cannot reach the service",
        f"The app could not connect to {host} ({message}). Check your internet connection or VPN.",
    )
