"""Async Entra sessions: sign-in, silent tokens and sign-out on one worker thread, awaited from the event loop."""

from __future__ import annotations

import abc
import asyncio
import logging
import socket
import threading
import time
import traceback
import urllib.request
import warnings
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, TypeVar

from ._entra_cache import forget_cached_account
from ._entra_options import ENTRA_CLOUDS, EntraAccount, EntraOptions
from ._entra_problems import (
    EntraSignInError,
    SignInAction,
    SignInCancelledError,
    SignInRequiredError,
    TokenCacheUnavailableError,
    describe_sign_in_problem,
)

if TYPE_CHECKING:
    from azure.core.credentials import AccessTokenInfo

__all__ = ["DEFAULT_CACHE_NAME", "AzureCliSession", "DeviceCodePrompt", "EntraSession", "TokenProvider"]

_log = logging.getLogger(__name__)
T = TypeVar("T")

#: The app's own MSAL cache name, so it never shares tokens with developer tools.
DEFAULT_CACHE_NAME: Final = "azure-openai-chat-entra"
#: Refresh this many seconds before expiry (azure-core uses the same margin).
REFRESH_MARGIN_S: Final = 300

#: Returns a bearer token for the provider's scope.
TokenProvider = Callable[[], Awaitable[str]]
#: Receives (verification_uri, user_code, expires_on) on the event loop thread.
DeviceCodePrompt = Callable[[str, str, datetime], None]


class _CachedToken:
    """One scope's token, refreshed REFRESH_MARGIN_S before expiry; concurrent awaits share one fetch."""

    def __init__(self, fetch: Callable[[], Awaitable[AccessTokenInfo]]) -> None:
        self._fetch = fetch
        self._token: AccessTokenInfo | None = None
        self._lock = asyncio.Lock()

    def _fresh(self) -> bool:
        token, now = self._token, time.time()
        if token is None or token.expires_on - now < REFRESH_MARGIN_S:
            return False
        return token.refresh_on is None or token.refresh_on > now

    async def __call__(self) -> str:
        if not self._fresh():
            async with self._lock:
                if not self._fresh():
                    self._token = await self._fetch()
        assert self._token is not None
        return self._token.token


