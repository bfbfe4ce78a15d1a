"""Every way an Entra sign-in fails, mapped once to plain words and one thing the user can do."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "EntraSignInError",
    "SignInAction",
    "SignInCancelledError",
    "SignInProblem",
    "SignInRequiredError",
    "TokenCacheUnavailableError",
    "describe_sign_in_problem",
]


class SignInAction(enum.Enum):
    """The one thing the dialog offers next."""

    SIGN_IN_AGAIN = "sign_in_again"
    USE_DEVICE_CODE = "use_device_code"
    CHECK_NETWORK = "check_network"
    CONTACT_ADMIN = "contact_admin"
    ALLOW_UNENCRYPTED = "allow_unencrypted"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class SignInProblem:
    """A sign-in failure in words a non-developer can act on."""

    title: str
    explanation: str
    action: SignInAction
    code: str | None = None
    link: str | None = None


class EntraSignInError(Exception):
    """Any sign-in failure; `problem` says what happened and what to do, the cause keeps the details."""

    def __init__(self, problem: SignInProblem) -> None:
        super().__init__(f"{problem.title}: {problem.explanation}")
        self.problem = problem


class SignInRequiredError(EntraSignInError):
    """No usable sign-in: never signed in, signed out, or the sign-in expired. Ask the user to sign in."""


class SignInCancelledError(EntraSignInError):
    """The user cancelled the sign-in."""


class TokenCacheUnavailableError(EntraSignInError):
    """The sign-in cannot be stored encrypted; retry only with the user's consent to store it unencrypted."""


_AADSTS = re.compile(r"\bAADSTS(\d{4,6})\b")
_ERROR_PAGE = "https://login.microsoftonline.com/error?code={}"

# Ordered (needles, problem) rules matched against the lower-cased messages of the whole exception chain. Matching
# is on the library's words, never on AADSTS numbers: Microsoft documents the words' meaning, numbers only identify.
_RULES: tuple[tuple[tuple[str, ...], SignInProblem], ...] = (
    (
        ("cancelled", "state mismatch", "state missing"),
        SignInProblem(
            "Sign-in cancelled",
            "The sign-in was cancelled. Nothing was changed.",
            SignInAction.NONE,
        ),
    ),
    (
        ("cache encryption is impossible",),
        SignInProblem(
            "Cannot store your sign-in securely",
            "This computer has no working password store (Secret Service, such as GNOME Keyring or KWallet), "
            "so your sign-in cannot be kept encrypted. Start or install a password store, or allow the app to "
            "keep your sign-in in a file only your user account can read.",
            SignInAction.ALLOW_UNENCRYPTED,
        ),
    ),
    (
        ("certificate_verify_failed", "certificate verify failed", "self-signed certificate"),
        SignInProblem(
            "The connection is not trusted",
            "A security certificate on the way to Microsoft could not be verified. This usually means a company "
            "proxy inspects web traffic; ask your IT administrator to make its certificate trusted.",
            SignInAction.CONTACT_ADMIN,
        ),
    ),
    (
        (
            "failed to establish a new connection",
            "name or service not known",
            "temporary failure in name resolution",
            "connection refused",
            "network is unreachable",
            "max retries exceeded",
            "connection aborted",
            "servicerequesterror",
            "serviceresponseerror",
        ),
        SignInProblem(
            "Cannot reach Microsoft sign-in",
            "The app could not connect to the sign-in service. Check your internet connection (and VPN or proxy), "
            "then try again.",
            SignInAction.CHECK_NETWORK,
        ),
    ),
    (
        ("failed to open a browser", "couldn't start an http server"),
        SignInProblem(
            "No web browser could be opened",
            "The app could not open a web browser for you to sign in. Sign in from another device with a code instead.",
            SignInAction.USE_DEVICE_CODE,
        ),
    ),
    (
        ("timed out",),
        SignInProblem(
            "Sign-in not finished",
            "The sign-in page was closed or not finished in time. Try again and complete the sign-in in your browser.",
            SignInAction.SIGN_IN_AGAIN,
        ),
    ),
    (
        ("declined to consent", "consent_required", "access_denied"),
        SignInProblem(
            "Permission was not granted",
            "The app was not given permission to use your account. Sign in again and accept, or ask your IT "
            "administrator to approve the app for your organisation.",
            SignInAction.CONTACT_ADMIN,
        ),
    ),
    (
        ("multi-factor", "conditional access", "blocked by", "mfa"),
        SignInProblem(
            "Your organisation requires an extra check",
            "Your organisation's sign-in rules (multi-factor authentication or conditional access) stopped this "
            "sign-in. Sign in again and complete every step; if it still fails, ask your IT administrator.",
            SignInAction.CONTACT_ADMIN,
        ),
    ),
    (
        ("tenant provided in token does not match", "does not exist in tenant", "tenant identifier", "not found in"),
        SignInProblem(
            "Wrong organisation (tenant)",
            "You signed in to a different organisation than the one that owns the Azure OpenAI resource. Set the "
            "tenant in Advanced settings to the resource's tenant and sign in again.",
            SignInAction.SIGN_IN_AGAIN,
        ),
    ),
    (
        ("az login", "azure cli not found", "please run 'az login'"),
        SignInProblem(
            "Azure CLI is not signed in",
            "The Azure CLI is missing or not signed in. Run 'az login' in a terminal, or use browser sign-in.",
            SignInAction.SIGN_IN_AGAIN,
        ),
    ),
)

_EXPIRED = SignInProblem(
    "Please sign in again",
    "Your sign-in has expired or was removed. Sign in again to continue.",
    SignInAction.SIGN_IN_AGAIN,
)

_UNKNOWN = SignInProblem(
    "Sign-in failed",
    "Microsoft sign-in did not succeed. Try again; if it keeps failing, ask your IT administrator.",
    SignInAction.SIGN_IN_AGAIN,
)


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _messages(error: BaseException) -> str:
    # Type names join the text so a network failure is recognised by its azure-core class as well as its words.
    parts = []
    for item in _chain(error):
        parts += [type(item).__name__, str(item), str(getattr(item, "message", ""))]
    return " | ".join(parts)


def describe_sign_in_problem(error: BaseException | str) -> SignInProblem:
    """Map a sign-in failure (an exception from azure-identity/MSAL, or a service error text) to a SignInProblem."""
    if isinstance(error, EntraSignInError):
        return error.problem
    if isinstance(error, BaseException) and any(
        type(item).__name__ == "AuthenticationRequiredError" for item in _chain(error)
    ):
        # Name check, not isinstance: azure.identity is imported lazily and may not be loaded yet.
        problem = _EXPIRED
        text = _messages(error)
    else:
        text = error if isinstance(error, str) else _messages(error)
        lowered = text.lower()
        problem = next((p for needles, p in _RULES if any(n in lowered for n in needles)), _UNKNOWN)
    match = _AADSTS.search(text)
    if match is None:
        return problem
    return SignInProblem(
        problem.title,
        problem.explanation,
        problem.action,
        code=f"AADSTS{match.group(1)}",
        link=_ERROR_PAGE.format(match.group(1)),
    )
