"""The aiohttp application and the `Simulator` that hosts it on a loopback port."""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import math
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web

from . import _azure as azure
from ._answers import all_text, choose_answer, count_tokens, last_user_text, parse_magic, split_deltas, stretch_deltas
from ._cache import PromptCache
from ._config import Deployment, Fault, FaultKind, RemoteAddressError, RequestRecord, SimulatorConfig, is_loopback
from ._events import Part, Turn, chat_body, chat_events, responses_body, responses_events
from ._files import file_problem
from ._models import refusal

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_RATE_KINDS = {
    FaultKind.RATE_REQUESTS: "requests",
    FaultKind.RATE_TOKENS: "tokens",
    FaultKind.RATE_QUOTA: "quota",
    FaultKind.RATE_NEVER_FITS: "never-fits",
}
_PRE_HEADER = {
    FaultKind.STATUS,
    FaultKind.DROP,
    FaultKind.STALL,
    FaultKind.SLOW_FIRST_BYTE,
    FaultKind.GATEWAY_HTML,
    *_RATE_KINDS,
}
_MID_STREAM = {FaultKind.DROP_MID_STREAM, FaultKind.STALL_MID_STREAM, FaultKind.MALFORMED_SSE}
_FLUSH_BYTES = 64 * 1024
_REASONING_SUMMARY = "**Planning the answer**\n\nThe user asked a question; I will think it through and answer clearly."
_CATALOGUE = ("gpt-4.1-2025-04-14", "gpt-4o-mini-2024-07-18", "o4-mini-2025-04-16", "text-embedding-3-large")


@dataclass
class _Context:
    """What the middleware learned about a request, for the handlers."""

    request_id: str
    json: Any
    fault: Fault | None = None
    deltas: int | None = None
    deployment: Deployment | None = None


_CONTEXT = web.RequestKey("simulator_context", _Context)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(body, status=status, headers=headers, dumps=lambda v: json.dumps(v, ensure_ascii=False))


def _drop(request: web.Request) -> web.Response:
    """Close the connection; the returned response is never sent (aiohttp ignores the closed transport)."""
    if request.transport is not None:
        request.transport.close()
    return web.Response()


