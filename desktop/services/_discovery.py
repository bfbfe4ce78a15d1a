"""Deployment discovery: the data-plane listing, or Azure Resource Manager for a signed-in user; never an error wall."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import httpx

from desktop.auth import EntraSignInError
from desktop.client import APIConnectionError, APIError, APIStatusError, AuthenticationError, AzureOpenAIClient
from desktop.config import EndpointError, normalize_endpoint

__all__ = [
    "TYPE_THE_NAME",
    "DiscoveredDeployment",
    "DiscoveryResult",
    "DiscoverySource",
    "list_from_arm",
    "list_from_data_plane",
]

_log = logging.getLogger(__name__)

ARM_SUBSCRIPTIONS_API = "2022-12-01"
ARM_ACCOUNTS_API = "2023-05-01"
_OPENAI_KINDS = frozenset({"openai", "aiservices"})
_MAX_PAGES = 20
_PARALLEL = 4
# Azure's own rules: subscription ids are GUIDs; resource group names are 1-90 letters, digits, _ ( ) - and . (not
# ending in .); Cognitive Services account names are 2-64 letters, digits and hyphens. Anything else from the server
# is ignored, so no id can steer the token to another path, let alone another host.
_SUBSCRIPTION_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_ACCOUNT_ID = re.compile(
    r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[\w().-]{0,89}[\w()-])"
    r"/providers/Microsoft\.CognitiveServices/accounts/(?P<name>[A-Za-z0-9][A-Za-z0-9-]{1,63})",
    re.IGNORECASE,
)
TYPE_THE_NAME = "Type the deployment name instead (it is listed under Deployments in the Azure AI Foundry portal)."

DiscoverySource = Literal["data_plane", "arm", "none"]
TokenProvider = Callable[[], Awaitable[str]]


@dataclass(frozen=True)
class DiscoveredDeployment:
    """A deployment the user can pick, with the resource (account) it lives on and that resource's v1 endpoint."""

    name: str
    model_name: str | None
    model_version: str | None
    account: str
    endpoint: str
    model_format: str | None = None  # ARM's `properties.model.format`: "OpenAI", "Microsoft", "DeepSeek", ...

    @property
    def label(self) -> str:
        """What a list shows: "gpt-4.1 on contoso-east", or "my-chat (gpt-4o) on contoso-east"."""
        model = self.model_name
        what = self.name if not model or model == self.name else f"{self.name} ({model})"
        return f"{what} on {self.account}"


@dataclass(frozen=True)
class DiscoveryResult:
    """What discovery found; `message` explains in plain words when the list is empty or incomplete."""

    deployments: tuple[DiscoveredDeployment, ...]
    source: DiscoverySource
    message: str | None = None


def _account_of(endpoint: str) -> str:
    """The resource name a user recognises: the first label of the endpoint's host."""
    host = httpx.URL(endpoint).host
    return host.split(".")[0] if host and not host[0].isdigit() else host


async def list_from_data_plane(client: AzureOpenAIClient, *, timeout: float) -> DiscoveryResult:
    """List the deployments of the client's resource; any failure gives an empty result and a plain message."""
    try:
        found = await client.deployments.list(max_retries=0, timeout=timeout)
    except EntraSignInError as error:
        message = error.problem.explanation
    except AuthenticationError:
        message = "The service did not accept the key or sign-in, so its deployments could not be listed."
    except APIConnectionError:
        message = "The service could not be reached, so its deployments could not be listed."
    except APIStatusError as error:
        # Newer resources do not offer the listing at all (404): that is "unknown", not a failure to report loudly.
        _log.info("data-plane deployment listing unavailable: HTTP %s", error.status_code)
        message = "This resource does not list its deployments."
    except APIError as error:
        _log.info("data-plane deployment listing failed: %s", type(error).__name__)
        message = "The list of deployments could not be read."
    else:
        account = _account_of(client.base_url)
        items = tuple(
            DiscoveredDeployment(d.name, d.model, d.model_version, account, client.base_url + "/") for d in found
        )
        if items:
            return DiscoveryResult(items, "data_plane")
        message = "This resource has no deployments yet."
    return DiscoveryResult((), "none", f"{message} {TYPE_THE_NAME}")


