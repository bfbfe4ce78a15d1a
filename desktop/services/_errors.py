"""The former home of the error words; the classifier (desktop.services._problems) and its table replace it."""

from __future__ import annotations

from desktop.services._problems import classify, retry_reason
from desktop.services._user_error import ErrorAction, Problem, UserError, category_words

__all__ = ["ErrorAction", "Problem", "UserError", "category_words", "describe_error", "retry_reason"]


def describe_error(
    exc: BaseException, *, auth_method: str = "api_key", deployment: str | None = None, resource: str | None = None
) -> Problem:
    """The Problem for a failure outside a streamed answer (connection checks, resolving a connection).

    `resource` (the resource's host name) is named where it helps, e.g. in the missing-role message.
    """
    return classify(exc, auth_method=auth_method, deployment=deployment, resource=resource)
