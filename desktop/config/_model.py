"""Settings and connection profiles as immutable values (edit with `dataclasses.replace`)."""

from __future__ import annotations

from dataclasses import KW_ONLY, field
from typing import Literal, get_args

from desktop.clouds import AZURE_CLI_CLIENT_ID, CloudName
from desktop.lazy_dataclass import dataclass

AuthMethod = Literal["api_key", "entra", "azure_cli"]
ApiSupport = Literal["responses", "chat", "unknown"]
ReasoningEffort = Literal["none", "minimal", "low", "medium", "high"]
Theme = Literal["system", "light", "dark"]
AUTH_METHODS: tuple[AuthMethod, ...] = get_args(AuthMethod)
API_SUPPORTS: tuple[ApiSupport, ...] = get_args(ApiSupport)
REASONING_EFFORTS: tuple[ReasoningEffort, ...] = get_args(ReasoningEffort)
THEMES: tuple[Theme, ...] = get_args(Theme)

DEFAULT_TENANT = "organizations"
PROXY_SYSTEM = "system"
PROXY_NONE = "none"


@dataclass(frozen=True)
class EntraOptions:
    """How to sign in with Microsoft Entra ID; `authentication_record` is azure-identity's JSON (no secrets).

    `scope` is the token scope this resource was found to accept (None = not found out yet: try each of the cloud's).
    """

    tenant: str = DEFAULT_TENANT
    cloud: CloudName = "public"
    client_id: str = AZURE_CLI_CLIENT_ID
    authentication_record: str | None = None
    scope: str | None = None


@dataclass(frozen=True)
class Deployment:
    """A model deployment on the resource: its real model, which API it answers, and what its model refused.

    `name` is the administrator's alias; `model_name`, `model_version` and `model_format` ("OpenAI", "Microsoft", ...)
    come from Azure (ARM, the deployment listing) or from the `model` field of an answer, never from the alias.
    `refused` names the request parameters the model answered with a 400 `unsupported_parameter`/`unsupported_value`
    ("temperature", "max_tokens", "effort:minimal", ...): they are no longer sent to it.
    Prices are per million tokens in the profile's `currency`; None = not known (no cost is shown). Cached input
    tokens cost `cached_input_price` when set, else `input_price`.
    """

    name: str
    model_name: str | None = None
    model_version: str | None = None
    api: ApiSupport = "unknown"
    _: KW_ONLY  # what follows is named wherever a Deployment is made (fields were added by separate features)
    model_format: str | None = None
    refused: tuple[str, ...] = ()
    input_price: float | None = None
    cached_input_price: float | None = None
    output_price: float | None = None


@dataclass(frozen=True)
class ChatDefaults:
    """Request defaults for new chats; None means "let the service decide"."""

    instructions: str = ""
    temperature: float | None = None
    max_output_tokens: int | None = None
    reasoning_effort: ReasoningEffort | None = None


@dataclass(frozen=True)
class Profile:
    """One connection: an endpoint, how to authenticate, its deployments and chat defaults.

    `managed` profiles come from the administrator's policy; `locked` names the fields the policy fixes, and
    `blocked_reason` says in plain words why the policy does not allow this profile to be used (None = allowed).
    """

    id: str
    display_name: str
    endpoint: str
    auth_method: AuthMethod = "api_key"
    entra: EntraOptions = field(default_factory=EntraOptions)
    deployments: tuple[Deployment, ...] = ()
    default_deployment: str | None = None
    chat_defaults: ChatDefaults = field(default_factory=ChatDefaults)
    is_demo: bool = False
    currency: str = "USD"
    managed: bool = False
    locked: frozenset[str] = frozenset()
    blocked_reason: str | None = None

    @staticmethod
    def new_id() -> str:
        """Return a fresh random profile id."""
        import uuid  # here, not at the top: uuid loads `platform`, which the first paint does not need

        return str(uuid.uuid4())

    def is_locked(self, field_name: str) -> bool:
        """Tell whether the administrator's policy fixes this field."""
        return field_name in self.locked


@dataclass(frozen=True)
class InstructionsPreset:
    """A named set of instructions the user saved, offered for every chat."""

    name: str
    text: str


@dataclass(frozen=True)
class AppSettings:
    """Application-wide preferences. `proxy` is "system", "none" or a proxy URL without credentials."""

    active_profile_id: str | None = None
    max_retries: int = 2
    request_timeout: float = 600.0
    theme: Theme = "system"
    font_size: int | None = None
    send_on_enter: bool = True
    notify_when_background: bool = True
    proxy: str = PROXY_SYSTEM
    first_run_done: bool = False
    window_geometry: str | None = None
    sidebar_collapsed: bool = False
    instruction_presets: tuple[InstructionsPreset, ...] = ()  # the user's own, after the built-in ones


@dataclass(frozen=True)
class SecurityContext:
    """What the administrator's policy asks to send as Azure's `user_security_context` with every request.

    Microsoft Defender for Cloud uses it to attribute alerts: `application_name` names this app; with `end_user`,
    the signed-in Entra user's object id and tenant id are sent too (only for connections that sign in with Entra).
    """

    application_name: str = "Azure OpenAI Chat"
    end_user: bool = True


@dataclass(frozen=True)
class Settings:
    """Everything the user configured, possibly merged with the administrator's policy.

    `locked` names the `AppSettings` fields the policy fixes; `allowed_auth_methods` and `demo_allowed` come from it.
    """

    app: AppSettings = field(default_factory=AppSettings)
    profiles: tuple[Profile, ...] = ()
    locked: frozenset[str] = frozenset()
    allowed_auth_methods: tuple[AuthMethod, ...] = AUTH_METHODS
    demo_allowed: bool = True
    custom_profiles_allowed: bool = True
    security_context: SecurityContext | None = None

    def profile(self, profile_id: str | None) -> Profile | None:
        """Return the profile with this id, or None."""
        return next((p for p in self.profiles if p.id == profile_id), None)

    @property
    def active_profile(self) -> Profile | None:
        """The profile chosen in the app settings, if it still exists and is allowed."""
        profile = self.profile(self.app.active_profile_id)
        return profile if profile is not None and profile.blocked_reason is None else None
