"""Configuration of the simulator: deployments, credentials, pacing, faults and the request log."""

from __future__ import annotations

import enum
import ipaddress
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Deployment:
    """A deployment: the name clients send as `model`, and what the model behind it can do."""

    name: str
    model: str
    version: str = "2025-04-14"
    responses: bool = True
    chat: bool = True
    reasoning: bool = False
    requests_per_minute: int | None = None
    # How the model behind it behaves, as Azure answers for such a model (see MODEL_DEPLOYMENTS):
    model_format: str = "OpenAI"  # ARM's properties.model.format
    refuses: tuple[str, ...] = ()  # parameters answered 400 unsupported_parameter (reasoning models add theirs)
    efforts: tuple[str, ...] | None = None  # reasoning-effort values accepted (None: any)
    summaries: bool = True  # a reasoning model streams a summary of its thinking on the Responses API
    streams: bool = True  # False: `stream: true` is answered 400 unsupported_value
    roles: tuple[str, ...] = ("system", "developer")  # roles its instructions may take in Chat Completions
    first_token_delay: float | None = None  # seconds of thinking before the first word (None: the config's)
    keep_alive: float = 0.0  # while thinking, a `: keep-alive` SSE comment this often (0: none)
    reads_files: bool = True  # a vision-capable model: takes PDFs as Responses `input_file`


DEFAULT_DEPLOYMENTS: tuple[Deployment, ...] = (
    Deployment("gpt-4.1", "gpt-4.1", "2025-04-14"),
    # Chat Completions only: /responses answers 400 OperationNotSupported, as Azure does for an unsupported operation.
    Deployment("gpt-4o-mini", "gpt-4o-mini", "2024-07-18", responses=False),
    Deployment("o4-mini", "o4-mini", "2025-04-16", reasoning=True),
)

# Deployments named like an administrator would (aliases unrelated to the model), one per model family, for tests and
# `python -m desktop.simulator --models`. Each refuses what Azure refuses for its model, so a request that guessed
# the family from the name, or sent a parameter the model does not take, fails here as it would on Azure.
MODEL_DEPLOYMENTS: tuple[Deployment, ...] = (
    Deployment("Sales-GPT", "gpt-4.1", "2025-04-14"),
    Deployment("legacy-chat", "gpt-35-turbo", "0125", responses=False),
    Deployment("chat5", "gpt-5-chat", "2025-08-07"),
    Deployment(
        "team-o1", "o1", "2024-12-17", reasoning=True, efforts=("low", "medium", "high"), summaries=False, streams=False
    ),
    Deployment(
        "early-o1", "o1-mini", "2024-09-12", responses=False, reasoning=True, efforts=(), summaries=False, roles=()
    ),
    Deployment(
        "quick-reasoner", "o3-mini", "2025-01-31", reasoning=True, efforts=("low", "medium", "high"), summaries=False
    ),
    Deployment("thinker", "o4-mini", "2025-04-16", reasoning=True, efforts=("low", "medium", "high")),
    Deployment("writer", "gpt-5", "2025-08-07", reasoning=True, efforts=("minimal", "low", "medium", "high")),
    Deployment("writer-51", "gpt-5.1", "2025-11-13", reasoning=True, efforts=("none", "low", "medium", "high")),
    Deployment("coder", "gpt-5-codex", "2025-09-15", chat=False, reasoning=True, efforts=("low", "medium", "high")),
    Deployment("deep-thinker", "gpt-5-pro", "2025-10-06", chat=False, reasoning=True, efforts=("high",), streams=False),
    Deployment(
        "o3-pro-team",
        "o3-pro",
        "2025-06-10",
        chat=False,
        reasoning=True,
        efforts=("low", "medium", "high"),
        summaries=False,
        streams=False,
    ),
    # A model this app does not know (not an OpenAI model): it refuses `temperature`, and answers only Chat.
    Deployment(
        "house-model", "Phi-4-mini-flash", "1", responses=False, model_format="Microsoft", refuses=("temperature",)
    ),
    # Thinks three minutes before its first word, with a keep-alive comment every 15 seconds meanwhile.
    Deployment(
        "slow-thinker",
        "o3",
        "2025-04-16",
        reasoning=True,
        efforts=("low", "medium", "high"),
        first_token_delay=180.0,
        keep_alive=15.0,
    ),
)

