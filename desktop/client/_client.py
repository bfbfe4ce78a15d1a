"""The Azure OpenAI v1 client: namespaces shaped like the openai SDK over one retrying send loop."""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Literal, overload

import httpx

from desktop.client._body import ACCEPT_ENCODING, BodyTooLargeError, UnsupportedEncodingError, read_limited
from desktop.client._errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    make_status_error,
    request_id_of,
)
from desktop.client._retry import RetryNotice, parse_retry_after, retry_delay, should_retry
from desktop.client._streaming import ChatCompletionStream, ResponseStream
from desktop.client._types import (
    ChatCompletion,
    Deployment,
    Response,
    parse_chat_completion,
    parse_deployments,
    parse_response,
)

__all__ = ["AzureOpenAIClient", "OnRetry", "TokenProvider"]

_log = logging.getLogger("desktop.client")
# Prompts and images in full go only to this logger, which the app enables with --verbose --log-content
# (desktop.log.CONTENT_LOGGER); plain --verbose logs their sizes.
_content_log = logging.getLogger("desktop.content")

TokenProvider = Callable[[], str | Awaitable[str]]
OnRetry = Callable[[RetryNotice], object]
OnSent = Callable[[], object]
Timeout = float | httpx.Timeout

DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=5.0)
DEPLOYMENTS_API_VERSION = "2023-03-15-preview"
# Decompressed size caps: an error explains itself in far less than 1 MB; a whole (non-streamed) answer with its
# metadata fits in 32 MB. A gateway sending more (or a gzip bomb) is cut off there, with a sentence.
MAX_ERROR_BODY = 1024 * 1024
MAX_JSON_BODY = 32 * 1024 * 1024


def _timeout(value: Timeout) -> httpx.Timeout:
    return value if isinstance(value, httpx.Timeout) else httpx.Timeout(value, connect=min(5.0, value))


