"""The administrator's read-only policy: ready-made connections and locked settings, merged over the user's."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import field, fields, replace
from pathlib import Path
from typing import Any

from desktop.config._model import AUTH_METHODS, AppSettings, AuthMethod, Profile, SecurityContext, Settings
from desktop.config._schema import Problems, read_app, read_profile
from desktop.lazy_dataclass import dataclass

log = logging.getLogger(__name__)
POLICY_ENV = "AZURE_OPENAI_CHAT_POLICY"
POLICY_VERSION = 1
_AUTH_LABELS: dict[str, str] = {"api_key": "an API key", "entra": "a work account", "azure_cli": "the Azure CLI"}
# What an administrator's connection fixes; the user keeps the rest (chosen deployment, chat defaults, sign-in).
_MANAGED_LOCKS = ("display_name", "endpoint", "auth_method", "entra.tenant", "entra.cloud", "entra.client_id")
_APP_LOCKABLE = frozenset(f.name for f in fields(AppSettings)) - {
    "active_profile_id",
    "window_geometry",
    "sidebar_collapsed",
    "first_run_done",
}
# A stable namespace so a policy connection without an id keeps the same id (and keyring entry) across starts.
_POLICY_NAMESPACE = "6f3c1a52-3d0e-4c8f-9a51-0b1f2a7d9e44"  # a UUID; `uuid` loads only when an id is made


@dataclass(frozen=True)
class Policy:
    """A parsed policy file."""

    source: Path
    profiles: tuple[Profile, ...] = ()
    allowed_auth_methods: tuple[AuthMethod, ...] = AUTH_METHODS
    disable_demo: bool = False
    lock_endpoint: bool = False
    app_values: Mapping[str, Any] = field(default_factory=dict)
    security_context: SecurityContext | None = None


@dataclass(frozen=True)
class PolicyResult:
    """The policy in force (None when there is none) and notices about problems in the file."""

    policy: Policy | None
    notices: tuple[str, ...] = ()


def default_policy_path(platform: str = sys.platform, environ: Mapping[str, str] = os.environ) -> Path:
    """Return where the policy lives: `$AZURE_OPENAI_CHAT_POLICY`, else the platform's system-wide location."""
    override = environ.get(POLICY_ENV)
    if override:
        return Path(override)
    if platform == "win32":
        return Path(environ.get("ProgramData", r"C:\ProgramData")) / "Azure OpenAI Chat" / "policy.json"
    if platform == "darwin":
        return Path("/Library/Application Support/Azure OpenAI Chat/policy.json")
    return Path("/etc/azure-openai-chat/policy.json")


def _broken(path: Path, why: str) -> PolicyResult:
    log.warning("Ignoring the policy file %s: %s", path, why)
    return PolicyResult(
        None,
        (
            f"Your organisation's settings file {path} could not be used ({why}), so it was ignored. "
            "Tell your IT support.",
        ),
    )


def _read_locks(locks: Mapping[str, Any], problems: Problems) -> dict[str, Any]:
    result: dict[str, Any] = {}
    methods = locks.get("allowed_auth_methods", list(AUTH_METHODS))
    if not isinstance(methods, list) or not methods or any(m not in AUTH_METHODS for m in methods):
        problems.add("locks.allowed_auth_methods", f"must be a list of {', '.join(AUTH_METHODS)}")
        methods = list(AUTH_METHODS)
    if locks.get("disable_api_keys") is True:
        methods = [m for m in methods if m != "api_key"]
    result["allowed_auth_methods"] = tuple(m for m in AUTH_METHODS if m in methods)
    for flag in ("disable_demo", "lock_endpoint", "disable_api_keys"):
        if not isinstance(locks.get(flag, False), bool):
            problems.add(f"locks.{flag}", "must be true or false")
    result["disable_demo"] = locks.get("disable_demo") is True
    result["lock_endpoint"] = locks.get("lock_endpoint") is True
    values = {key: value for key, value in locks.items() if key in _APP_LOCKABLE}
    unknown = set(locks) - _APP_LOCKABLE - {"allowed_auth_methods", "disable_demo", "lock_endpoint", "disable_api_keys"}
    for key in sorted(unknown):
        problems.add(f"locks.{key}", "is not a setting this version knows")
    app_problems = Problems()
    app = read_app(values, app_problems)
    problems.items.extend(app_problems.items)
    bad = {item.split(":", 1)[0].removeprefix("app.") for item in app_problems.items}
    result["app_values"] = {key: getattr(app, key) for key in values if key not in bad}
    return result


def _read_policy_profile(item: Any, index: int, problems: Problems) -> Profile | None:
    if not isinstance(item, Mapping):
        problems.add(f"profiles[{index}]", "is not a connection")
        return None
    data = dict(item)
    # Admins write the flat form (tenant/cloud/client_id next to the endpoint); the settings reader nests them.
    entra = {k: data.pop(k) for k in ("tenant", "cloud", "client_id") if k in data}
    data.setdefault("entra", entra)
    data.pop("authentication_record", None)
    data.setdefault("display_name", data.get("name", ""))
    if not data.get("id"):
        import uuid  # not at the top: uuid loads `platform`, which the first paint does not need

        data["id"] = str(uuid.uuid5(uuid.UUID(_POLICY_NAMESPACE), f"{data.get('endpoint')}|{data['display_name']}"))
    data["id"] = str(data["id"])
    profile = read_profile(data, f"profiles[{index}]", problems)
    if profile is None:
        return None
    locked = set(_MANAGED_LOCKS)
    if profile.deployments:
        locked.add("deployments")  # with their prices, if the policy sets any
    if "currency" in data:
        locked.add("currency")
    return replace(profile, managed=True, is_demo=False, locked=frozenset(locked))


