"""The connection pool: OS trust store, proxy settings, loopback always direct, and network problems in plain words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from desktop.services._network import (
    NetworkSettingsError,
    describe_network_problem,
    make_http_client,
    os_ssl_context,
    proxy_in_use,
)
from desktop.simulator import Simulator
from tests.services.test_connections_fixtures import closed_port, tls_files, tls_server

__all__ = ["tls_files", "tls_server"]  # fixtures used here


@pytest.mark.parametrize(
    ("message", "proxy", "kind", "title"),
    [
        (
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate",
            "none",
            "certificate",
            "The connection is not trusted",
        ),
        ("[SSL: WRONG_VERSION_NUMBER] wrong version number", "none", "tls", "A secure connection could not be set up"),
        ("[Errno -2] Name or service not known", "none", "dns", "The address could not be found"),
        ("[Errno 11001] getaddrinfo failed", "none", "dns", "The address could not be found"),
        ("All connection attempts failed", "none", "refused", "Nothing answered at this address"),
        ("[Errno 111] Connection refused", "none", "refused", "Nothing answered at this address"),
        (
            "All connection attempts failed",
            "http://proxy:8080",
            "proxy",
            "The proxy did not let the connection through",
        ),
        ("407 Proxy Authentication Required", "none", "proxy", "The proxy did not let the connection through"),
        ("Server disconnected without sending a response.", "none", "other", "Cannot reach the service"),
    ],
)
def test_problems_are_named(message: str, proxy: str, kind: str, title: str) -> None:
    problem = describe_network_problem(message, host="contoso.openai.azure.com", proxy=proxy)
    assert (problem.kind, problem.title) == (kind, title)
    if kind in ("dns", "refused", "certificate", "other"):
        assert "contoso.openai.azure.com" in problem.explanation


def test_timeout_is_named() -> None:
    problem = describe_network_problem("", host="h", proxy="none", timed_out=True)
    assert (problem.kind, problem.title) == ("timeout", "No answer in time")


def test_proxy_in_use_follows_settings_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert not proxy_in_use("system")
    assert not proxy_in_use("none")
    assert proxy_in_use("http://p:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://corp-proxy:3128")
    assert proxy_in_use("system")
    assert not proxy_in_use("none")


def test_socks_proxy_without_support_is_explained() -> None:
    try:
        import socksio  # noqa: F401
    except ImportError:
        with pytest.raises(NetworkSettingsError, match="SOCKS proxies are not supported"):
            make_http_client("socks5://127.0.0.1:1080")
    else:
        make_http_client("socks5://127.0.0.1:1080")


def test_loopback_ignores_the_environment_proxy(sim: Simulator, monkeypatch: pytest.MonkeyPatch, arun: Any) -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("HTTP_PROXY", dead)
    monkeypatch.setenv("HTTPS_PROXY", dead)
    monkeypatch.setenv("NO_PROXY", "")

    async def get(proxy: str) -> int:
        async with make_http_client(proxy) as http:
            response = await http.get(
                sim.resource_url + "openai/deployments?api-version=x", headers={"api-key": sim.api_key}
            )
            return response.status_code

    assert arun(get("system")) == 200
    assert arun(get(dead)) == 200  # even a manual proxy is bypassed for loopback


def test_proxy_is_used_for_other_hosts(arun: Any) -> None:
    async def get(proxy: str) -> BaseException | None:
        async with make_http_client(proxy, timeout=5) as http:
            try:
                await http.get("https://contoso.openai.azure.com/")
            except httpx.HTTPError as error:
                return error
        return None

    error = arun(get(f"http://127.0.0.1:{closed_port()}"))
    assert isinstance(error, httpx.ProxyError | httpx.ConnectError)


def test_os_trust_store_context(
    tls_files: tuple[Path, Path, Path], tls_server: str, monkeypatch: pytest.MonkeyPatch, arun: Any
) -> None:
    import truststore

    assert isinstance(os_ssl_context(), truststore.SSLContext)
    assert os_ssl_context() is os_ssl_context()  # built once: loading the system store is not free

    async def get(context: Any) -> int:
        async with make_http_client("none", verify=context) as http:
            return (await http.get(tls_server)).status_code

    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        arun(get(None))
    # A CA the system trusts (here through SSL_CERT_FILE, as IT would install it in the OS store) is accepted.
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files[0]))
    assert arun(get(os_ssl_context.__wrapped__())) == 200


def test_warm_up_loads_what_the_first_request_needs() -> None:
    # In a fresh interpreter: none of it is loaded by building the services, all of it after the warm-up.
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys\n"
        "from desktop.services import _network\n"
        "names = _network._FIRST_REQUEST_MODULES\n"
        "before = [n for n in names if n in sys.modules]\n"
        "_network.warm_up_network()\n"
        "after = [n for n in names if n in sys.modules]\n"
        "print(before, after == list(names), _network.os_ssl_context.cache_info().currsize)\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True, timeout=60)
    assert out.stdout.split() == ["[]", "True", "1"]