class Simulator:
    """A loopback Azure OpenAI v1 + ARM server; `async with Simulator(config) as sim:` runs it."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.requests: list[RequestRecord] = []
        # Called (in the server's thread) with each request as it arrives, so tests can wait on it without polling.
        self.on_request: Callable[[RequestRecord], None] | None = None
        self._lock = threading.Lock()  # tests push faults and answers from other threads (SimulatorThread)
        self._faults: collections.deque[Fault] = collections.deque()
        self._answers: collections.deque[str] = collections.deque()
        self._prompts = PromptCache()
        self._windows: dict[str, collections.deque[float]] = {}
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0

    # ----------------------------------------------------------------------------------------- public surface

    @property
    def port(self) -> int:
        """The bound TCP port (after start)."""
        return self._port

    @property
    def resource_url(self) -> str:
        """The resource endpoint, like `https://RESOURCE.openai.azure.com/`."""
        return f"http://{self.config.host}:{self._port}/"

    @property
    def base_url(self) -> str:
        """The v1 base URL, ending `/openai/v1/`."""
        return self.resource_url + "openai/v1/"

    @property
    def arm_url(self) -> str:
        """The Azure Resource Manager base URL (the same server; point the ARM base URL of discovery here)."""
        return f"http://{self.config.host}:{self._port}"

    @property
    def api_key(self) -> str:
        """The first accepted API key."""
        return self.config.api_keys[0]

    def push_fault(self, fault: Fault, times: int = 1) -> None:
        """Queue a fault for the next `times` matching requests."""
        with self._lock:
            self._faults.extend([fault] * times)

    def push_answer(self, text: str) -> None:
        """Queue the text of the next answer (Responses or Chat)."""
        with self._lock:
            self._answers.append(text)

    def clear(self) -> None:
        """Forget queued faults and answers, the request log and the rate-limit windows."""
        with self._lock:
            self._faults.clear()
            self._answers.clear()
            self._prompts.clear()
            self.requests.clear()
        self._windows.clear()

    async def start(self) -> None:
        """Bind and serve (port 0 picks a free port); a non-loopback address needs `allow_remote`."""
        if not self.config.allow_remote and not is_loopback(self.config.host):
            raise RemoteAddressError(
                f"The simulator serves only this computer (127.0.0.1 or ::1), not {self.config.host}: anyone who "
                "can reach it could use it. Pass --allow-remote to serve other machines on purpose."
            )
        app = web.Application(middlewares=[self._middleware])
        app.on_response_prepare.append(self._add_headers)
        app.router.add_post("/openai/v1/responses", self._responses)
        app.router.add_post("/openai/v1/chat/completions", self._chat)
        app.router.add_get("/openai/v1/models", self._models)
        app.router.add_get("/openai/deployments", self._data_plane_deployments)
        app.router.add_get("/subscriptions", self._arm_subscriptions)
        accounts = "/subscriptions/{sub}/providers/Microsoft.CognitiveServices/accounts"
        app.router.add_get(accounts, self._arm_accounts)
        app.router.add_get(
            "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices/accounts/{name}/deployments",
            self._arm_deployments,
        )
        self._stopping = asyncio.Event()
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        server = site._server  # aiohttp exposes the bound port only here (port 0 = any free port)
        assert isinstance(server, asyncio.base_events.Server)
        self._port = server.sockets[0].getsockname()[1]
        log.info("Azure OpenAI simulator serving %s", self.base_url)

    async def stop(self) -> None:
        """End stalls and paced streams, close every connection and stop serving."""
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ---------------------------------------------------------------------------------- request pipeline

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        raw = await request.read()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        context = _Context(str(uuid.uuid4()), body)
        request[_CONTEXT] = context
        retry = request.headers.get("x-stainless-retry-count", "")
        record = RequestRecord(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers={k.lower(): v for k, v in request.headers.items()},
            json=body,
            retry_count=int(retry) if retry.isdigit() else None,
            request_id=context.request_id,
        )
        with self._lock:
            self.requests.append(record)
        if self.on_request is not None:
            self.on_request(record)
        fault, context.deltas = self._fault_for(request.path, body)
        context.fault = fault
        if fault is not None and fault.kind in _PRE_HEADER:
            early = await self._pre_header_fault(request, fault)
            if early is not None:
                return early
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return _json(404, {"error": {"code": "404", "message": "Resource not found"}})
        except web.HTTPMethodNotAllowed:
            return _json(405, {"error": {"code": "405", "message": "Method not allowed"}})

    def _fault_for(self, path: str, body: Any) -> tuple[Fault | None, int | None]:
        with self._lock:
            for fault in self._faults:
                if fault.path is None or fault.path in path:
                    self._faults.remove(fault)
                    return fault, None
        if isinstance(body, dict):
            return parse_magic(last_user_text(body.get("input", body.get("messages"))))
        return None, None

    async def _pre_header_fault(self, request: web.Request, fault: Fault) -> web.StreamResponse | None:
        kind = fault.kind
        if kind is FaultKind.SLOW_FIRST_BYTE:
            if not await self._wait(fault.seconds):
                return _drop(request)
            return None
        if kind is FaultKind.DROP:
            return _drop(request)
        if kind is FaultKind.STALL:
            await (self._wait(fault.seconds) if fault.seconds > 0 else self._stopping.wait())
            return _drop(request)
        headers = dict(fault.headers)
        if kind in _RATE_KINDS:
            seconds = round(fault.seconds) if fault.seconds > 0 else None
            rate_body, rate_headers = azure.rate_limit_429(_RATE_KINDS[kind], self._operation(request), seconds)
            return _json(429, rate_body, {**rate_headers, **headers})
        if kind is FaultKind.GATEWAY_HTML:
            body = fault.body if isinstance(fault.body, str) else azure.GATEWAY_HTML
            return web.Response(status=fault.status, text=body, content_type="text/html", headers=headers)
        if fault.body is not None:
            return _json(fault.status, fault.body, headers)
        retry_after = headers.get("retry-after", "1")
        seconds = int(retry_after) if retry_after.isdigit() else 1
        return _json(fault.status, azure.status_error_body(fault.status, self._operation(request), seconds), headers)

    async def _add_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        context = request.get(_CONTEXT)
        request_id = context.request_id if context is not None else str(uuid.uuid4())
        response.headers.setdefault("x-request-id", request_id)
        response.headers.setdefault("apim-request-id", str(uuid.uuid5(uuid.NAMESPACE_URL, request_id)))
        response.headers.setdefault("x-ms-region", self.config.region)

    async def _wait(self, seconds: float) -> bool:
        """Sleep, but return False at once if the server is stopping."""
        if self._stopping.is_set():
            return False
        if seconds <= 0:
            return True
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds * self.config.time_scale)
        except TimeoutError:
            return True
        return False

    @staticmethod
    def _operation(request: web.Request) -> str:
        return "Responses_Create" if request.path.endswith("/responses") else "ChatCompletions_Create"

    # ------------------------------------------------------------------------------------------ auth

    def _auth(self, request: web.Request) -> web.Response | None:
        cfg = self.config
        key = request.headers.get("api-key")
        if key is not None:
            return None if key in cfg.api_keys else _json(401, azure.error_body("401", azure.BAD_KEY_MESSAGE))
        authorization = request.headers.get("authorization")
        if not authorization:
            return _json(401, azure.error_body("401", azure.MISSING_KEY_MESSAGE))
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and (token in cfg.api_keys or token in cfg.tokens):
            return None
        if scheme.lower() == "bearer" and token in cfg.tokens_without_role:
            return _json(401, azure.permission_denied_body(cfg.principal_id, request.path))
        return _json(401, azure.bad_token_body())

    def _arm_auth(self, request: web.Request) -> web.Response | None:
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if not authorization:
            return _json(
                401,
                azure.arm_error_body(
                    "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
                ),
            )
        if scheme.lower() == "bearer" and token.strip() in self.config.arm_tokens:
            if "api-version" not in request.query:
                return _json(
                    400,
                    azure.arm_error_body(
                        "MissingApiVersionParameter",
                        "The api-version query parameter (?api-version=) is required for all requests.",
                    ),
                )
            return None
        if scheme.lower() == "bearer" and token.strip() in self.config.tokens:
            return _json(
                401,
                azure.arm_error_body(
                    "InvalidAuthenticationTokenAudience",
                    "The access token has been obtained for wrong audience or resource "
                    "'https://cognitiveservices.azure.com'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/',"
                    "'https://management.azure.com/'.",
                ),
            )
        return _json(401, azure.arm_error_body("InvalidAuthenticationToken", "The access token is invalid."))

    # ----------------------------------------------------------------------------------- inference routes

    async def _responses(self, request: web.Request) -> web.StreamResponse:
        return await self._inference(request, "responses")

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        return await self._inference(request, "chat")

    async def _inference(self, request: web.Request, api: str) -> web.StreamResponse:
        if (denied := self._auth(request)) is not None:
            return denied
        context = request[_CONTEXT]
        body = context.json
        if not isinstance(body, dict):
            return _json(400, azure.invalid_json_body())
        name = body.get("model")
        if not isinstance(name, str) or not name:
            return _json(400, azure.missing_parameter_body("model"))
        deployment = {d.name: d for d in self.config.deployments}.get(name)
        if deployment is None:
            return _json(404, azure.error_body("DeploymentNotFound", azure.DEPLOYMENT_NOT_FOUND_MESSAGE))
        context.deployment = deployment
        messages_field = "input" if api == "responses" else "messages"
        if not body.get(messages_field):
            return _json(400, azure.missing_parameter_body(messages_field))
        if api == "responses" and not deployment.responses:
            return _json(400, azure.unsupported_operation_body("responses", deployment.model))
        if api == "chat" and not deployment.chat:
            return _json(400, azure.unsupported_operation_body("chatCompletion", deployment.model))
        if (refused := refusal(deployment, body, api)) is not None:
            return _json(400, refused)
        if (invalid := _invalid_limit(body, api)) is not None:
            return invalid
        if (refused := file_problem(body, api, deployment.reads_files)) is not None:
            return _json(400, refused)
        if (wait := self._rate_limited(deployment)) is not None:
            message = azure.rate_limit_message(self._operation(request), wait)
            headers = {"retry-after": str(wait), "retry-after-ms": str(wait * 1000)}
            return _json(429, azure.error_body("429", message), headers)
        fault = context.fault
        if fault is not None and fault.kind is FaultKind.PROMPT_FILTERED:
            return _json(400, azure.prompt_filtered_body())
        turn = self._plan(deployment, body, api, fault, context.deltas)
        stream_fault = fault if fault is not None and fault.kind in _MID_STREAM | {FaultKind.NO_TERMINAL} else None
        if body.get("stream") is True:
            events = responses_events(turn) if api == "responses" else chat_events(turn)
            return await self._pump(request, events, stream_fault)
        payload = responses_body(turn) if api == "responses" else chat_body(turn)
        if deployment.first_token_delay and not await self._wait(deployment.first_token_delay):
            return _drop(request)  # a whole answer arrives after the model thought
        if stream_fault is not None and stream_fault.kind in _MID_STREAM:
            return await self._partial_json(request, payload, stream_fault)
        return _json(200, payload)

    def _rate_limited(self, deployment: Deployment) -> int | None:
        """Seconds until a request fits the per-minute budget, or None (and the request is counted)."""
        limit = deployment.requests_per_minute
        if not limit:
            return None
        now = asyncio.get_running_loop().time()
        window = self._windows.setdefault(deployment.name, collections.deque())
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= limit:
            return max(1, math.ceil(window[0] + 60 - now))
        window.append(now)
        return None

    def _plan(
        self, deployment: Deployment, body: dict[str, Any], api: str, fault: Fault | None, deltas: int | None
    ) -> Turn:
        conversation = body.get("input") if api == "responses" else body.get("messages")
        with self._lock:
            scripted = self._answers.popleft() if self._answers else None
        text = scripted if scripted is not None else choose_answer(last_user_text(conversation))
        pieces = split_deltas(text)
        count = deltas or self.config.answer_deltas
        if count is not None:
            pieces = stretch_deltas(pieces, count)
        prompt = str(body.get("instructions") or "") + all_text(conversation)
        with self._lock:
            cached = self._prompts.cached_tokens(deployment.name, prompt)
        turn = Turn(deployment, body, pieces, count_tokens(prompt), cached_tokens=cached)
        if deployment.reasoning:
            summaries = api == "responses" and deployment.summaries
            turn.reasoning = split_deltas(_REASONING_SUMMARY) if summaries else []
            turn.reasoning_tokens = 4 * len(split_deltas(_REASONING_SUMMARY))
        limit = (
            body.get("max_output_tokens")
            if api == "responses"
            else body.get("max_completion_tokens", body.get("max_tokens"))
        )
        if isinstance(limit, int) and limit - turn.reasoning_tokens < len(turn.deltas):
            turn.deltas = turn.deltas[: max(0, limit - turn.reasoning_tokens)]
            turn.cut = "max_output_tokens"
        if fault is not None and fault.kind is FaultKind.FILTER_CUT and fault.after_deltas < len(turn.deltas):
            turn.deltas = turn.deltas[: fault.after_deltas]
            turn.cut = "content_filter"
        return turn

    async def _pump(
        self, request: web.Request, events: Iterable[tuple[Part, str]], fault: Fault | None
    ) -> web.StreamResponse:
        """Write an SSE stream: buffered when unpaced, paced at tokens_per_second, with mid-stream faults."""
        response = web.StreamResponse(
            headers={"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}
        )
        loop = asyncio.get_running_loop()
        buffer: list[str] = []
        size = count = 0
        start: float | None = None

        async def flush() -> None:
            nonlocal size
            if buffer:
                data = "".join(buffer).encode("utf-8")
                buffer.clear()
                size = 0
                await response.write(data)

        try:
            await response.prepare(request)
            for part, text in events:
                if (
                    fault is not None
                    and fault.kind in _MID_STREAM
                    and (count >= fault.after_deltas or part is Part.TERMINAL)
                ):
                    await flush()
                    return await self._mid_stream_fault(request, response, fault)
                if part is Part.DELTA:
                    tps = self.config.tokens_per_second
                    if start is None:
                        await flush()
                        if not await self._think(request, response):
                            return _drop(request)
                        start = loop.time()
                    elif tps > 0 and (delay := start + count / tps - loop.time()) > 0:
                        await flush()
                        if not await self._wait(delay):
                            return _drop(request)
                    count += 1
                elif part is Part.THOUGHT and self.config.thinking_per_delta > 0:
                    await flush()
                    if not await self._wait(self.config.thinking_per_delta):
                        return _drop(request)
                elif part is Part.TERMINAL and fault is not None and fault.kind is FaultKind.NO_TERMINAL:
                    continue
                buffer.append(text)
                size += len(text)
                if size >= _FLUSH_BYTES:
                    await flush()
            await flush()
        except ConnectionError:
            pass  # the client went away (a cancelled stream): nothing left to send to
        return response

    async def _think(self, request: web.Request, response: web.StreamResponse) -> bool:
        """Wait the model's thinking time before its first word, writing keep-alive comments meanwhile if it does."""
        deployment = request[_CONTEXT].deployment
        delay = self.config.first_token_delay
        every = 0.0
        if deployment is not None:
            delay = deployment.first_token_delay if deployment.first_token_delay is not None else delay
            every = deployment.keep_alive
        while every > 0 and delay > every:
            if not await self._wait(every):
                return False
            await response.write(b": keep-alive\n\n")
            delay -= every
        return await self._wait(delay)

    async def _mid_stream_fault(
        self, request: web.Request, response: web.StreamResponse, fault: Fault
    ) -> web.StreamResponse:
        if fault.kind is FaultKind.MALFORMED_SSE:
            await response.write(b'data: {"choices": [{"delta": {"content": "trunc\n\n')
            return response
        if fault.kind is FaultKind.STALL_MID_STREAM:
            await (self._wait(fault.seconds) if fault.seconds > 0 else self._stopping.wait())
        _drop(request)
        return response

    async def _partial_json(self, request: web.Request, payload: dict[str, Any], fault: Fault) -> web.StreamResponse:
        """A non-streamed body cut short: dropped or stalled halfway, or malformed JSON."""
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        if fault.kind is FaultKind.MALFORMED_SSE:
            return web.Response(body=data[: len(data) // 2], content_type="application/json")
        response = web.StreamResponse(headers={"content-type": "application/json", "content-length": str(len(data))})
        try:
            await response.prepare(request)
            await response.write(data[: len(data) // 2])
            return await self._mid_stream_fault(request, response, fault)
        except ConnectionError:
            return response

    # ---------------------------------------------------------------------------------- listing routes

    async def _models(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._auth(request)) is not None:
            return denied
        data = [
            {
                "id": model,
                "object": "model",
                "created": 1744588800,
                "owned_by": "system",
                "status": "succeeded",
                "lifecycle_status": "generally-available",
                "capabilities": {
                    "chat_completion": not model.startswith("text-"),
                    "completion": False,
                    "embeddings": model.startswith("text-"),
                    "fine_tune": False,
                    "inference": True,
                },
            }
            for model in _CATALOGUE
        ]
        return _json(200, {"object": "list", "data": data})

    async def _data_plane_deployments(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._auth(request)) is not None:
            return denied
        if not self.config.data_plane_deployments or "api-version" not in request.query:
            return _json(404, {"error": {"code": "404", "message": "Resource not found"}})
        data = [
            {
                "id": d.name,
                "model": f"{d.model}",
                "owner": "organization-owner",
                "object": "deployment",
                "status": "succeeded",
                "created_at": 1744588800,
                "updated_at": 1744588800,
                "scale_settings": {"scale_type": "standard"},
            }
            for d in self.config.deployments
        ]
        return _json(200, {"data": data, "object": "list"})

    def _account_id(self) -> str:
        cfg = self.config
        return (
            f"/subscriptions/{cfg.subscription_id}/resourceGroups/rg-sim/providers/"
            f"Microsoft.CognitiveServices/accounts/{cfg.account_name}"
        )

    async def _arm_subscriptions(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._arm_auth(request)) is not None:
            return denied
        cfg = self.config
        subscription = {
            "id": f"/subscriptions/{cfg.subscription_id}",
            "subscriptionId": cfg.subscription_id,
            "tenantId": cfg.tenant_id,
            "displayName": "Simulated subscription",
            "state": "Enabled",
        }
        return _json(200, {"value": [subscription], "count": {"type": "Total", "value": 1}})

    async def _arm_accounts(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._arm_auth(request)) is not None:
            return denied
        if request.match_info["sub"] != self.config.subscription_id:
            return _json(
                404,
                azure.arm_error_body(
                    "SubscriptionNotFound", f"The subscription '{request.match_info['sub']}' could not be found."
                ),
            )
        account = {
            "id": self._account_id(),
            "name": self.config.account_name,
            "type": "Microsoft.CognitiveServices/accounts",
            "kind": "OpenAI",
            "location": self.config.region,
            "sku": {"name": "S0"},
            "properties": {"endpoint": self.resource_url, "provisioningState": "Succeeded"},
        }
        return _json(200, {"value": [account]})

    async def _arm_deployments(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._arm_auth(request)) is not None:
            return denied
        if not request.path.startswith(self._account_id() + "/"):
            return _json(404, azure.arm_error_body("ResourceNotFound", "The Resource was not found."))
        value = [
            {
                "id": f"{self._account_id()}/deployments/{d.name}",
                "name": d.name,
                "type": "Microsoft.CognitiveServices/accounts/deployments",
                "sku": {"name": "GlobalStandard", "capacity": d.requests_per_minute or 50},
                "properties": {
                    "model": {"format": d.model_format, "name": d.model, "version": d.version},
                    "provisioningState": "Succeeded",
                    "capabilities": {"chatCompletion": str(d.chat).lower(), "responses": str(d.responses).lower()},
                },
            }
            for d in self.config.deployments
        ]
        return _json(200, {"value": value})


def _invalid_limit(body: dict[str, Any], api: str) -> web.Response | None:
    """400 for a token limit below the API's minimum (16 on Responses, 1 on Chat), as OpenAI answers."""
    names = ("max_output_tokens",) if api == "responses" else ("max_tokens", "max_completion_tokens")
    for name in names:
        value = body.get(name)
        minimum = 16 if api == "responses" else 1
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < minimum):
            message = (
                f"Invalid '{name}': integer below minimum value. Expected a value >= {minimum}, "
                f"but got {value} instead."
            )
            return _json(
                400, azure.error_body("integer_below_min_value", message, param=name, type_="invalid_request_error")
            )
    return None