class AzureOpenAIClient:
    """An async client for one Azure OpenAI resource's v1 endpoint (`responses`, `chat.completions`, `deployments`).

    `api_key` is either the key (sent as `api-key`) or a token provider, called on every attempt and sent as
    `Authorization: Bearer`. A client given `http_client` never closes it; views from `with_options` share the pool
    and leave closing to the client they came from.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | TokenProvider,
        max_retries: int = 2,
        timeout: Timeout = DEFAULT_TIMEOUT,
        http_client: httpx.AsyncClient | None = None,
        on_retry: OnRetry | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("https", "http") or not url.host:
            raise ValueError(f"The endpoint must be an http(s) URL, not {base_url!r}.")
        if isinstance(api_key, str) and not api_key.strip():
            raise ValueError("The API key is empty.")
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more.")
        self._base_url = str(url).rstrip("/")
        self._auth = api_key
        self.max_retries = max_retries
        self.timeout = _timeout(timeout)
        self._on_retry = on_retry
        self._sleep = asyncio.sleep if sleep is None else sleep
        self._default_headers = dict(default_headers or {})
        self._owns_http = http_client is None
        self._http = (
            http_client if http_client is not None else httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        )
        self._bind()

    def _bind(self) -> None:
        self.responses = Responses(self)
        self.chat = Chat(self)
        self.deployments = Deployments(self)

    @property
    def base_url(self) -> str:
        """The v1 base URL, without a trailing slash."""
        return self._base_url

    def with_options(
        self,
        *,
        max_retries: int | None = None,
        timeout: Timeout | None = None,
        on_retry: OnRetry | None = None,
    ) -> AzureOpenAIClient:
        """Return a view with other defaults that shares this client's connection pool."""
        view = copy.copy(self)
        view._owns_http = False
        if max_retries is not None:
            view.max_retries = max_retries
        if timeout is not None:
            view.timeout = _timeout(timeout)
        if on_retry is not None:
            view._on_retry = on_retry
        view._bind()
        return view

    async def aclose(self) -> None:
        """Close the connection pool if this client created it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AzureOpenAIClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # ---- the send loop ---------------------------------------------------------------------------------------------

    async def _headers(self, retries_taken: int, stream: bool, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = {
            "accept": "text/event-stream" if stream else "application/json",
            "accept-encoding": ACCEPT_ENCODING,
            "x-stainless-retry-count": str(retries_taken),
            **self._default_headers,
        }
        if isinstance(self._auth, str):
            headers["api-key"] = self._auth
        else:
            token = self._auth()
            if inspect.isawaitable(token):
                token = await token
            headers["authorization"] = f"Bearer {token}"
        if extra:
            headers.update(extra)
        return headers

    async def _send(
        self,
        method: str,
        url: str,
        *,
        body: Mapping[str, Any] | None = None,
        stream: bool = False,
        max_retries: int | None = None,
        timeout: Timeout | None = None,
        on_retry: OnRetry | None = None,
        on_sent: OnSent | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send with retries (contract section 2) and return the open 2xx response; the caller must close it.

        `on_sent` is called each time a request has been written to the connection (before any answer).
        """
        retries_allowed = self.max_retries if max_retries is None else max_retries
        request_timeout = self.timeout if timeout is None else _timeout(timeout)
        notify = self._on_retry if on_retry is None else on_retry
        content = None
        if body is not None:
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            if _content_log.isEnabledFor(logging.DEBUG):
                _content_log.debug("request body %s", content.decode())
            elif _log.isEnabledFor(logging.DEBUG):
                _log.debug("request body: %s", _body_summary(body, len(content)))
        path = httpx.URL(url).path
        retries_taken = 0
        while True:
            headers = await self._headers(retries_taken, stream, extra_headers)
            if content is not None:
                headers["content-type"] = "application/json"
            request = self._http.build_request(method, url, content=content, headers=headers, timeout=request_timeout)
            if on_sent is not None:
                request.extensions["trace"] = _sent_tracer(on_sent)
            started = time.perf_counter()
            error: APIError
            retry_after: float | None = None
            try:
                response = await self._http.send(request, stream=True)
            except httpx.TimeoutException as exc:
                error = APITimeoutError(f"The request timed out ({type(exc).__name__}).", reached=_reached_server(exc))
                retryable = True
                outcome = type(exc).__name__
            except httpx.TransportError as exc:
                error = APIConnectionError(
                    f"Could not connect: {exc or type(exc).__name__}", reached=_reached_server(exc)
                )
                retryable = True
                outcome = type(exc).__name__
            else:
                outcome = str(response.status_code)
                if response.is_success:
                    self._log_attempt(
                        method, path, outcome, retries_taken=retries_taken, headers=response.headers, started=started
                    )
                    return response
                error, retryable = await self._status_error(response)
                retry_after = error.retry_after
            self._log_attempt(
                method, path, outcome, retries_taken=retries_taken, headers=_error_headers(error), started=started
            )
            delay = retry_delay(retries_taken, retry_after, 1.0 - 0.25 * random.random())
            if not retryable or retries_taken >= retries_allowed or delay is None:
                raise error
            retries_taken += 1
            _log.info("retrying %s %s in %.2f s (retry %d of %d)", method, path, delay, retries_taken, retries_allowed)
            if notify is not None:
                notify(RetryNotice(retries_taken, retries_allowed, delay, error))
            await self._sleep(delay)

    async def _status_error(self, response: httpx.Response) -> tuple[APIStatusError, bool]:
        """Read and close an error response (before any retry sleep) and map it to an error."""
        try:
            content = await read_limited(response, MAX_ERROR_BODY)
        except (httpx.HTTPError, BodyTooLargeError, UnsupportedEncodingError):
            content = b""  # the status says enough; a body cut short, huge or unreadable must not hide it
        finally:
            await response.aclose()
        if _content_log.isEnabledFor(logging.DEBUG):
            _content_log.debug("error body %s", content[:4000].decode("utf-8", "replace"))
        elif _log.isEnabledFor(logging.DEBUG):
            _log.debug("error body: %d bytes", len(content))
        headers = response.headers
        retry_after = parse_retry_after(headers, time.time())
        error = make_status_error(response.status_code, headers, content, retry_after=retry_after)
        return error, should_retry(response.status_code, headers)

    @staticmethod
    def _log_attempt(
        method: str, path: str, outcome: str, *, retries_taken: int, headers: Mapping[str, str], started: float
    ) -> None:
        _log.info(
            "%s %s -> %s (attempt %d, request id %s, %.0f ms)",
            method,
            path,
            outcome,
            retries_taken + 1,
            request_id_of(headers),
            (time.perf_counter() - started) * 1000,
        )

    async def _create(
        self,
        path: str,
        body: dict[str, Any],
        *,
        stream: bool,
        max_retries: int | None,
        timeout: Timeout | None,
        on_retry: OnRetry | None,
        on_sent: OnSent | None,
        extra_headers: Mapping[str, str] | None,
    ) -> httpx.Response | tuple[dict[str, Any], str | None]:
        """POST a `create` call: the open response when streaming, else the JSON body and request id."""
        url = self._url(path)
        if stream:
            return await self._send(
                "POST",
                url,
                body={**body, "stream": True},
                stream=True,
                max_retries=max_retries,
                timeout=timeout,
                on_retry=on_retry,
                on_sent=on_sent,
                extra_headers=extra_headers,
            )
        return await self._request_json(
            "POST",
            url,
            body=body,
            max_retries=max_retries,
            timeout=timeout,
            on_retry=on_retry,
            on_sent=on_sent,
            extra_headers=extra_headers,
        )

    async def _request_json(
        self,
        method: str,
        url: str,
        *,
        body: Mapping[str, Any] | None = None,
        max_retries: int | None = None,
        timeout: Timeout | None = None,
        on_retry: OnRetry | None = None,
        on_sent: OnSent | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> tuple[dict[str, Any], str | None]:
        """Send, read the whole JSON object body, close, and return it with the request id."""
        response = await self._send(
            method,
            url,
            body=body,
            max_retries=max_retries,
            timeout=timeout,
            on_retry=on_retry,
            on_sent=on_sent,
            extra_headers=extra_headers,
        )
        request_id = request_id_of(response.headers)
        try:
            content = await read_limited(response, MAX_JSON_BODY)
        except BodyTooLargeError as exc:
            raise APIResponseValidationError(
                f"The service's answer is {exc}, more than this app accepts; it was not read to the end.",
                status_code=response.status_code,
                request_id=request_id,
            ) from None
        except UnsupportedEncodingError as exc:
            raise APIResponseValidationError(
                f"The service compressed its answer in a way this app cannot read ({exc}).",
                status_code=response.status_code,
                request_id=request_id,
            ) from None
        except httpx.TimeoutException:
            raise APITimeoutError("The answer did not arrive in time.", request_id=request_id, reached=True) from None
        except httpx.HTTPError as exc:
            raise APIConnectionError(
                f"The connection was lost while reading the answer ({type(exc).__name__}).",
                request_id=request_id,
                reached=True,
            ) from None
        finally:
            await response.aclose()
        try:
            data = json.loads(content)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise APIResponseValidationError(
                "The service answered with something that is not the expected JSON"
                f" ({response.headers.get('content-type', 'no content type')}).",
                status_code=response.status_code,
                request_id=request_id,
                content_type=response.headers.get("content-type"),
            )
        return data, request_id

    def _url(self, path: str) -> str:
        """Return the absolute URL of a path under the v1 base URL."""
        return f"{self._base_url}/{path.lstrip('/')}"

    def _resource_url(self, path: str) -> str:
        """Return the absolute URL of a path under the resource root (outside `/openai/v1`)."""
        base = self._base_url
        root = base[: -len("/openai/v1")] if base.endswith("/openai/v1") else str(httpx.URL(base).copy_with(path="/"))
        return f"{root.rstrip('/')}/{path.lstrip('/')}"


def _body_summary(body: Mapping[str, Any], size: int) -> str:
    """What a request carried, as sizes only: never the words of a prompt or the bytes of an image."""
    turns = body.get("input", body.get("messages"))
    images = text_chars = 0
    stack: list[tuple[str, Any]] = [("text", turns), ("text", body.get("instructions"))]
    while stack:
        key, item = stack.pop()
        if isinstance(item, str):
            if item.startswith("data:"):
                images += 1
            elif key in ("text", "content"):
                text_chars += len(item)
        elif isinstance(item, Mapping):
            stack.extend(item.items())
        elif isinstance(item, list):
            stack.extend((key, x) for x in item)
    count = len(turns) if isinstance(turns, list) else 0
    return f"{size} bytes, {count} messages, {text_chars} characters of text, {images} images"


def _sent_tracer(on_sent: OnSent) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
    """httpx's documented `trace` request extension, reduced to one moment: the request is on the wire."""

    async def trace(event: str, _info: dict[str, Any]) -> None:
        if event.endswith(".send_request_body.complete"):  # http11.* or http2.*
            on_sent()

    return trace


def _reached_server(exc: httpx.TransportError) -> bool:
    """Whether a transport failure happened after a connection to the server was made (it was reached)."""
    return not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.ProxyError | httpx.PoolTimeout)