def _read_security_context(value: Any, problems: Problems) -> SecurityContext | None:
    """`user_security_context`: true (the defaults) or {"application_name": text, "end_user": true/false}."""
    if value is None or value is False:
        return None
    if value is True:
        return SecurityContext()
    if not isinstance(value, Mapping):
        problems.add("user_security_context", "must be true or a group of settings")
        return None
    default = SecurityContext()
    name = value.get("application_name", default.application_name)
    if not isinstance(name, str) or not name.strip():
        problems.add("user_security_context.application_name", "must be text")
        name = default.application_name
    end_user = value.get("end_user", default.end_user)
    if not isinstance(end_user, bool):
        problems.add("user_security_context.end_user", "must be true or false")
        end_user = default.end_user
    for key in sorted(set(value) - {"application_name", "end_user"}):
        problems.add(f"user_security_context.{key}", "is not a setting this version knows")
    return SecurityContext(application_name=name.strip(), end_user=end_user)


def parse_policy(data: object, source: Path) -> tuple[Policy, tuple[str, ...]]:
    """Build a policy from a parsed JSON object; problems in single entries are skipped and reported."""
    problems = Problems()
    if not isinstance(data, Mapping):
        raise ValueError("it is not a JSON object")
    version = data.get("policy_version", POLICY_VERSION)
    if version != POLICY_VERSION:
        raise ValueError(f"policy_version {version!r} is not supported by this version of the app")
    locks = data.get("locks", {})
    if not isinstance(locks, Mapping):
        problems.add("locks", "is not a group of settings")
        locks = {}
    items = data.get("profiles", [])
    if not isinstance(items, list):
        problems.add("profiles", "is not a list")
        items = []
    profiles: list[Profile] = []
    for index, item in enumerate(items):
        profile = _read_policy_profile(item, index, problems)
        if profile is not None and any(p.id == profile.id for p in profiles):
            problems.add(f"profiles[{index}]", "repeats the id of an earlier connection")
        elif profile is not None:
            profiles.append(profile)
    policy = Policy(
        source=source,
        profiles=tuple(profiles),
        security_context=_read_security_context(data.get("user_security_context"), problems),
        **_read_locks(locks, problems),
    )
    notices: tuple[str, ...] = ()
    if problems.items:
        log.warning("Policy file %s has problems: %s", source, "; ".join(problems.items))
        notices = (
            f"Parts of your organisation's settings file {source} were ignored: {'; '.join(problems.items)}. "
            "Tell your IT support.",
        )
    return policy, notices


def load_policy(path: Path | None = None) -> PolicyResult:
    """Read the policy file if there is one; a broken file is ignored with a notice, never an exception."""
    path = path if path is not None else default_policy_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return PolicyResult(None)
    except OSError as error:
        return _broken(path, f"it could not be opened: {error.strerror or error}")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
        policy, notices = parse_policy(data, path)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return _broken(path, "it is not valid JSON")
    except ValueError as error:
        return _broken(path, str(error))
    return PolicyResult(policy, notices)


def _blocked_reason(profile: Profile, policy: Policy, endpoints: set[str]) -> str | None:
    if profile.is_demo and policy.disable_demo:
        return "Your organisation has turned off the demo."
    if profile.auth_method not in policy.allowed_auth_methods:
        how = _AUTH_LABELS[profile.auth_method]
        return f"Your organisation does not allow connecting with {how}."
    if policy.lock_endpoint and not profile.managed and profile.endpoint not in endpoints:
        return "Your organisation allows only the connections it has set up."
    return None


def _merge_managed(managed: Profile, user: Profile | None) -> Profile:
    if user is None:
        return managed
    entra = replace(managed.entra, authentication_record=user.entra.authentication_record)
    return replace(
        managed,
        entra=entra,
        deployments=managed.deployments if "deployments" in managed.locked else user.deployments,
        default_deployment=user.default_deployment or managed.default_deployment,
        currency=managed.currency if "currency" in managed.locked else user.currency,
        chat_defaults=user.chat_defaults,
    )


def apply_policy(settings: Settings, policy: Policy | None) -> Settings:
    """Return the settings as the policy lets the user see them: managed profiles merged in, locks applied."""
    if policy is None:
        return settings
    by_id = {p.id: p for p in settings.profiles}
    managed = [_merge_managed(p, by_id.get(p.id)) for p in policy.profiles]
    managed_ids = {p.id for p in managed}
    own = [replace(p, managed=False) for p in settings.profiles if p.id not in managed_ids]
    endpoints = {p.endpoint for p in managed}
    profiles = tuple(replace(p, blocked_reason=_blocked_reason(p, policy, endpoints)) for p in [*managed, *own])
    app = replace(settings.app, **policy.app_values)
    if app.active_profile_id is None and len(managed) == 1:
        app = replace(app, active_profile_id=managed[0].id)
    return Settings(
        app=app,
        profiles=profiles,
        locked=frozenset(policy.app_values),
        allowed_auth_methods=policy.allowed_auth_methods,
        demo_allowed=not policy.disable_demo,
        custom_profiles_allowed=not policy.lock_endpoint,
        security_context=policy.security_context,
    )
