"""Setting up a connection, Qt-free: the draft profile, its key, saving it all at once, discovery, test and sign-in.

The settings dialog, the guided start and the sign-in panel are views of `ConnectionSetup`.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, replace

from desktop.auth import ApiKeyFormatError, DeviceCodePrompt, EntraAccount, clean_api_key
from desktop.config import (
    AuthMethod,
    Configuration,
    Deployment,
    EndpointError,
    Profile,
    SettingsChangeError,
    normalize_endpoint,
)
from desktop.services._conn_check import ConnectionReport, auth_step_title
from desktop.services._connections import Connections, with_model
from desktop.services._discovery import DiscoveredDeployment, DiscoveryResult
from desktop.services._key_vault import KeyLookup, KeyPlace, KeyVault

__all__ = ["ConnectionSetup", "SaveResult", "SetupError", "connection_name", "plural"]

_log = logging.getLogger(__name__)


class SetupError(ValueError):
    """A draft that cannot be saved; `str(error)` is a sentence for the user."""


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What a save did: `ok`, or the problem in words; `needs_consent` = only the key's session-only consent is due."""

    ok: bool
    problem: str | None = None
    needs_consent: bool = False
    key_place: KeyPlace | None = None


def plural(count: int, one: str, many: str) -> str:
    """ "1 model", "3 models": the count with the right form of the noun."""
    return f"{count} {one if count == 1 else many}"


def connection_name(endpoint: str) -> str:
    """The name a new connection gets: the resource (`myres` of myres.openai.azure.com), else the whole host."""
    try:
        host = normalize_endpoint(endpoint).resource_host
    except EndpointError:
        return endpoint.strip() or "My connection"
    bare = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    try:
        ipaddress.ip_address(bare.strip("[]"))
    except ValueError:
        pass
    else:
        return host  # an address such as 127.0.0.1:8080 is named in full, never "127"
    if bare == "localhost" or "." not in bare:
        return host
    return bare.split(".")[0]


def found_deployments(profile: Profile, result: DiscoveryResult) -> list[DiscoveredDeployment]:
    """The deployments discovery found on the profile's own resource."""
    host = _host(profile.endpoint)
    return [d for d in result.deployments if _host(d.endpoint) == host]


def with_found(profile: Profile, found: list[DiscoveredDeployment], chosen: str | None = None) -> Profile:
    """Every deployment found added to the profile (none dropped), and a default chosen when there is none."""
    known = {d.name for d in profile.deployments}
    by_name = {d.name: d for d in found}
    added = tuple(
        Deployment(d.name, d.model_name, d.model_version, model_format=d.model_format)
        for d in found
        if d.name not in known
    )
    # Deployments already listed learn their real model from what was found (their API and refusals are kept).
    updated = tuple(with_model(d, seen=by_name[d.name]) if d.name in by_name else d for d in profile.deployments)
    deployments = (*updated, *added)
    default = chosen or profile.default_deployment or (deployments[0].name if deployments else None)
    if default and all(d.name != default for d in deployments):
        deployments = (Deployment(default), *deployments)
    return replace(profile, deployments=deployments, default_deployment=default)


def with_endpoint_deployment(profile: Profile) -> Profile:
    """Add the deployment named in a pasted URL (".../deployments/NAME/...") to the profile's list."""
    try:
        name = normalize_endpoint(profile.endpoint).deployment
    except EndpointError:
        return profile
    if not name or any(d.name == name for d in profile.deployments):
        return profile
    return replace(
        profile,
        deployments=(*profile.deployments, Deployment(name)),
        default_deployment=profile.default_deployment or name,
    )


def keep_service_updates(edited: Profile, saved: Profile) -> Profile:
    """Keep what the services wrote while a view was open: the sign-in record, the scope, and each deployment's API,
    real model and what that model refused."""
    known = {d.name: d for d in saved.deployments}
    deployments = tuple(_learned(d, known[d.name]) if d.name in known else d for d in edited.deployments)
    entra = replace(
        edited.entra,
        authentication_record=saved.entra.authentication_record,
        scope=edited.entra.scope or saved.entra.scope,
    )
    return replace(edited, entra=entra, deployments=deployments)


