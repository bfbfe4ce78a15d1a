"""Azure's error bodies, content-filter annotations and other wire-level constants (pure, no I/O)."""

from __future__ import annotations

import http
from typing import Any

BAD_KEY_MESSAGE = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an "
    "active subscription and use a correct regional API endpoint for your resource."
)
MISSING_KEY_MESSAGE = (
    "Access denied due to missing subscription key. Make sure to include subscription key when making requests to "
    "an API."
)
UNAUTHORIZED_MESSAGE = (
    "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), "
    "or have expired."
)
DEPLOYMENT_NOT_FOUND_MESSAGE = (
    "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, "
    "please wait a moment and try again."
)
PROMPT_FILTERED_MESSAGE = (
    "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify "
    "your prompt and retry. To learn more about our content filtering policies please read our documentation: "
    "https://go.microsoft.com/fwlink/?linkid=2198766"
)

# Messages Azure sends for statuses a test may inject; anything else gets the HTTP reason phrase.
_STATUS_ERRORS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "The request is invalid."),
    401: ("401", BAD_KEY_MESSAGE),
    403: ("403", "Access denied due to Virtual Network/Firewall rules."),
    404: ("DeploymentNotFound", DEPLOYMENT_NOT_FOUND_MESSAGE),
    408: ("Timeout", "The request timed out."),
    409: ("Conflict", "The request conflicts with the current state of the resource. Please retry."),
    422: ("UnprocessableEntity", "The request could not be processed."),
    500: ("InternalServerError", "The server had an error while processing your request. Sorry about that!"),
    502: ("BadGateway", "Bad gateway."),
    503: ("ServiceUnavailable", "The service is temporarily unable to process your request. Please try again later."),
    504: ("GatewayTimeout", "The operation was timeout."),
}

FILTER_CATEGORIES = ("hate", "self_harm", "sexual", "violence")


def error_body(code: str | None, message: str, *, param: str | None = None, type_: str | None = None) -> dict[str, Any]:
    """The `{"error": {...}}` shape Azure uses for data-plane errors."""
    return {"error": {"code": code, "message": message, "param": param, "type": type_}}


def status_error_body(status: int, operation: str = "ChatCompletions_Create", retry_after: int = 1) -> dict[str, Any]:
    """Azure's body for an error status injected by a test."""
    if status == 429:
        return error_body("429", rate_limit_message(operation, retry_after))
    try:
        code, message = _STATUS_ERRORS[status]
    except KeyError:
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        code, message = str(status), phrase
    return error_body(code, message)


def rate_limit_message(operation: str, retry_after: int) -> str:
    """Azure's 429 message naming the operation and the wait."""
    return (
        f"Requests to the {operation} Operation under Azure OpenAI API version v1 have exceeded call rate limit "
        f"of your current AIServices S0 pricing tier. Please retry after {retry_after} seconds. Please go here: "
        "https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."
    )


def rate_limit_429(kind: str, operation: str, seconds: int | None) -> tuple[dict[str, Any], dict[str, str]]:
    """Body and headers of one of Azure's 429 kinds: requests, tokens, quota or never-fits."""
    if kind == "quota":
        body = error_body(
            "insufficient_quota",
            "You exceeded your current quota, please check your plan and billing details.",
            type_="insufficient_quota",
        )
        return body, {"x-ratelimit-remaining-requests": "0", "x-ratelimit-remaining-tokens": "0"}
    wait = seconds or (86_400 if kind == "never-fits" else 6)
    what = "call" if kind == "requests" else "token"
    message = (
        f"Requests to the {operation} Operation under Azure OpenAI API version v1 have exceeded {what} rate limit "
        f"of your current AIServices S0 pricing tier. Please retry after {wait} seconds. Please go here: "
        "https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."
    )
    headers = {
        "retry-after": str(wait),
        "retry-after-ms": str(wait * 1000),
        "x-ratelimit-remaining-requests": "0" if kind == "requests" else "57",
        "x-ratelimit-remaining-tokens": "0" if kind == "tokens" else "1180",
    }
    return error_body("429", message), headers


def permission_denied_body(principal_id: str, path: str) -> dict[str, Any]:
    """401 for a valid token whose identity lacks the "Cognitive Services OpenAI User" role."""
    action = "Microsoft.CognitiveServices/accounts/OpenAI/" + (
        "responses/write" if path.endswith("/responses") else "deployments/chat/completions/action"
    )
    return error_body(
        "PermissionDenied",
        f"The principal `{principal_id}` lacks the required data action `{action}` to perform `POST {path}` operation.",
    )


def bad_token_body() -> dict[str, Any]:
    """The gateway's flat 401 for a missing, invalid, expired or wrong-audience token."""
    return {"statusCode": 401, "message": UNAUTHORIZED_MESSAGE}


def unsupported_operation_body(operation: str, model: str) -> dict[str, Any]:
    """400 Azure sends when a deployment's model cannot serve an API (e.g. chatCompletion on an embedding model)."""
    return error_body(
        "OperationNotSupported",
        f"The {operation} operation does not work with the specified model, {model}. Please choose different "
        "model and try again. You can learn more about which models can be used with each operation here: "
        "https://go.microsoft.com/fwlink/?linkid=2197993.",
    )


def unsupported_parameter_body(param: str, instead: str) -> dict[str, Any]:
    """400 a reasoning model sends for `max_tokens`."""
    return error_body(
        "unsupported_parameter",
        f"Unsupported parameter: '{param}' is not supported with this model. Use '{instead}' instead.",
        param=param,
        type_="invalid_request_error",
    )


def missing_parameter_body(param: str) -> dict[str, Any]:
    """400 for a missing required field."""
    return error_body(
        "missing_required_parameter",
        f"Missing required parameter: '{param}'.",
        param=param,
        type_="invalid_request_error",
    )


def invalid_json_body() -> dict[str, Any]:
    """400 for a body that is not a JSON object."""
    return error_body(
        None,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP "
        "library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
        type_="invalid_request_error",
    )


def filter_results(filtered_category: str | None = None) -> dict[str, Any]:
    """Per-category content-filter annotations; one category may be marked filtered."""
    results: dict[str, Any] = {
        name: {"filtered": name == filtered_category, "severity": "medium" if name == filtered_category else "safe"}
        for name in FILTER_CATEGORIES
    }
    results["jailbreak"] = {"filtered": False, "detected": False}
    return results


def prompt_filtered_body() -> dict[str, Any]:
    """400 content_filter for a blocked prompt, with innererror ResponsibleAIPolicyViolation."""
    body = error_body("content_filter", PROMPT_FILTERED_MESSAGE, param="prompt")
    body["error"]["status"] = 400
    body["error"]["innererror"] = {
        "code": "ResponsibleAIPolicyViolation",
        "content_filter_result": filter_results("violence"),
    }
    return body


def arm_error_body(code: str, message: str) -> dict[str, Any]:
    """Azure Resource Manager's error shape."""
    return {"error": {"code": code, "message": message}}


GATEWAY_HTML = """<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>Microsoft-Azure-Application-Gateway/v2</center>
</body>
</html>
"""
