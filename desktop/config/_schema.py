"""The settings file format: reading (tolerant, field by field), writing, and migrating older versions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from desktop.clouds import AZURE_CLI_CLIENT_ID, CLOUD_NAMES
from desktop.config._endpoint import EndpointError, normalize_endpoint
from desktop.config._model import (
    API_SUPPORTS,
    AUTH_METHODS,
    DEFAULT_TENANT,
    PROXY_NONE,
    PROXY_SYSTEM,
    REASONING_EFFORTS,
    THEMES,
    AppSettings,
    ChatDefaults,
    Deployment,
    EntraOptions,
    InstructionsPreset,
    Profile,
    Settings,
)

SCHEMA_VERSION = 2
T = TypeVar("T")


class Problems:
    """Collects what could not be understood, in plain words, while reading continues with defaults."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, what: str) -> None:
        """Record one problem."""
        self.items.append(f"{where}: {what}")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_proxy(value: str) -> str:
    """Return a valid proxy setting ("system", "none" or an http(s)/socks URL without credentials) or raise."""
    value = value.strip()
    if value in (PROXY_SYSTEM, PROXY_NONE):
        return value
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ValueError("the proxy address could not be read") from None
    if parts.scheme not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
        raise ValueError("the proxy must be an address like http://proxy.example.com:8080")
    if parts.username or parts.password or "@" in parts.netloc:
        raise ValueError("proxy addresses with a user name or password are not supported")
    return value


class _Reader:
    """Typed access to one JSON object; a wrong or missing value becomes the default and a recorded problem."""

    def __init__(self, data: object, where: str, problems: Problems) -> None:
        self.where = where
        self.problems = problems
        if isinstance(data, Mapping):
            self.data: Mapping[str, Any] = data
        else:
            self.data = {}
            if data is not None:
                problems.add(where, "expected a group of settings; using defaults")

    def get(self, key: str, default: T, check: Callable[[Any], bool], describe: str) -> T:
        if key not in self.data:
            return default
        value = self.data[key]
        if check(value):
            return cast(T, value)
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        self.problems.add(f"{self.where}.{key}", f"{shown} is not {describe}; using the default")
        return default

    def text(self, key: str, default: str) -> str:
        return self.get(key, default, lambda v: isinstance(v, str), "text")

    def opt_text(self, key: str) -> str | None:
        return self.get(key, None, lambda v: v is None or isinstance(v, str), "text")

    def flag(self, key: str, default: bool) -> bool:
        return self.get(key, default, lambda v: isinstance(v, bool), "true or false")

    def choice(self, key: str, default: T, choices: tuple[T, ...]) -> T:
        return self.get(key, default, lambda v: v in choices, "one of " + ", ".join(map(str, choices)))

    def opt_choice(self, key: str, choices: tuple[T, ...]) -> T | None:
        return self.get(key, None, lambda v: v is None or v in choices, "one of " + ", ".join(map(str, choices)))

    def number(self, key: str, default: T, low: float, high: float, integer: bool = False) -> T:
        def ok(v: Any) -> bool:
            return (v is None and default is None) or (
                _is_number(v) and low <= v <= high and (not integer or isinstance(v, int))
            )

        kind = "a whole number" if integer else "a number"
        value = self.get(key, default, ok, f"{kind} from {low:g} to {high:g}")
        return cast(T, float(cast(float, value)) if not integer and value is not None else value)

    def items(self, key: str) -> list[Any]:
        return self.get(key, [], lambda v: isinstance(v, list), "a list")


def read_app(data: object, problems: Problems) -> AppSettings:
    """Read the "app" object of a v2 file."""
    r = _Reader(data, "app", problems)
    d = AppSettings()
    proxy = r.text("proxy", d.proxy)
    try:
        proxy = check_proxy(proxy)
    except ValueError as error:
        problems.add("app.proxy", f"{error}; using the system proxy")
        proxy = PROXY_SYSTEM
    return AppSettings(
        active_profile_id=r.opt_text("active_profile_id"),
        max_retries=r.number("max_retries", d.max_retries, 0, 10, integer=True),
        request_timeout=r.number("request_timeout", d.request_timeout, 1, 3600),
        theme=r.choice("theme", d.theme, THEMES),
        font_size=r.number("font_size", d.font_size, 6, 72, integer=True),
        send_on_enter=r.flag("send_on_enter", d.send_on_enter),
        notify_when_background=r.flag("notify_when_background", d.notify_when_background),
        proxy=proxy,
        first_run_done=r.flag("first_run_done", d.first_run_done),
        window_geometry=r.opt_text("window_geometry"),
        sidebar_collapsed=r.flag("sidebar_collapsed", d.sidebar_collapsed),
        instruction_presets=read_presets(
            # A list in the file; a tuple when `Configuration.update_app` re-reads the settings it holds.
            list(r.get("instruction_presets", [], lambda v: isinstance(v, list | tuple), "a list")),
            "app.instruction_presets",
            problems,
        ),
    )