class _ArmError(Exception):
    """One ARM request failed; `status` is None when no answer came."""

    def __init__(self, status: int | None, code: str | None) -> None:
        super().__init__(f"ARM {status} {code}")
        self.status = status
        self.code = code


class _Arm:
    """Paged GETs against Azure Resource Manager with a bearer token; the token never leaves `base`."""

    def __init__(self, http: httpx.AsyncClient, base: str, token: TokenProvider, timeout: float) -> None:
        self._http = http
        self._base = base.rstrip("/")
        self._origin = _origin(httpx.URL(self._base))
        self._token = token
        self._timeout = timeout

    async def items(self, path: str, api_version: str) -> list[dict[str, Any]]:
        url: str | None = f"{self._base}{path}?api-version={api_version}"
        found: list[dict[str, Any]] = []
        for _ in range(_MAX_PAGES):
            if url is None:
                break
            body = await self._get(url)
            value = body.get("value")
            found += [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
            next_link = body.get("nextLink")
            # Follow paging only on the same ARM host, so the management token is never sent anywhere else.
            url = next_link if isinstance(next_link, str) and next_link.startswith(self._base + "/") else None
        return found

    async def _get(self, url: str) -> dict[str, Any]:
        if _origin(httpx.URL(url)) != self._origin:
            # Never reached with validated ids; the last line of defence for the management token.
            _log.warning("refused to send the sign-in token to %s", httpx.URL(url).host)
            raise _ArmError(None, "foreign host")
        headers = {"authorization": f"Bearer {await self._token()}", "accept": "application/json"}
        try:
            response = await self._http.get(url, headers=headers, timeout=self._timeout, follow_redirects=False)
        except httpx.HTTPError as error:
            _log.info("ARM request failed: %s", type(error).__name__)
            raise _ArmError(None, type(error).__name__) from None
        _log.info("GET %s -> %d", httpx.URL(url).path, response.status_code)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not response.is_success:
            detail = body.get("error") if isinstance(body, dict) else None
            code = detail.get("code") if isinstance(detail, dict) else None
            raise _ArmError(response.status_code, code if isinstance(code, str) else None)
        return body if isinstance(body, dict) else {}


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host.lower(), url.port)


def _subscription_path(subscription: object) -> str | None:
    """The accounts listing path of a subscription, or None when the id is not a GUID."""
    if not isinstance(subscription, str) or not _SUBSCRIPTION_ID.fullmatch(subscription):
        return None
    return f"/subscriptions/{subscription}/providers/Microsoft.CognitiveServices/accounts"


def _deployments_path(account_id: object) -> str | None:
    """The deployments listing path of an account, rebuilt from its validated, path-encoded parts; else None."""
    match = _ACCOUNT_ID.fullmatch(account_id) if isinstance(account_id, str) else None
    if match is None or not _SUBSCRIPTION_ID.fullmatch(match["sub"]):
        return None
    sub, rg, name = (quote(match[part], safe="") for part in ("sub", "rg", "name"))
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices/accounts/{name}/deployments"


def _arm_endpoint(account: dict[str, Any]) -> str | None:
    properties = account.get("properties")
    if not isinstance(properties, dict):
        return None
    endpoints = properties.get("endpoints")
    # AI Services accounts name their Azure OpenAI endpoint separately from the generic Cognitive Services one.
    candidates = [endpoints.get("OpenAI Language Model Instance API")] if isinstance(endpoints, dict) else []
    candidates.append(properties.get("endpoint"))
    for candidate in candidates:
        if isinstance(candidate, str):
            try:
                return normalize_endpoint(candidate).base_url
            except EndpointError:
                continue
    return None


