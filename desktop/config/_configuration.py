"""The one object the rest of the app asks for settings: user settings + policy, edited and saved safely."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from desktop.config._model import Profile, Settings
from desktop.config._policy import Policy, apply_policy
from desktop.config._schema import Problems, read_app, read_profile, write_settings
from desktop.config._store import SettingsStore


class SettingsChangeError(ValueError):
    """A change was refused (locked by policy, managed, or invalid); `str(error)` is a sentence for the user."""


def _field(profile: Profile, dotted: str) -> Any:
    value: Any = profile
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


class Configuration:
    """Holds the user's settings and the policy; every change is validated, merged and saved."""

    def __init__(self, store: SettingsStore, policy: Policy | None = None) -> None:
        self._store = store
        self._policy = policy
        self._user = Settings()
        self._effective = apply_policy(self._user, policy)

    @property
    def settings(self) -> Settings:
        """The settings in force (policy applied)."""
        return self._effective

    def load(self) -> tuple[str, ...]:
        """Load from disk; return notices for the user (never raises for a bad file)."""
        result = self._store.load()
        self._set(result.settings)
        return result.notices

    def _set(self, user: Settings) -> Settings:
        self._user = user
        self._effective = apply_policy(user, self._policy)
        return self._effective

    def save(self) -> None:
        """Write the user's settings (raises `SettingsSaveError` with a plain message)."""
        self._store.save(self._user)

    def update_app(self, **changes: Any) -> Settings:
        """Change application settings and save; locked or invalid values raise `SettingsChangeError`."""
        unknown = set(changes) - set(asdict(self._user.app))
        if unknown:
            raise SettingsChangeError(f"Unknown setting: {', '.join(sorted(unknown))}.")
        locked = sorted(k for k in changes if k in self._effective.locked)
        if locked:
            raise SettingsChangeError(f"Your organisation has fixed this setting: {', '.join(locked)}.")
        problems = Problems()
        app = read_app({**asdict(self._user.app), **changes}, problems)
        if problems.items:
            raise SettingsChangeError("This value cannot be used: " + "; ".join(problems.items) + ".")
        return self._commit(replace(self._user, app=app))

    def _validated(self, profile: Profile) -> Profile:
        problems = Problems()
        data = write_settings(Settings(profiles=(profile,)))["profiles"][0]
        checked = read_profile(data, "connection", problems)
        if checked is None or problems.items:
            raise SettingsChangeError("This connection cannot be saved: " + "; ".join(problems.items) + ".")
        return replace(checked, managed=profile.managed)

    def put_profile(self, profile: Profile) -> Settings:
        """Add or replace a profile (by id) and save; refuses what the policy forbids."""
        profile = self._validated(profile)
        current = self._effective.profile(profile.id)
        if current is not None and current.managed:
            changed = [f for f in sorted(current.locked) if _field(profile, f) != _field(current, f)]
            if changed:
                raise SettingsChangeError(
                    f"Your organisation set up this connection; these cannot be changed: {', '.join(changed)}."
                )
            profile = replace(profile, managed=True)
        else:
            profile = replace(profile, managed=False)
            if profile.auth_method not in self._effective.allowed_auth_methods:
                raise SettingsChangeError("Your organisation does not allow this way of connecting.")
            if not self._effective.custom_profiles_allowed and current is None:
                raise SettingsChangeError("Your organisation allows only the connections it has set up.")
            if profile.is_demo and not self._effective.demo_allowed:
                raise SettingsChangeError("Your organisation has turned off the demo.")
        if any(p.id == profile.id for p in self._user.profiles):
            profiles = tuple(profile if p.id == profile.id else p for p in self._user.profiles)
        else:
            profiles = (*self._user.profiles, profile)
        return self._commit(replace(self._user, profiles=profiles))

    def delete_profile(self, profile_id: str) -> Settings:
        """Remove a user profile and save; a profile set up by the organisation cannot be deleted."""
        current = self._effective.profile(profile_id)
        if current is not None and current.managed:
            raise SettingsChangeError("Your organisation set up this connection, so it cannot be deleted.")
        profiles = tuple(p for p in self._user.profiles if p.id != profile_id)
        app = self._user.app
        if app.active_profile_id == profile_id:
            app = replace(app, active_profile_id=None)
        return self._commit(replace(self._user, profiles=profiles, app=app))

    @property
    def read_only(self) -> bool:
        """True when the settings file is kept untouched (too new or unreadable): changes last this session only."""
        return self._store.read_only

    def _commit(self, user: Settings) -> Settings:
        previous = self._user
        self._set(user)
        if self._store.read_only:
            return self._effective
        try:
            self._store.save(user)
        except OSError:
            # Keep memory and disk in step: a change that did not reach the disk is not in force either.
            self._set(previous)
            raise
        return self._effective
