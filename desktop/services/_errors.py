"""One Qt-free mapping from every client (and sign-in) error to words a non-developer can act on.

The UI shows `title` and `explanation`, offers `action` as a button, and puts `details` (no secrets) behind "Copy
details" so support can find the request in Azure's logs.
"""

from __future__ import annotations

import re

from desktop.auth import EntraSignInError, KeyringUnavailableError, SignInAction
from desktop.client import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APIStreamError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from desktop.services._user_error import ErrorAction, UserError, category_words

__all__ = ["ErrorAction", "UserError", "category_words", "describe_error", "retry_reason"]


def _details(exc: BaseException) -> str:
    lines = [f"Error: {type(exc).__name__}"]
    if isinstance(exc, APIStatusError):
        lines.append(f"HTTP status: {exc.status_code}")
        if exc.code:
            lines.append(f"Code: {exc.code}")
        if exc.inner_code:
            lines.append(f"Inner code: {exc.inner_code}")
        region = exc.headers.get("x-ms-region")
        if region:
            lines.append(f"Region: {region}")
    if isinstance(exc, APIStreamError):
        lines.append(f"Stream problem: {exc.kind}")
        if exc.code:
            lines.append(f"Code: {exc.code}")
    message = exc.message if isinstance(exc, APIError) else str(exc)
    if message:
        lines.append(f"Message: {message}")
    request_id = exc.request_id if isinstance(exc, APIError) else None
    if request_id:
        lines.append(f"Request id: {request_id}")
    return "\n".join(lines)


# A sign-in problem's own action, as the button next to an error in a chat.
_SIGN_IN_ACTIONS = {
    SignInAction.SIGN_IN_AGAIN: ErrorAction.SIGN_IN,
    SignInAction.USE_DEVICE_CODE: ErrorAction.SIGN_IN,
    SignInAction.ALLOW_UNENCRYPTED: ErrorAction.SIGN_IN,
    SignInAction.CHECK_NETWORK: ErrorAction.RETRY,
    SignInAction.CONTACT_ADMIN: ErrorAction.CONTACT_ADMIN,
    SignInAction.NONE: ErrorAction.NONE,
}

_TENANT_MISMATCH = re.compile(r"tenant provided in token does not match", re.IGNORECASE)
_MISSING_ROLE = re.compile(r"lacks the required data action|PermissionDenied", re.IGNORECASE)
_CERTIFICATE = re.compile(r"CERTIFICATE_VERIFY_FAILED|certificate verify failed|self[- ]signed", re.IGNORECASE)
_PROXY = re.compile(r"proxy", re.IGNORECASE)