def read_presets(items: list[Any], where: str, problems: Problems) -> tuple[InstructionsPreset, ...]:
    """Read the user's instructions presets, skipping (and reporting) entries without a name or text."""
    result: list[InstructionsPreset] = []
    for index, item in enumerate(items):
        # From a file, dicts; from `Configuration.update_app`, the values themselves.
        r = _Reader(asdict(item) if isinstance(item, InstructionsPreset) else item, f"{where}[{index}]", problems)
        name, text = r.text("name", "").strip(), r.text("text", "").strip()
        if not name or not text:
            problems.add(f"{where}[{index}]", "a preset without a name or instructions was skipped")
            continue
        result.append(InstructionsPreset(name, text))
    return tuple(result)


def read_entra(data: object, where: str, problems: Problems) -> EntraOptions:
    """Read Entra sign-in options."""
    r = _Reader(data, where, problems)
    return EntraOptions(
        tenant=r.text("tenant", DEFAULT_TENANT).strip() or DEFAULT_TENANT,
        cloud=r.choice("cloud", "public", CLOUD_NAMES),
        client_id=r.text("client_id", AZURE_CLI_CLIENT_ID).strip() or AZURE_CLI_CLIENT_ID,
        authentication_record=r.opt_text("authentication_record"),
        scope=r.opt_text("scope"),
    )


def read_deployments(items: list[Any], where: str, problems: Problems) -> tuple[Deployment, ...]:
    """Read a list of deployments, skipping (and reporting) entries without a name."""
    result: list[Deployment] = []
    for index, item in enumerate(items):
        r = _Reader(item, f"{where}[{index}]", problems)
        name = r.text("name", "").strip()
        if not name:
            problems.add(f"{where}[{index}]", "a deployment without a name was skipped")
            continue
        result.append(
            Deployment(
                name=name,
                model_name=r.opt_text("model_name"),
                model_version=r.opt_text("model_version"),
                api=r.choice("api", "unknown", API_SUPPORTS),
                model_format=r.opt_text("model_format"),
                refused=tuple(
                    dict.fromkeys(
                        r.get(
                            "refused",
                            [],
                            lambda v: isinstance(v, list | tuple) and all(isinstance(x, str) for x in v),
                            "a list of names",
                        )
                    )
                ),
                input_price=r.number("input_price", None, 0, 1_000_000),
                cached_input_price=r.number("cached_input_price", None, 0, 1_000_000),
                output_price=r.number("output_price", None, 0, 1_000_000),
            )
        )
    return tuple(result)


def read_chat_defaults(data: object, where: str, problems: Problems) -> ChatDefaults:
    """Read chat request defaults."""
    r = _Reader(data, where, problems)
    return ChatDefaults(
        instructions=r.text("instructions", ""),
        temperature=r.number("temperature", None, 0, 2),
        max_output_tokens=r.number("max_output_tokens", None, 1, 10_000_000, integer=True),
        reasoning_effort=r.opt_choice("reasoning_effort", REASONING_EFFORTS),
    )


def _currency(r: _Reader) -> str:
    """A currency code or symbol to show next to prices (short text, "USD" when missing)."""
    value = r.get("currency", "USD", lambda v: isinstance(v, str) and 0 < len(v.strip()) <= 8, "a currency like USD")
    return value.strip()