def _learned(edited: Deployment, saved: Deployment) -> Deployment:
    """A deployment as a view edited it, with what the services learned about it meanwhile (views never edit that)."""
    return replace(
        edited,
        api=saved.api if edited.api == "unknown" else edited.api,
        model_name=edited.model_name or saved.model_name,
        model_version=edited.model_version or saved.model_version,
        model_format=edited.model_format or saved.model_format,
        refused=tuple(dict.fromkeys((*edited.refused, *saved.refused))),
    )


def _host(endpoint: str) -> str | None:
    try:
        return normalize_endpoint(endpoint).resource_host
    except EndpointError:
        return None


class ConnectionSetup:
    """Owns setting up connections; views hold no key policy and write no settings themselves."""

    def __init__(self, configuration: Configuration, connections: Connections) -> None:
        self.configuration = configuration
        self.connections = connections

    @property
    def keys(self) -> KeyVault:
        """The one key policy (the same vault the chat turns read)."""
        return self.connections.keys

    # ---- drafts ------------------------------------------------------------------------------------------------

    def new_draft(self, method: AuthMethod | None = None) -> Profile:
        """An empty connection, with a way of connecting the organisation allows."""
        allowed = self.configuration.settings.allowed_auth_methods
        chosen: AuthMethod = method if method in allowed else ("api_key" if "api_key" in allowed else allowed[0])
        return Profile(id=Profile.new_id(), display_name="New connection", endpoint="", auth_method=chosen)

    def draft_for_address(self, profile_id: str, address: str, method: AuthMethod) -> Profile:
        """The guided start's draft: the address as typed, named after its resource; raises SetupError."""
        try:
            found = normalize_endpoint(address)
        except EndpointError as error:
            raise SetupError(str(error)) from None
        saved = self.configuration.settings.profile(profile_id)
        base = saved or Profile(id=profile_id, display_name="", endpoint="")
        return with_endpoint_deployment(
            replace(base, display_name=connection_name(address), endpoint=found.base_url, auth_method=method)
        )

    def checked(self, profile: Profile) -> Profile:
        """The profile as it will be saved (address normalised, service updates kept); raises SetupError."""
        try:
            base_url = normalize_endpoint(profile.endpoint).base_url
        except EndpointError as error:
            raise SetupError(f"“{profile.display_name}”: {error}") from None
        checked = with_endpoint_deployment(replace(profile, endpoint=base_url))
        saved = self.configuration.settings.profile(profile.id)
        return keep_service_updates(checked, saved) if saved is not None else checked

    # ---- the save transaction ----------------------------------------------------------------------------------

    async def save(
        self, profile: Profile, key: str | None = None, *, use_for_chats: bool = False, consent: bool = False
    ) -> SaveResult:
        """Save the profile, its typed key and "use for chats" together: all of it, or (on any problem) none of it."""
        try:
            checked = self.checked(profile)
            typed = clean_api_key(key) if key and key.strip() and checked.auth_method == "api_key" else None
        except (SetupError, ApiKeyFormatError) as error:
            return SaveResult(False, str(error))
        previous_key: KeyLookup | None = None
        place: KeyPlace | None = None
        if typed is not None:
            previous_key = await self.keys.read(checked.id)
            stored = await self.keys.save(checked.id, typed, consent=consent)
            if stored.needs_consent:
                return SaveResult(False, stored.problem, needs_consent=True)
            place = stored.place
        settings = self.configuration.settings
        previous_profile = settings.profile(checked.id)
        previous_active = settings.app.active_profile_id
        try:
            if checked != previous_profile:
                self.configuration.put_profile(checked)
            if use_for_chats and previous_active != checked.id:
                self.configuration.update_app(active_profile_id=checked.id)
        except (SettingsChangeError, OSError) as error:
            await self._undo(checked.id, previous_profile, previous_key)
            return SaveResult(False, str(error))
        return SaveResult(True, key_place=place)

    async def _undo(self, profile_id: str, profile: Profile | None, key: KeyLookup | None) -> None:
        if key is not None:
            await self.keys.restore(profile_id, key)
        try:
            if profile is None:
                if self.configuration.settings.profile(profile_id) is not None:
                    self.configuration.delete_profile(profile_id)
            elif self.configuration.settings.profile(profile_id) != profile:
                self.configuration.put_profile(profile)
        except (SettingsChangeError, OSError) as error:
            _log.warning("the connection %s could not be put back: %s", profile_id, error)

    async def remove(self, profile_id: str) -> None:
        """Delete a connection and its key (raises SetupError when it cannot be deleted)."""
        try:
            if self.configuration.settings.profile(profile_id) is not None:
                self.configuration.delete_profile(profile_id)
        except (SettingsChangeError, OSError) as error:
            raise SetupError(str(error)) from None
        await self.keys.remove(profile_id)

    # ---- keys --------------------------------------------------------------------------------------------------

    async def key_status(self, profile_id: str) -> str:
        """Whether a key is saved for the connection, and where, in one sentence."""
        return await self.keys.describe(profile_id)

    async def has_key(self, profile_id: str) -> bool:
        """Whether the connection has a key the app can use now."""
        return (await self.keys.read(profile_id)).key is not None

    async def remove_key(self, profile_id: str) -> bool:
        """Remove the connection's key from wherever it is kept; whether there was one."""
        return await self.keys.remove(profile_id)

    async def keyring_name(self) -> str:
        """The keyring's name for the user (the About box)."""
        return await self.keys.keyring_name()

    # ---- discovery, test, sign-in ------------------------------------------------------------------------------

    async def discover(self, profile_id: str) -> DiscoveryResult:
        """The deployments the connection can use (never raises)."""
        return await self.connections.discover_deployments(profile_id)

    async def save_found(self, profile_id: str, result: DiscoveryResult, chosen: str | None = None) -> SaveResult:
        """Save every deployment discovery found on the connection's resource, with a default chosen."""
        profile = self.configuration.settings.profile(profile_id)
        if profile is None:
            return SaveResult(False, "This connection no longer exists.")
        return await self.save(with_found(profile, found_deployments(profile, result), chosen))

    async def access_refused(self, profile_id: str) -> str | None:
        """Why the resource refused the saved key or sign-in (e.g. "The API key was not accepted. …"), or None.

        None also when the resource could not be reached: the next steps say that in their own words.
        """
        profile = self.configuration.settings.profile(profile_id)
        if profile is None:
            return "This connection no longer exists."
        report = await self.connections.test_connection(profile_id, None)
        title = auth_step_title(profile.auth_method)
        message = next((step.message for step in report.steps if step.title == title and not step.ok), None)
        # The set-up shows the address and key fields next to this message: no pointer to Settings.
        return message.replace(" in Settings.", ".") if message is not None else None

    async def test_connection(self, profile_id: str, deployment: str | None = None) -> ConnectionReport:
        """Check the saved connection step by step (records which API each model answers and the scope)."""
        return await self.connections.test_connection(profile_id, deployment)

    async def sign_in(
        self, profile_id: str, device_code_prompt: DeviceCodePrompt | None = None, *, allow_unencrypted: bool = False
    ) -> EntraAccount:
        """Sign in in the browser (see Connections.sign_in)."""
        return await self.connections.sign_in(profile_id, device_code_prompt, allow_unencrypted=allow_unencrypted)

    async def sign_in_device_code(
        self, profile_id: str, prompt: DeviceCodePrompt, *, allow_unencrypted: bool = False
    ) -> EntraAccount:
        """Sign in from another device with a code."""
        return await self.connections.sign_in_device_code(profile_id, prompt, allow_unencrypted=allow_unencrypted)

    def cancel_sign_in(self, profile_id: str) -> None:
        """Cancel a pending sign-in."""
        self.connections.cancel_sign_in(profile_id)

    def account(self, profile_id: str) -> EntraAccount | None:
        """Who is signed in for the connection, or None."""
        return self.connections.account(profile_id)

    async def sign_out(self, profile_id: str) -> None:
        """Sign out of the connection's account."""
        await self.connections.sign_out(profile_id)