def describe_error(
    exc: BaseException, *, auth_method: str = "api_key", deployment: str | None = None, resource: str | None = None
) -> UserError:
    """Map any error from the client (or a sign-in/keyring problem already in plain words) to a UserError.

    `resource` (the resource's host name) is named where it helps, e.g. in the missing-role message.
    """
    details = _details(exc)
    request_id = exc.request_id if isinstance(exc, APIError) else None

    def make(title: str, explanation: str, action: ErrorAction, **extra: object) -> UserError:
        status = exc.status_code if isinstance(exc, APIStatusError) else None
        code = exc.code if isinstance(exc, APIStatusError | APIStreamError) else None
        return UserError(
            title=title,
            explanation=explanation,
            action=action,
            request_id=request_id,
            status=status,
            code=code,
            details=details,
            **extra,  # type: ignore[arg-type]
        )

    if isinstance(exc, EntraSignInError):
        problem = exc.problem
        return UserError(
            problem.title,
            problem.explanation,
            _SIGN_IN_ACTIONS[problem.action],
            code=problem.code,
            details=details + (f"\nMore: {problem.link}" if problem.link else ""),
        )
    if isinstance(exc, KeyringUnavailableError):
        return make(
            "The password store is not available",
            f"{exc} You can keep the key for this session only (Settings → Connection).",
            ErrorAction.OPEN_SETTINGS,
        )
    if isinstance(exc, BadRequestError):
        if exc.is_content_filter:
            categories = tuple(exc.content_filter_categories)
            which = category_words(categories)
            reason = f" It was flagged for {which}." if which else ""
            return make(
                "Blocked by the content filter",
                "Your organisation's Azure content filter did not let this message through."
                + reason
                + " Rephrase it and send it again.",
                ErrorAction.REPHRASE,
                filter_categories=categories,
            )
        if _TENANT_MISMATCH.search(exc.message) or (exc.code and _TENANT_MISMATCH.search(exc.code)):
            return make(
                "Signed in to a different organisation",
                "Your sign-in belongs to another organisation (tenant) than this Azure resource. In Settings, enter "
                "the resource's tenant under Advanced and sign in again.",
                ErrorAction.OPEN_SETTINGS,
            )
        if exc.code == "context_length_exceeded" or "maximum context length" in exc.message.lower():
            return make(
                "This conversation is too long",
                "The conversation no longer fits into what the model can read at once. Start a new chat, or delete "
                "or shorten earlier messages.",
                ErrorAction.SHORTEN,
            )
        if exc.code in ("unsupported_parameter", "unsupported_value") or exc.param:
            return make(
                "This deployment does not accept these settings",
                f"Azure refused a setting for this deployment ({exc.message}). Change the chat settings for this "
                "deployment, or pick another deployment.",
                ErrorAction.OPEN_SETTINGS,
            )
        return make(
            "Azure could not accept this request",
            f"Azure said: {exc.message}",
            ErrorAction.CONTACT_ADMIN,
        )
    if isinstance(exc, AuthenticationError):
        if _MISSING_ROLE.search(exc.message) or exc.code == "PermissionDenied":
            return make(
                "Your account has no access to this resource yet",
                "You are signed in, but your account lacks the role “Cognitive Services OpenAI User” on the Azure "
                f"resource {f'“{resource}”' if resource else 'of this connection'}. Ask your administrator to assign "
                "it to you on that resource; new role assignments can take up to 5 minutes to apply.",
                ErrorAction.CONTACT_ADMIN,
            )
        if auth_method == "api_key":
            return make(
                "The API key was not accepted",
                "Azure did not accept the key for this address. Check that the key and the address come from the "
                "same Azure resource, and paste the key again in Settings.",
                ErrorAction.OPEN_SETTINGS,
            )
        return make(
            "Please sign in again",
            "Your sign-in has expired or is not valid for this Azure resource. Sign in again to continue.",
            ErrorAction.SIGN_IN,
        )
    if isinstance(exc, PermissionDeniedError):
        return make(
            "Access to this resource is blocked",
            "Azure refused access, often because the resource only accepts connections from your organisation's "
            "network. Connect to your company network or VPN, or ask your administrator.",
            ErrorAction.CONTACT_ADMIN,
        )
    if isinstance(exc, NotFoundError):
        if exc.code == "DeploymentNotFound" or "deployment" in exc.message.lower():
            name = f"“{deployment}” " if deployment else ""
            return make(
                "This deployment does not exist",
                f"The deployment {name}was not found on this Azure resource. It may have been renamed or removed. "
                "Pick another deployment in Settings.",
                ErrorAction.OPEN_SETTINGS,
            )
        return make(
            "This address does not lead to Azure OpenAI",
            "Azure answered that the address was not found. Check the resource address in Settings.",
            ErrorAction.OPEN_SETTINGS,
        )
    if isinstance(exc, RateLimitError):
        if exc.retry_after is not None:
            return make(
                "Azure is busy (rate limit)",
                f"This deployment has reached its usage limit for the moment. Try again in {exc.retry_after:.0f} "
                "seconds.",
                ErrorAction.WAIT_AND_RETRY,
                retry_after=exc.retry_after,
            )
        return make(
            "Azure is busy (rate limit)",
            "This deployment has reached its usage limit for the moment. Wait a little and try again.",
            ErrorAction.RETRY,
        )
    if isinstance(exc, ConflictError | UnprocessableEntityError):
        return make(
            "Azure could not process this request",
            f"Azure said: {exc.message} Try again; if it keeps happening, contact your administrator.",
            ErrorAction.RETRY,
        )
    if isinstance(exc, InternalServerError):
        if exc.status_code == 503:
            title, what = "Azure is temporarily unavailable", "The service is overloaded or under maintenance."
        elif exc.status_code == 504:
            title, what = "Azure took too long to answer", "A gateway gave up waiting for the model."
        elif exc.status_code == 502:
            title, what = "A gateway in front of Azure failed", "The request did not reach the model."
        else:
            title, what = "Azure had a problem", "The service failed while handling this request."
        return make(title, what + " Try again in a moment.", ErrorAction.RETRY)
    if isinstance(exc, APIStatusError):
        return make(
            "Azure refused this request",
            f"Azure answered with error {exc.status_code}: {exc.message}",
            ErrorAction.CONTACT_ADMIN,
        )
    if isinstance(exc, APITimeoutError):
        return make(
            "No answer in time",
            "Azure did not answer in time. Check your connection and try again; you can raise the time limit in "
            "Settings.",
            ErrorAction.RETRY,
        )
    if isinstance(exc, APIConnectionError):
        if _CERTIFICATE.search(exc.message):
            return make(
                "Your network's security certificate is not trusted",
                "A device on your network (often a company proxy) replaced Azure's certificate with one this "
                "computer does not trust. Ask IT to install your organisation's certificate.",
                ErrorAction.CONTACT_ADMIN,
            )
        if _PROXY.search(exc.message):
            return make(
                "The proxy did not let the connection through",
                "Check the proxy in Settings, or ask IT which proxy to use.",
                ErrorAction.OPEN_SETTINGS,
            )
        return make(
            "Cannot reach Azure",
            "The app could not connect to your Azure resource. Check your internet connection or VPN, and the "
            "address in Settings.",
            ErrorAction.RETRY,
        )
    if isinstance(exc, APIStreamError):
        if exc.kind == "too_large":
            return make(
                "The answer was too large to read",
                "The service (or a gateway in between) sent more than 16 MB in one piece, so the app stopped reading. "
                "The part received is kept.",
                ErrorAction.RETRY,
            )
        if exc.kind == "error_event":
            return make(
                "Azure stopped the answer",
                f"Azure reported a problem while answering: {exc.message} The part received is kept.",
                ErrorAction.RETRY,
            )
        return make(
            "The answer was cut off",
            "The connection broke while the answer was arriving. The part received is kept; try again for a full "
            "answer.",
            ErrorAction.RETRY,
        )
    if isinstance(exc, APIResponseValidationError):
        return make(
            "Azure sent an answer the app could not read",
            "Try again; if it keeps happening, contact your administrator with the details.",
            ErrorAction.RETRY,
        )
    return make(
        "Something went wrong inside the app",
        "The app hit an unexpected problem. Your conversation is saved; try again, and if it keeps happening send "
        "the details to your IT support.",
        ErrorAction.RETRY,
    )


def retry_reason(exc: BaseException) -> str:
    """A few words for the in-place retry notice: 'rate limit', 'server error', ..."""
    if isinstance(exc, RateLimitError):
        return "rate limit"
    if isinstance(exc, APITimeoutError):
        return "no answer in time"
    if isinstance(exc, APIConnectionError):
        return "connection problem"
    if isinstance(exc, InternalServerError):
        return "server error"
    if isinstance(exc, APIStatusError):
        return f"error {exc.status_code}"
    return "temporary problem"