def read_profile(data: object, where: str, problems: Problems) -> Profile | None:
    """Read one profile; one without an id or a usable endpoint is reported and skipped."""
    r = _Reader(data, where, problems)
    profile_id = r.text("id", "").strip()
    name = r.text("display_name", "").strip()
    if not profile_id:
        problems.add(where, f"the connection “{name}” has no id and was skipped")
        return None
    try:
        endpoint = normalize_endpoint(r.text("endpoint", "")).base_url
    except EndpointError as error:
        problems.add(f"{where}.endpoint", f"{error} The connection “{name}” was skipped")
        return None
    return Profile(
        id=profile_id,
        display_name=name or endpoint,
        endpoint=endpoint,
        auth_method=r.choice("auth_method", "api_key", AUTH_METHODS),
        entra=read_entra(r.data.get("entra"), f"{where}.entra", problems),
        deployments=read_deployments(r.items("deployments"), f"{where}.deployments", problems),
        default_deployment=r.opt_text("default_deployment"),
        chat_defaults=read_chat_defaults(r.data.get("chat_defaults"), f"{where}.chat_defaults", problems),
        is_demo=r.flag("is_demo", False),
        currency=_currency(r),
        managed=r.flag("managed", False),
    )


def read_settings(data: Mapping[str, Any], problems: Problems) -> Settings:
    """Read a current-version settings object."""
    r = _Reader(data, "settings", problems)
    app = read_app(data.get("app"), problems)
    profiles: list[Profile] = []
    seen: set[str] = set()
    for index, item in enumerate(r.items("profiles")):
        profile = read_profile(item, f"profiles[{index}]", problems)
        if profile is not None and profile.id in seen:
            problems.add(f"profiles[{index}]", "a second connection with the same id was skipped")
        elif profile is not None:
            seen.add(profile.id)
            profiles.append(profile)
    return Settings(app=app, profiles=tuple(profiles))


def _profile_json(profile: Profile) -> dict[str, Any]:
    data = asdict(profile)
    # Policy-derived state is recomputed on every load; it is not the user's to keep.
    for key in ("locked", "blocked_reason"):
        del data[key]
    data["deployments"] = [{**asdict(d), "refused": list(d.refused)} for d in profile.deployments]
    return data


def write_settings(settings: Settings) -> dict[str, Any]:
    """Return the JSON object for a settings file in the current schema."""
    return {
        "schema_version": SCHEMA_VERSION,
        "app": asdict(settings.app),
        "profiles": [_profile_json(p) for p in settings.profiles],
    }


def _migrate_v1(old: Mapping[str, Any]) -> dict[str, Any]:
    """Version 1 kept app settings at the top level and one deployment per profile, with short names."""
    auth = {"key": "api_key", "api_key": "api_key", "entra": "entra", "aad": "entra", "cli": "azure_cli"}
    profiles: list[Any] = []
    for item in old.get("profiles", []) if isinstance(old.get("profiles"), list) else []:
        if not isinstance(item, Mapping):
            profiles.append(item)
            continue
        deployment = item.get("deployment")
        endpoint = item.get("endpoint", "")
        if not deployment and isinstance(endpoint, str):
            # v1 stored the URL exactly as pasted; a deployment name in it was the one the user meant.
            try:
                deployment = normalize_endpoint(endpoint).deployment
            except EndpointError:
                deployment = None
        profiles.append(
            {
                "id": item.get("id"),
                "display_name": item.get("name", ""),
                "endpoint": endpoint,
                "auth_method": auth.get(str(item.get("auth", "key")), item.get("auth")),
                "entra": {"tenant": item.get("tenant") or DEFAULT_TENANT},
                "deployments": [{"name": deployment}] if deployment else [],
                "default_deployment": deployment or None,
                "chat_defaults": {
                    "instructions": item.get("system_prompt") or "",
                    "temperature": item.get("temperature"),
                },
                "is_demo": item.get("demo", False),
            }
        )
    app_keys = {
        "active_profile": "active_profile_id",
        "max_retries": "max_retries",
        "timeout": "request_timeout",
        "theme": "theme",
        "font_size": "font_size",
        "send_on_enter": "send_on_enter",
        "first_run_done": "first_run_done",
        "geometry": "window_geometry",
    }
    app = {new: old[key] for key, new in app_keys.items() if key in old}
    return {"schema_version": 2, "app": app, "profiles": profiles}


# MIGRATIONS[n] turns a version-n object into version n+1.
MIGRATIONS: dict[int, Callable[[Mapping[str, Any]], dict[str, Any]]] = {1: _migrate_v1}


def migrate(data: Mapping[str, Any], version: int) -> dict[str, Any]:
    """Bring an object of an older schema version up to the current one."""
    current = dict(data)
    while version < SCHEMA_VERSION:
        current = MIGRATIONS[version](current)
        version += 1
    return current