def _is_chat_model(properties: dict[str, Any]) -> bool:
    """False only for deployments whose capabilities say they cannot chat (embeddings, images, speech)."""
    capabilities = properties.get("capabilities")
    if not isinstance(capabilities, dict) or not capabilities:
        return True
    return any(str(capabilities.get(k, "")).lower() == "true" for k in ("chatCompletion", "responses"))


def _deployments_of(account: dict[str, Any], endpoint: str, items: list[dict[str, Any]]) -> list[DiscoveredDeployment]:
    name = account.get("name")
    account_name = name if isinstance(name, str) and name else _account_of(endpoint)
    found = []
    for item in items:
        properties = item.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        model = properties.get("model")
        model = model if isinstance(model, dict) else {}
        deployment = item.get("name")
        if not isinstance(deployment, str) or not deployment or not _is_chat_model(properties):
            continue
        model_name, version, model_format = model.get("name"), model.get("version"), model.get("format")
        found.append(
            DiscoveredDeployment(
                deployment,
                model_name if isinstance(model_name, str) else None,
                version if isinstance(version, str) else None,
                account_name,
                endpoint,
                model_format if isinstance(model_format, str) else None,
            )
        )
    return found


def _arm_words(error: _ArmError) -> str:
    if error.status is None:
        return "Azure Resource Manager could not be reached, so your deployments could not be listed."
    if error.status in (401, 403):
        return "Your account may not list Azure resources (it needs at least the Reader role)."
    return f"Azure Resource Manager did not list your resources (error {error.status})."


async def list_from_arm(
    http: httpx.AsyncClient, arm_base_url: str, token: TokenProvider, *, timeout: float
) -> DiscoveryResult:
    """Subscriptions -> Azure OpenAI / AI Services accounts -> chat deployments, as far as the user may see."""
    arm = _Arm(http, arm_base_url, token, timeout)
    problems: list[_ArmError] = []
    try:
        subscriptions = await arm.items("/subscriptions", ARM_SUBSCRIPTIONS_API)
    except _ArmError as error:
        return DiscoveryResult((), "none", f"{_arm_words(error)} {TYPE_THE_NAME}")
    except EntraSignInError as error:
        return DiscoveryResult((), "none", f"{error.problem.explanation} {TYPE_THE_NAME}")
    limit = asyncio.Semaphore(_PARALLEL)

    async def guarded(path: str, api_version: str) -> list[dict[str, Any]]:
        async with limit:
            try:
                return await arm.items(path, api_version)
            except _ArmError as error:
                problems.append(error)
            except EntraSignInError:
                problems.append(_ArmError(401, "sign-in"))
            return []

    sub_paths = [path for path in (_subscription_path(s.get("subscriptionId")) for s in subscriptions) if path]
    account_lists = await asyncio.gather(*(guarded(path, ARM_ACCOUNTS_API) for path in sub_paths))
    accounts: list[tuple[dict[str, Any], str, str]] = []
    for account in (a for listing in account_lists for a in listing):
        kind, path, endpoint = account.get("kind"), _deployments_path(account.get("id")), _arm_endpoint(account)
        if isinstance(kind, str) and kind.lower() in _OPENAI_KINDS and path and endpoint:
            accounts.append((account, endpoint, path))
        elif path is None:
            _log.info("ignored an Azure account with an invalid id")
    deployment_lists = await asyncio.gather(*(guarded(path, ARM_ACCOUNTS_API) for _, _, path in accounts))
    found = tuple(
        d
        for (account, endpoint, _), items in zip(accounts, deployment_lists, strict=True)
        for d in _deployments_of(account, endpoint, items)
    )
    if found:
        message = f"{_arm_words(problems[0])} Some deployments may be missing." if problems else None
        return DiscoveryResult(found, "arm", message)
    if problems:
        return DiscoveryResult((), "none", f"{_arm_words(problems[0])} {TYPE_THE_NAME}")
    return DiscoveryResult((), "none", f"No Azure OpenAI deployments were found for your account. {TYPE_THE_NAME}")
