"""Turn whatever a user pastes as an endpoint into the Azure OpenAI v1 base URL, or explain why not."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, urlsplit

from desktop.clouds import CloudName, cloud_for_host

_EXAMPLE = "https://my-resource.openai.azure.com"
# Wrappers people copy along with an address: quotes from docs/JSON, <angle brackets> from e-mail, sentence punctuation.
_STRIP_LEADING = " \t\r\n\"'`<([{"
_STRIP_TRAILING = " \t\r\n\"'`>)]}.,;:!?"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_OTHER_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(?!\d)")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Azure keys are 32 hex characters (classic) or 84 letters/digits (newer); tokens are JWTs ("eyJ...").
_KEY_LIKE = re.compile(r"^[A-Za-z0-9+/=_-]{32,}$")
# Operation paths that follow the base URL in URLs copied from docs, code samples and the portal.
_OPERATIONS = (("chat", "completions"), ("responses",), ("completions",), ("embeddings",), ("models",))


class EndpointError(ValueError):
    """The text is not a usable Azure OpenAI address; `str(error)` is a sentence for the user."""


@dataclass(frozen=True)
class NormalizedEndpoint:
    """A v1 base URL (always ending in `/openai/v1/` or a gateway's own `.../v1/`) and what the URL told us."""

    base_url: str
    resource_host: str
    deployment: str | None
    cloud: CloudName | None


def _strip_wrapping(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = text.lstrip(_STRIP_LEADING).rstrip(_STRIP_TRAILING)
    return text


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_host(host: str) -> None:
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    if not all(_HOST_LABEL.match(label) for label in labels):
        raise EndpointError(f"“{host}” is not a valid server name. It should look like {_EXAMPLE}.")
    if len(labels) < 2 and host != "localhost":
        raise EndpointError(
            f"“{host}” is not a complete address. Paste the full endpoint from the Azure portal, like {_EXAMPLE}."
        )


def _split(text: str) -> SplitResult:
    if " " in text or "\t" in text or "\n" in text:
        raise EndpointError(
            f"An address cannot contain spaces. Paste only the endpoint from the Azure portal, like {_EXAMPLE}."
        )
    scheme = _SCHEME.match(text)
    if scheme is None:
        other = _OTHER_SCHEME.match(text)
        if other is not None and other.group(1).lower() not in ("localhost",):
            raise EndpointError(f"“{other.group(1)}:” addresses are not supported. Use an https:// address.")
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:  # an unbalanced [ or ] around an IPv6 server address
        raise EndpointError(
            f"This address could not be read: check its square brackets. It should look like {_EXAMPLE}."
        ) from None
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:  # Python's own words ("could not be cast to integer value") are not for the user
        port = parts.netloc.rpartition(":")[2]
        raise EndpointError(
            f"The port after the colon, “{port}”, must be a number up to 65535 (Azure addresses need none). "
            f"It should look like {_EXAMPLE}."
        ) from None
    return parts


def _path_segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


def _strip_operation(segments: list[str]) -> list[str]:
    lowered = [s.lower() for s in segments]
    for operation in _OPERATIONS:
        if tuple(lowered[-len(operation) :]) == operation:
            return segments[: -len(operation)]
    return segments


def _base_path(segments: list[str], azure_host: bool) -> tuple[list[str], str | None]:
    """Return the base path segments and a deployment name taken from the path, if any."""
    lowered = [s.lower() for s in segments]
    if "openai" in lowered:
        at = lowered.index("openai")
        prefix = [] if azure_host else segments[:at]
        rest = lowered[at + 1 :]
        deployment = None
        if len(rest) >= 2 and rest[0] == "deployments":
            deployment = unquote(segments[at + 2]).strip() or None
        elif len(rest) >= 3 and rest[:2] == ["v1", "deployments"]:
            deployment = unquote(segments[at + 3]).strip() or None
        return [*prefix, "openai", "v1"], deployment
    if azure_host:
        # Portal pages and other APIs on the same resource (e.g. /api/projects/...): the v1 API has one home.
        return ["openai", "v1"], None
    # A custom gateway: keep its path prefix. If it already ends in v1 it is the base; else Azure's layout follows.
    prefix = _strip_operation(segments)
    if prefix and prefix[-1].lower() == "v1":
        return prefix, None
    return [*prefix, "openai", "v1"], None


def normalize_endpoint(text: str) -> NormalizedEndpoint:
    """Normalise a pasted endpoint to the v1 base URL, or raise `EndpointError` with a plain explanation."""
    cleaned = _strip_wrapping(text)
    if not cleaned:
        raise EndpointError(f"Enter the address of your Azure OpenAI resource, like {_EXAMPLE}.")
    if "." not in cleaned and "/" not in cleaned and _KEY_LIKE.match(cleaned):
        raise EndpointError(
            "This looks like a key, not an address. Put the key in the API key field, "
            f"and the endpoint (like {_EXAMPLE}) here."
        )
    parts = _split(cleaned)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise EndpointError(f"“{parts.scheme}://” addresses are not supported. Use an https:// address.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise EndpointError(
            "This address contains a user name or password. Remove it (the part before “@”): "
            "keys and passwords go in their own field, never in the address."
        )
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise EndpointError(f"This address has no server name. It should look like {_EXAMPLE}.")
    _check_host(host)
    if scheme == "http" and not _is_loopback(host):
        raise EndpointError(
            "This address uses http://, which is not encrypted. Use the https:// address of your resource."
        )
    cloud = cloud_for_host(host)
    segments, deployment = _base_path(_path_segments(parts.path), azure_host=cloud is not None)
    netloc = f"[{host}]" if ":" in host else host
    default_port = 443 if scheme == "https" else 80
    if parts.port is not None and parts.port != default_port:
        netloc = f"{netloc}:{parts.port}"
    base_url = f"{scheme}://{netloc}/{'/'.join(segments)}/"
    return NormalizedEndpoint(base_url=base_url, resource_host=netloc, deployment=deployment, cloud=cloud)