# Well-known fake sign-in tokens for the simulated Entra flows. The API key, which anyone who can reach the port could
# use, is random per run (`random_api_key`), and the simulator listens only on loopback unless told otherwise.
DEFAULT_TOKEN = "sim-token-with-role"  # noqa: S105
DEFAULT_TOKEN_WITHOUT_ROLE = "sim-token-without-role"  # noqa: S105
DEFAULT_ARM_TOKEN = "sim-arm-token"  # noqa: S105


class RemoteAddressError(ValueError):
    """The simulator was asked to listen beyond this computer without `allow_remote`; `str(error)` says so."""


def random_api_key() -> str:
    """A fresh key for one simulator run: nobody else can know it."""
    return "sim-" + secrets.token_urlsafe(24)


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) is this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class SimulatorConfig:
    """Everything a simulator instance serves; the defaults suit the demo mode."""

    host: str = "127.0.0.1"
    port: int = 0
    api_keys: tuple[str, ...] = field(default_factory=lambda: (random_api_key(),))
    allow_remote: bool = False  # serve on a non-loopback address (anyone on the network could use it)
    tokens: tuple[str, ...] = (DEFAULT_TOKEN,)
    tokens_without_role: tuple[str, ...] = (DEFAULT_TOKEN_WITHOUT_ROLE,)
    arm_tokens: tuple[str, ...] = (DEFAULT_ARM_TOKEN,)
    deployments: tuple[Deployment, ...] = DEFAULT_DEPLOYMENTS
    first_token_delay: float = 0.0
    tokens_per_second: float = 0.0
    thinking_per_delta: float = 0.0  # seconds before each delta of a reasoning summary (0: all at once)
    time_scale: float = 1.0  # every wait of the simulator lasts this fraction of its seconds (tests: 0.01)
    answer_deltas: int | None = None
    region: str = "swedencentral"
    data_plane_deployments: bool = True
    principal_id: str = "00000000-0000-0000-0000-00000000a11c"
    subscription_id: str = "00000000-0000-0000-0000-0000000005b5"
    tenant_id: str = "00000000-0000-0000-0000-00000000e1d0"
    account_name: str = "sim-openai"


class FaultKind(enum.StrEnum):
    """What a fault does to one request."""

    STATUS = "status"  # an error status with Azure's body for it
    DROP = "drop"  # close the connection before any header
    DROP_MID_STREAM = "drop-mid-stream"  # close the connection after `after_deltas` deltas
    STALL = "stall"  # send nothing until the server stops
    STALL_MID_STREAM = "stall-mid-stream"  # stop sending after `after_deltas` deltas until the server stops
    SLOW_FIRST_BYTE = "slow"  # wait `seconds` before the headers, then answer normally
    MALFORMED_SSE = "malformed"  # a broken JSON event after `after_deltas` deltas, then end the body
    NO_TERMINAL = "no-terminal"  # end the body without the terminal event / [DONE]
    GATEWAY_HTML = "gateway"  # an HTML error page from a proxy (status defaults to 502)
    PROMPT_FILTERED = "filter"  # 400 content_filter: the prompt was blocked
    FILTER_CUT = "filter-cut"  # the answer is cut by the content filter after `after_deltas` deltas
    # Azure's four kinds of 429, with its headers (retry-after, x-ratelimit-remaining-requests/-tokens):
    RATE_REQUESTS = "429-requests"  # the requests-per-minute limit; `seconds` is the wait (default 6)
    RATE_TOKENS = "429-tokens"  # the tokens-per-minute limit; `seconds` is the wait (default 6)
    RATE_QUOTA = "429-quota"  # the quota is used up
    RATE_NEVER_FITS = "429-never-fits"  # the request can never fit the tokens-per-minute limit: a wait of a day


@dataclass(frozen=True)
class Fault:
    """One injected fault; `path` limits it to requests whose path contains that text."""

    kind: FaultKind = FaultKind.STATUS
    status: int = 500
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    after_deltas: int = 0
    seconds: float = 0.0
    path: str | None = None


@dataclass(frozen=True)
class RequestRecord:
    """One request as the simulator received it (header names lower-cased)."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    json: Any
    retry_count: int | None
    request_id: str