def _error_headers(error: APIError) -> Mapping[str, str]:
    """Return the kept response headers of a status error (empty for errors without a response)."""
    return error.headers if isinstance(error, APIStatusError) else {}


class Responses:
    """`client.responses`: the Responses API."""

    def __init__(self, client: AzureOpenAIClient) -> None:
        self._client = client

    @overload
    async def create(
        self,
        *,
        model: str,
        stream: Literal[False] = False,
        max_retries: int | None = None,
        timeout: Timeout | None = None,
        on_retry: OnRetry | None = None,
        on_sent: OnSent | None = None,
        extra_headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> Response: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        stream: Literal[True],
        max_retries: int | None = None,
        timeout: Timeout | None = None,
        on_retry: OnRetry | None = None,
        on_sent: OnSent | None = None,
        extra_headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> ResponseStream: ...

    async def create(
        self,
        *,
        model: str,
        stream: bool = False,
        max_retries: int | None = None,
        timeout: Timeout | None = None,
        on_retry: OnRetry | None = None,
        on_sent: OnSent | None = None,
        extra_headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> Response | ResponseStream:
        """Create a response; every other keyword (input, instructions, store, ...) goes into the JSON body."""
        result = await self._client._create(
            "responses",
            {"model": model, **params},
            stream=stream,
            max_retries=max_retries,
            timeout=timeout,
            on_retry=on_retry,
            on_sent=on_sent,
            extra_headers=extra_headers,
        )
        if isinstance(result, httpx.Response):
            return ResponseStream(result)
        return parse_response(*result)


class Completions:
    """`client.chat.completions`: the Chat Completions API."""

    def __init__(self, client: AzureOpenAIClient) -> None:
        self._client = client

    @overload
    async def create(
        self,
        *,
        messages: list[dict[str, Any]],
        model: str,
        stream: Literal[False] = False,
        max_retries: int | None = None,
        timeout: Timeout | None = None,
        on_retry: OnRetry | None = None,
        on_sent: OnSent | None = None,
        extra_headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> ChatCompletion: ...

    @overload
    async def create(
        self,
        *,
        messages: list[dict[str, Any]],
        model: str,
        stream: Literal[True],
        max_retries: int | None = None,
        timeout: Timeout | None = None,
        on_retry: OnRetry | None = None,
        on_sent: OnSent | None = None,
        extra_headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> ChatCompletionStream: ...

    async def create(
        self,
        *,
        messages: list[dict[str, Any]],
        model: str,
        stream: bool = False,
        max_retries: int | None = None,
        timeout: Timeout | None = None,
        on_retry: OnRetry | None = None,
        on_sent: OnSent | None = None,
        extra_headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> ChatCompletion | ChatCompletionStream:
        """Create a chat completion; every other keyword (max_tokens, temperature, ...) goes into the JSON body."""
        result = await self._client._create(
            "chat/completions",
            {"messages": messages, "model": model, **params},
            stream=stream,
            max_retries=max_retries,
            timeout=timeout,
            on_retry=on_retry,
            on_sent=on_sent,
            extra_headers=extra_headers,
        )
        if isinstance(result, httpx.Response):
            return ChatCompletionStream(result)
        return parse_chat_completion(*result)


class Chat:
    """`client.chat`: holds `completions`."""

    def __init__(self, client: AzureOpenAIClient) -> None:
        self.completions = Completions(client)


class Deployments:
    """`client.deployments`: the resource's deployments from the data plane (contract section 7)."""

    def __init__(self, client: AzureOpenAIClient) -> None:
        self._client = client

    async def list(self, *, max_retries: int | None = None, timeout: Timeout | None = None) -> list[Deployment]:
        """List deployments; newer resources may answer 404, which callers should treat as "unknown"."""
        client = self._client
        url = client._resource_url(f"openai/deployments?api-version={DEPLOYMENTS_API_VERSION}")
        data, _ = await client._request_json("GET", url, max_retries=max_retries, timeout=timeout)
        return parse_deployments(data)
