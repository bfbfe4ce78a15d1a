"""The connection test: reach, authenticate, find the deployment, and learn which APIs it answers, in plain words."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import httpx

from desktop.auth import EntraSignInError
from desktop.client import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    AzureOpenAIClient,
    NotFoundError,
    PermissionDeniedError,
)
from desktop.services._chat import _is_unsupported_operation
from desktop.services._errors import describe_error
from desktop.services._network import describe_network_problem

__all__ = ["CheckStep", "ConnectionReport", "auth_step_title", "check_connection"]

_log = logging.getLogger(__name__)

ApiName = Literal["responses", "chat"]
_PROBE_TEXT = "Reply with the word OK."
# Big enough for every API's minimum (Responses refuses fewer than 16) and for a reasoning model to answer at all.
_PROBE_TOKENS = 16
_AUTH_TITLES = {
    "api_key": "API key accepted",
    "entra": "Sign-in accepted",
    "azure_cli": "Azure CLI sign-in accepted",
}


@dataclass(frozen=True)
class CheckStep:
    """One line of the connection test: what was checked, whether it worked, and what that means.

    A `neutral` step is information, not a problem (e.g. a way of answering this model does not offer): `ok` is True.
    """

    title: str
    ok: bool
    message: str
    neutral: bool = False


@dataclass(frozen=True)
class ConnectionReport:
    """The connection test's answer; `ok` means a chat can be had, `api` the API found for sure (else None)."""

    steps: tuple[CheckStep, ...]
    ok: bool
    deployment: str | None = None
    api: ApiName | None = None

    @property
    def summary(self) -> str:
        """One sentence for the top of the dialog."""
        if self.ok:
            return f"Everything works: “{self.deployment}” answers."
        failed = next((s for s in self.steps if not s.ok), None)
        return failed.message if failed is not None else "The connection could not be checked."


def auth_step_title(auth_method: str) -> str:
    """The title of the authentication step for an auth method."""
    return _AUTH_TITLES.get(auth_method, "Access accepted")


def _failure(error: BaseException, auth_method: str, deployment: str | None, resource: str | None = None) -> str:
    if isinstance(error, EntraSignInError):
        return f"{error.problem.title}. {error.problem.explanation}"
    words = describe_error(error, auth_method=auth_method, deployment=deployment, resource=resource)
    return f"{words.title}. {words.explanation}"


async def _probe(call: Callable[[], Awaitable[object]]) -> BaseException | None:
    """Run one tiny request; return the error it raised (client or sign-in), or None when it answered."""
    try:
        await call()
    except (APIError, EntraSignInError) as error:
        return error
    return None


async def check_connection(
    client: AzureOpenAIClient,
    *,
    auth_method: str,
    proxy: str,
    deployment: str | None,
    timeout: float,
) -> ConnectionReport:
    """Test a client's endpoint, credentials and deployment with single-attempt requests and a short timeout."""
    host = httpx.URL(client.base_url).netloc.decode("ascii")
    reach_title, auth_title = f"Reach {host}", auth_step_title(auth_method)
    steps: list[CheckStep] = []

    def report(ok: bool = False, api: ApiName | None = None) -> ConnectionReport:
        return ConnectionReport(tuple(steps), ok, deployment, api)

    def stopped_by(error: BaseException) -> bool:
        """Add the failed step for an error that ends the test (network or credentials); False for others."""
        if isinstance(error, APIConnectionError):
            problem = describe_network_problem(
                error.message, host=host, proxy=proxy, timed_out=isinstance(error, APITimeoutError)
            )
            steps.append(CheckStep(reach_title, False, f"{problem.title}. {problem.explanation}"))
            return True
        if isinstance(error, EntraSignInError):
            # No token, so nothing was sent: whether the address answers is still unknown.
            steps.append(CheckStep(auth_title, False, _failure(error, auth_method, deployment)))
            return True
        if not any(s.title == reach_title for s in steps):
            steps.append(CheckStep(reach_title, True, "The service answered."))
        if isinstance(error, AuthenticationError | PermissionDeniedError):
            steps.append(CheckStep(auth_title, False, _failure(error, auth_method, deployment, host.split(":")[0])))
            return True
        return False

    names: list[str] = []
    try:
        names = [d.name for d in await client.deployments.list(max_retries=0, timeout=timeout)]
    except (APIError, EntraSignInError) as error:
        # A resource without the listing (404) still proves the address answers; the requests below decide the rest.
        if stopped_by(error):
            return report()
    else:
        steps += [CheckStep(reach_title, True, "The service answered."), CheckStep(auth_title, True, "Accepted.")]
    if not deployment:
        found = f" This resource has: {', '.join(names)}." if names else ""
        steps.append(CheckStep("Deployment chosen", False, f"Choose a deployment in Settings.{found}"))
        return report()

    first = await _probe(
        lambda: client.responses.create(
            model=deployment,
            input=_PROBE_TEXT,
            max_output_tokens=_PROBE_TOKENS,
            store=False,
            max_retries=0,
            timeout=timeout,
        )
    )
    if first is not None and (stopped_by(first) or isinstance(first, NotFoundError)):
        if isinstance(first, NotFoundError):
            others = f" This resource has: {', '.join(names)}." if names else ""
            steps.append(CheckStep(f"Deployment “{deployment}” found", False, _failure(first, "", deployment) + others))
        return report()
    second = await _probe(
        lambda: client.chat.completions.create(
            model=deployment,
            messages=[{"role": "user", "content": _PROBE_TEXT}],
            max_completion_tokens=_PROBE_TOKENS,
            max_retries=0,
            timeout=timeout,
        )
    )
    if first is not None and second is not None and stopped_by(second):
        return report()
    if not any(s.title == auth_title for s in steps):
        steps.append(CheckStep(auth_title, True, "Accepted."))
    steps.append(CheckStep(f"Deployment “{deployment}” found", True, "The deployment exists."))
    for outcome, title, other in (
        (first, "Responses", "Chat Completions"),
        (second, "Chat Completions", "Responses"),
    ):
        if outcome is None:
            steps.append(CheckStep(title, True, "The model answers."))
        elif _is_unsupported_operation(outcome):
            note = f"Not offered by this model: this model answers through {other}."
            steps.append(CheckStep(title, True, note, neutral=True))
        else:
            _log.info("connection test: %s failed with %s", title, type(outcome).__name__)
            steps.append(CheckStep(title, False, "Could not be checked: " + _failure(outcome, auth_method, deployment)))
    # Only a certain answer is recorded: a Responses failure other than "not offered" (busy, 5xx) decides nothing.
    chosen: ApiName | None = None
    if first is None:
        chosen = "responses"
    elif second is None and _is_unsupported_operation(first):
        chosen = "chat"
    return report(ok=first is None or second is None, api=chosen)