class _WorkerSession(abc.ABC):
    """Runs every sync credential call on one dedicated thread: concurrent calls would open two browser tabs."""

    def __init__(self, default_scope: str) -> None:
        self._default_scope = default_scope
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="entra-credential")
        self._providers: dict[str, _CachedToken] = {}
        self._closed = False

    async def _call(self, work: Callable[[], T]) -> T:
        if self._closed:
            raise RuntimeError("This sign-in session is closed.")
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    @abc.abstractmethod
    async def get_token(self, scope: str | None = None) -> AccessTokenInfo:
        """A fresh access token for `scope` (default: the cloud's Azure OpenAI scope)."""

    def token_provider(self, scope: str | None = None) -> TokenProvider:
        """An async callable returning a cached bearer token for `scope`, refreshed ~5 minutes before expiry."""
        scope = scope or self._default_scope
        provider = self._providers.get(scope)
        if provider is None:
            provider = self._providers[scope] = _CachedToken(lambda: self.get_token(scope))
        return provider

    async def close(self) -> None:
        """Release the worker thread (waits for a running call to finish); closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        self._providers.clear()
        await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown)


@dataclass
class _Attempt:
    """One interactive sign-in in progress, so cancel() can reach it from the loop thread."""

    port: int | None
    cancelled: threading.Event = field(default_factory=threading.Event)

    def raise_if_cancelled(self, request: object) -> None:
        # azure-core raw_request_hook: stops device-code polling (and any other request) after Cancel.
        if self.cancelled.is_set():
            raise SignInCancelledError(describe_sign_in_problem("cancelled"))


def _release_frames(error: BaseException) -> None:
    """Free what a failed flow's finished frames still hold, now rather than at some later garbage collection.

    azure-identity's browser flow keeps its loopback redirect server in a local variable and does not close it when
    the flow fails before the redirect (no browser, no network): the port stays bound while the traceback lives.
    Clearing the finished frames (the standard library's public `traceback.clear_frames`) drops the server, whose
    socket is then closed at once; its "unclosed socket" ResourceWarning is expected here and not shown.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            traceback.clear_frames(current.__traceback__)
            current = current.__cause__ or current.__context__


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _poke_redirect(port: int) -> None:
    # The credential's loopback server blocks until a request or its timeout; an error redirect without `state`
    # wakes it and the flow ends with "state mismatch". Refused/failed means the server is already gone: fine.
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/?error=access_denied", timeout=5):
            pass
    except OSError:
        _log.debug("cancel: redirect server on port %d already closed", port)


class EntraSession(_WorkerSession):
    """A Microsoft Entra sign-in: browser or device code, silent restart from a saved record, sign-out."""

    def __init__(
        self,
        options: EntraOptions,
        *,
        cache_name: str = DEFAULT_CACHE_NAME,
        allow_unencrypted_storage: bool = False,
        browser_timeout: float = 180.0,
    ) -> None:
        super().__init__(options.scope)
        self._options = options
        self._cache_name = cache_name
        self._allow_unencrypted = allow_unencrypted_storage
        self._browser_timeout = browser_timeout
        self._attempt: _Attempt | None = None
        self._credential: Any = None  # only touched on the worker thread
        self._account: EntraAccount | None = None
        if options.record_json:
            try:
                self._account = EntraAccount.from_record_json(options.record_json)
            except ValueError:
                _log.warning("The saved Entra sign-in record is damaged; the user must sign in again")

    @property
    def account(self) -> EntraAccount | None:
        """The signed-in account, or None."""
        return self._account

    def allow_unencrypted_storage(self) -> None:
        """Record the user's explicit consent to keep the sign-in in a private unencrypted file."""
        self._allow_unencrypted = True

    def _common_kwargs(self) -> dict[str, Any]:
        from azure.identity import TokenCachePersistenceOptions

        kwargs: dict[str, Any] = {
            "cache_persistence_options": TokenCachePersistenceOptions(
                name=self._cache_name, allow_unencrypted_storage=self._allow_unencrypted
            ),
            # Silent calls must never pop a browser on their own: the UI offers "Sign in again" instead.
            "disable_automatic_authentication": True,
        }
        if self._options.authority_host:
            kwargs["disable_instance_discovery"] = True
        return kwargs

    def _sign_in_kwargs(self, attempt: _Attempt) -> dict[str, Any]:
        return {
            **self._common_kwargs(),
            "authority": self._options.authority,
            "tenant_id": self._options.tenant,
            "client_id": self._options.client_id,
            "raw_request_hook": attempt.raise_if_cancelled,
        }

    def _silent_credential(self) -> Any:
        from azure.identity import AuthenticationRecord, InteractiveBrowserCredential

        assert self._account is not None
        kwargs = self._common_kwargs()
        if self._options.tenant not in ("organizations", "common"):
            kwargs["tenant_id"] = self._options.tenant
        # No authority=: the record carries it, and passing both is a TypeError.
        record = AuthenticationRecord.deserialize(self._account.record_json)
        return InteractiveBrowserCredential(authentication_record=record, **kwargs)

    def cancel(self) -> None:
        """Cancel a pending interactive sign-in; it then ends promptly with SignInCancelledError."""
        attempt = self._attempt
        if attempt is None or attempt.cancelled.is_set():
            return
        attempt.cancelled.set()
        if attempt.port is not None:
            threading.Thread(target=_poke_redirect, args=(attempt.port,), daemon=True, name="entra-cancel").start()

    async def sign_in_browser(self) -> EntraAccount:
        """Sign in in the system browser; raises EntraSignInError (USE_DEVICE_CODE if no browser opens)."""
        attempt = _Attempt(port=_free_port())
        timeout = max(1, round(self._browser_timeout))

        def build() -> Any:
            from azure.identity import InteractiveBrowserCredential

            return InteractiveBrowserCredential(
                redirect_uri=f"http://localhost:{attempt.port}",
                timeout=timeout,
                **self._sign_in_kwargs(attempt),
            )

        return await self._sign_in(attempt, build)

    async def sign_in_device_code(self, prompt: DeviceCodePrompt) -> EntraAccount:
        """Sign in from another device: `prompt` gets the web address and code to show, on the loop thread."""
        attempt = _Attempt(port=None)
        loop = asyncio.get_running_loop()

        def on_code(uri: str, code: str, expires_on: datetime) -> None:
            loop.call_soon_threadsafe(prompt, uri, code, expires_on)

        def build() -> Any:
            from azure.identity import DeviceCodeCredential

            return DeviceCodeCredential(prompt_callback=on_code, **self._sign_in_kwargs(attempt))

        return await self._sign_in(attempt, build)

    async def _sign_in(self, attempt: _Attempt, build: Callable[[], Any]) -> EntraAccount:
        self.cancel()  # a new sign-in replaces one still pending; the worker frees up promptly
        self._attempt = attempt
        scope = self._options.scope

        def work() -> str:
            credential = build()
            try:
                record = credential.authenticate(scopes=[scope])
            except Exception as error:
                _release_frames(error)
                raise
            if attempt.cancelled.is_set():
                credential.close()
                raise SignInCancelledError(describe_sign_in_problem("cancelled"))
            previous, self._credential = self._credential, credential
            if previous is not None:
                previous.close()
            return str(record.serialize())

        try:
            record_json = await self._call(work)
        except asyncio.CancelledError:
            self.cancel()
            raise
        except Exception as error:
            raise self._translate(error, attempt) from error
        finally:
            if self._attempt is attempt:
                self._attempt = None
        self._providers.clear()
        self._account = EntraAccount.from_record_json(record_json)
        return self._account

    def _translate(self, error: Exception, attempt: _Attempt | None = None) -> EntraSignInError:
        if attempt is not None and attempt.cancelled.is_set():
            return SignInCancelledError(describe_sign_in_problem("cancelled"))
        if isinstance(error, EntraSignInError):
            return error
        problem = describe_sign_in_problem(error)
        if problem.action is SignInAction.ALLOW_UNENCRYPTED:
            return TokenCacheUnavailableError(problem)
        from azure.identity import AuthenticationRequiredError

        if isinstance(error, AuthenticationRequiredError):
            return SignInRequiredError(problem)
        return EntraSignInError(problem)

    async def get_token(self, scope: str | None = None) -> AccessTokenInfo:
        """A token without user interaction; raises SignInRequiredError when the user must sign in (again)."""
        scope = scope or self._default_scope
        account = self._account
        if account is None:
            raise SignInRequiredError(describe_sign_in_problem(_not_signed_in()))

        def work() -> AccessTokenInfo:
            if self._account is not account:
                raise _not_signed_in()  # signed out (or in as someone else) while this call waited
            if self._credential is None:
                self._credential = self._silent_credential()
            info: AccessTokenInfo = self._credential.get_token_info(scope)
            return info

        try:
            return await self._call(work)
        except Exception as error:
            raise self._translate(error) from error

    async def sign_out(self) -> None:
        """Forget the account: drop credentials and the record, and delete its tokens from the persistent cache."""
        self.cancel()
        account, self._account = self._account, None
        self._providers.clear()

        def work() -> None:
            credential, self._credential = self._credential, None
            if credential is not None:
                credential.close()
            if account is not None:
                removed = forget_cached_account(
                    self._cache_name, account.home_account_id, allow_unencrypted_storage=self._allow_unencrypted
                )
                _log.info("Signed out; removed %d cached entries", removed)

        try:
            await self._call(work)
        except Exception as error:
            raise self._translate(error) from error

    async def close(self) -> None:
        """Cancel any pending sign-in, close the credential and release the worker thread."""
        if self._closed:
            return
        self.cancel()

        def work() -> None:
            credential, self._credential = self._credential, None
            if credential is not None:
                credential.close()

        await self._call(work)
        await super().close()


def _not_signed_in() -> Exception:
    from azure.identity import AuthenticationRequiredError

    return AuthenticationRequiredError([], message="Not signed in")


class AzureCliSession(_WorkerSession):
    """Tokens from the Azure CLI's own sign-in (`az login`), for people who already use it."""

    def __init__(self, *, tenant: str | None = None, cloud: str = "public", process_timeout: int = 20) -> None:
        if cloud not in ENTRA_CLOUDS:
            raise ValueError(f"Unknown cloud {cloud!r}; choose one of {', '.join(ENTRA_CLOUDS)}.")
        super().__init__(ENTRA_CLOUDS[cloud].openai_scope)
        self._tenant = tenant if tenant not in (None, "", "organizations", "common") else None
        self._process_timeout = process_timeout
        self._credential: Any = None

    async def get_token(self, scope: str | None = None) -> AccessTokenInfo:
        """A token from `az account get-access-token`; raises EntraSignInError if the CLI is missing or signed out."""
        scope = scope or self._default_scope

        def work() -> AccessTokenInfo:
            from azure.identity import AzureCliCredential

            if self._credential is None:
                self._credential = AzureCliCredential(
                    tenant_id=self._tenant or "", process_timeout=self._process_timeout
                )
            info: AccessTokenInfo = self._credential.get_token_info(scope)
            return info

        try:
            return await self._call(work)
        except Exception as error:
            raise EntraSignInError(describe_sign_in_problem(error)) from error
