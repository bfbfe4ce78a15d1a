"""Table tests of the endpoint normaliser: what users paste, and what they are told when it cannot work."""

from __future__ import annotations

import pytest

from desktop.config import EndpointError, NormalizedEndpoint, normalize_endpoint

BASE = "https://res.openai.azure.com/openai/v1/"
HOST = "res.openai.azure.com"

ACCEPTED: list[tuple[str, str, str, str | None, str | None]] = [
    # pasted text, base_url, resource_host, deployment, cloud
    ("https://res.openai.azure.com", BASE, HOST, None, "public"),
    ("https://res.openai.azure.com/", BASE, HOST, None, "public"),
    ("https://res.openai.azure.com/openai/v1", BASE, HOST, None, "public"),
    ("https://res.openai.azure.com/openai/v1/", BASE, HOST, None, "public"),
    ("https://res.openai.azure.com/openai/v1/chat/completions", BASE, HOST, None, "public"),
    (
        "https://res.openai.azure.com/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21",
        BASE,
        HOST,
        "gpt-4o-mini",
        "public",
    ),
    ("https://res.openai.azure.com/openai/deployments/My%20Model/completions", BASE, HOST, "My Model", "public"),
    ("https://res.openai.azure.com/openai/responses?api-version=2025-04-01-preview", BASE, HOST, None, "public"),
    ("https://res.openai.azure.com/openai/v1/responses?api-version=preview#frag", BASE, HOST, None, "public"),
    (
        "https://res.cognitiveservices.azure.com/",
        "https://res.cognitiveservices.azure.com/openai/v1/",
        "res.cognitiveservices.azure.com",
        None,
        "public",
    ),
    (
        "https://res.services.ai.azure.com/api/projects/my-project",
        "https://res.services.ai.azure.com/openai/v1/",
        "res.services.ai.azure.com",
        None,
        "public",
    ),
    ("https://gov.openai.azure.us", "https://gov.openai.azure.us/openai/v1/", "gov.openai.azure.us", None, "usgov"),
    ("https://cn.openai.azure.cn/", "https://cn.openai.azure.cn/openai/v1/", "cn.openai.azure.cn", None, "china"),
    # Custom gateways (API Management, proxies): keep their path prefix.
    (
        "https://gw.contoso.com/aoai/openai/deployments/gpt4/chat/completions?api-version=1",
        "https://gw.contoso.com/aoai/openai/v1/",
        "gw.contoso.com",
        "gpt4",
        None,
    ),
    ("https://gw.contoso.com/aoai", "https://gw.contoso.com/aoai/openai/v1/", "gw.contoso.com", None, None),
    ("https://gw.contoso.com/llm/v1/", "https://gw.contoso.com/llm/v1/", "gw.contoso.com", None, None),
    ("https://gw.contoso.com/llm/v1/responses", "https://gw.contoso.com/llm/v1/", "gw.contoso.com", None, None),
    ("https://gw.contoso.com:8443", "https://gw.contoso.com:8443/openai/v1/", "gw.contoso.com:8443", None, None),
    ("https://gw.contoso.com:443/", "https://gw.contoso.com/openai/v1/", "gw.contoso.com", None, None),
    # Sloppy pastes.
    ("res.openai.azure.com", BASE, HOST, None, "public"),
    ("res.openai.azure.com/openai/v1", BASE, HOST, None, "public"),
    ("   https://res.openai.azure.com/  \n", BASE, HOST, None, "public"),
    ('"https://res.openai.azure.com/"', BASE, HOST, None, "public"),
    ("'https://res.openai.azure.com'", BASE, HOST, None, "public"),
    ("<https://res.openai.azure.com/>", BASE, HOST, None, "public"),
    ("https://res.openai.azure.com/.", BASE, HOST, None, "public"),
    ("(https://res.openai.azure.com),", BASE, HOST, None, "public"),
    ("HTTPS://RES.OPENAI.AZURE.COM/OPENAI/V1/", BASE, HOST, None, "public"),
    ("https://res.openai.azure.com./", BASE, HOST, None, "public"),
    # Loopback may use http (the simulator, local gateways).
    ("http://localhost:8080", "http://localhost:8080/openai/v1/", "localhost:8080", None, None),
    ("localhost:8080/openai/v1", "https://localhost:8080/openai/v1/", "localhost:8080", None, None),
    ("http://127.0.0.1:9000/openai/v1/", "http://127.0.0.1:9000/openai/v1/", "127.0.0.1:9000", None, None),
    ("http://127.5.6.7/", "http://127.5.6.7/openai/v1/", "127.5.6.7", None, None),
    ("http://[::1]:8000/", "http://[::1]:8000/openai/v1/", "[::1]:8000", None, None),
]


@pytest.mark.parametrize(("text", "base_url", "host", "deployment", "cloud"), ACCEPTED)
def test_accepted(text: str, base_url: str, host: str, deployment: str | None, cloud: str | None) -> None:
    assert normalize_endpoint(text) == NormalizedEndpoint(base_url, host, deployment, cloud)  # type: ignore[arg-type]


def test_normalising_twice_changes_nothing() -> None:
    for text, *_ in ACCEPTED:
        once = normalize_endpoint(text).base_url
        assert normalize_endpoint(once).base_url == once


REFUSED: list[tuple[str, str]] = [
    ("", "Enter the address"),
    ("   ", "Enter the address"),
    ('""', "Enter the address"),
    ("0123456789abcdef0123456789abcdef", "looks like a key"),
    ("A" * 84, "looks like a key"),
    ("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9eyJzdWIiOiIxMjM0NTY3ODkwIn0", "looks like a key"),
    ("http://res.openai.azure.com", "not encrypted"),
    ("http://10.0.0.5/openai/v1", "not encrypted"),
    ("ftp://res.openai.azure.com", "“ftp://” addresses are not supported"),
    ("mailto:someone@contoso.com", "“mailto:” addresses are not supported"),
    ("https://user:pass@res.openai.azure.com", "user name or password"),
    ("https://apikey@res.openai.azure.com", "user name or password"),
    ("my resource on azure", "cannot contain spaces"),
    ("https://res.openai.azure.com /openai/v1", "cannot contain spaces"),
    ("hello", "not a complete address"),
    ("https://", "no server name"),
    ("https:///openai/v1", "no server name"),
    ("https://res_1.openai.azure.com", "not a valid server name"),
    ("https://res.openai.azure.com:99999", "The port after the colon, “99999”, must be a number up to 65535"),
    ("https://res.openai.azure.com:abc", "The port after the colon, “abc”, must be a number"),
    ("http://127.0.0.1:18080sim-key", "The port after the colon, “18080sim-key”, must be a number"),  # key pasted on
    ("https://[::1/openai/v1", "check its square brackets"),
]


@pytest.mark.parametrize(("text", "message"), REFUSED)
def test_refused_with_a_plain_sentence(text: str, message: str) -> None:
    with pytest.raises(EndpointError) as caught:
        normalize_endpoint(text)
    assert message in str(caught.value)
    assert str(caught.value).endswith(".")
    assert "Traceback" not in str(caught.value)
    assert "cast to integer" not in str(caught.value) and "Invalid IPv6" not in str(caught.value)  # Python's words
