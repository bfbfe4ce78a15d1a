"""Connections: one authenticated Azure OpenAI client per profile, the sign-in flow, and where each turn is sent."""

from __future__ import annotations

import functools
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar, cast

import httpx

from desktop.auth import (
    ApiKeyStore,
    DeviceCodePrompt,
    EntraAccount,
    EntraSignInError,
    KeyringUnavailableError,
    SignInAction,
    SignInRequiredError,
)
from desktop.auth import EntraOptions as SignInOptions
from desktop.client import AzureOpenAIClient
from desktop.config import (
    CLOUDS,
    Configuration,
    Deployment,
    EndpointError,
    Profile,
    SettingsChangeError,
    normalize_endpoint,
)
from desktop.services._chat import TurnSetupError, TurnTarget
from desktop.services._conn_check import CheckStep, ConnectionReport, auth_step_title, check_connection
from desktop.services._discovery import DiscoveryResult, list_from_arm, list_from_data_plane
from desktop.services._errors import ErrorAction, UserError, describe_error
from desktop.services._key_vault import KeyVault
from desktop.services._network import NetworkSettingsError, make_http_client
from desktop.services._sessions import (
    CliSessionFactory,
    EntraSessionFactory,
    SignInSession,
    TokenSession,
    cli_session,
    entra_session,
    signing_in,
    token,
)
from desktop.storage import Conversation

__all__ = ["CliSessionFactory", "Connections", "EntraSessionFactory", "SignInSession", "TokenSession"]

_log = logging.getLogger(__name__)

T = TypeVar("T")
TokenProvider = Callable[[], Awaitable[str]]

#: The scope Microsoft's newer Azure OpenAI pages use; some resources accept only it, others only the cloud's
#: Cognitive Services scope. Both are tried, and the one a resource accepts is remembered.
AI_SCOPE = "https://ai.azure.com/.default"


@dataclass
class _Pooled:
    """A cached client, the settings it was built from, and the pool it owns."""

    key: tuple[object, ...]
    client: AzureOpenAIClient
    http: httpx.AsyncClient


def _setup(title: str, explanation: str, action: ErrorAction = ErrorAction.OPEN_SETTINGS) -> TurnSetupError:
    return TurnSetupError(UserError(title, explanation, action))


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class Connections:
    """Per-profile clients (rebuilt when their settings change), API keys, Entra / Azure CLI sessions, and tests."""

    def __init__(
        self,
        configuration: Configuration,
        keys: ApiKeyStore,
        session_keys: ApiKeyStore,
        *,
        entra_sessions: EntraSessionFactory = entra_session,
        cli_sessions: CliSessionFactory = cli_session,
        ssl_context: ssl.SSLContext | None = None,
        check_timeout: float = 15.0,
    ) -> None:
        self._configuration = configuration
        #: The API keys of every profile, under the one key policy (shared with the setup screens).
        self.keys = KeyVault(keys, session_keys)
        self._new_entra = entra_sessions
        self._new_cli = cli_sessions
        self._ssl = ssl_context
        self._check_timeout = check_timeout
        self._clients: dict[str, _Pooled] = {}
        self._sessions: dict[str, tuple[tuple[object, ...], TokenSession]] = {}
        self._unencrypted_ok: set[str] = set()
        self._resource_scopes: dict[str, str] = {}  # resource host -> the token scope it accepted

    # ---- profiles ----------------------------------------------------------------------------------------------

    def _profile(self, profile_id: str | None) -> Profile:
        settings = self._configuration.settings
        profile = settings.profile(profile_id) if profile_id else settings.active_profile
        if profile is None:
            if profile_id:
                raise _setup(
                    "This connection no longer exists",
                    "The connection used here was removed. Choose another connection in Settings.",
                )
            raise _setup(
                "No connection set up",
                "Add a connection in Settings: your Azure OpenAI address with a key, or sign in with your work "
                "account.",
            )
        if profile.blocked_reason is not None:
            raise _setup("This connection is turned off", profile.blocked_reason, ErrorAction.CONTACT_ADMIN)
        return profile

    # ---- credentials -------------------------------------------------------------------------------------------

    async def _api_key(self, profile: Profile) -> str:
        found = await self.keys.read(profile.id)
        if found.key is not None:
            return found.key
        if found.keyring_problem is not None:
            raise TurnSetupError(describe_error(KeyringUnavailableError(found.keyring_problem)))
        raise _setup(
            "No API key for this connection",
            f"Paste the key for “{profile.display_name}” in Settings (Azure portal → your resource → Keys and "
            "Endpoint).",
        )

    async def _session(self, profile: Profile) -> TokenSession:
        """The profile's Entra or Azure CLI session, rebuilt (and the old one closed) when its options change."""
        entra = profile.entra
        key: tuple[object, ...] = (profile.auth_method, entra.tenant, entra.cloud, entra.client_id)
        held = self._sessions.get(profile.id)
        if held is not None and held[0] == key:
            return held[1]
        if held is not None:
            await self._close_session(profile.id)
        session: TokenSession
        try:
            if profile.auth_method == "entra":
                options = SignInOptions(
                    tenant=entra.tenant,
                    cloud=entra.cloud,
                    client_id=entra.client_id,
                    record_json=entra.authentication_record,
                )
                session = self._new_entra(options, profile.id in self._unencrypted_ok)
            else:
                session = self._new_cli(entra.tenant, entra.cloud)
        except ValueError as error:
            raise _setup("The sign-in settings cannot be used", f"{error} Check Advanced in Settings.") from None
        self._sessions[profile.id] = (key, session)
        return session

    async def _close_session(self, profile_id: str) -> None:
        held = self._sessions.pop(profile_id, None)
        if held is not None:
            await held[1].close()

    async def _sign_in_session(self, profile_id: str) -> tuple[Profile, SignInSession]:
        profile = self._profile(profile_id)
        if profile.auth_method != "entra":
            raise ValueError(f"Profile {profile_id!r} does not use Microsoft Entra sign-in.")
        # The key of an "entra" session names its auth method, so it came from the Entra factory.
        return profile, cast(SignInSession, await self._session(profile))

    def _held_sign_in(self, profile_id: str) -> SignInSession | None:
        held = self._sessions.get(profile_id)
        return cast(SignInSession, held[1]) if held is not None and held[0][0] == "entra" else None

    # ---- token scopes ------------------------------------------------------------------------------------------

    def scopes(self, profile: Profile) -> tuple[str, ...]:
        """The token scopes to try for a profile's resource, the one it is known to accept first."""
        cloud = profile.entra.cloud
        candidates = [CLOUDS[cloud].cognitive_services_scope, *([AI_SCOPE] if cloud == "public" else [])]
        known = self._resource_scopes.get(_resource(profile)) or profile.entra.scope
        if known:
            candidates = [known, *(c for c in candidates if c != known)]
        return tuple(candidates)

    def _remember_scope(self, profile_id: str, scope: str) -> None:
        """Remember for the resource (this session) and record in the profile (saved) the scope that works."""
        profile = self._configuration.settings.profile(profile_id)
        if profile is None:
            return
        self._resource_scopes[_resource(profile)] = scope
        if profile.entra.scope == scope:
            return
        try:
            self._configuration.put_profile(replace(profile, entra=replace(profile.entra, scope=scope)))
        except (SettingsChangeError, OSError) as error:
            _log.info("token scope for %s not recorded: %s", profile_id, error)

    # ---- clients -----------------------------------------------------------------------------------------------

    async def client_for(self, profile_id: str) -> AzureOpenAIClient:
        """The profile's client, authenticated; raises TurnSetupError (plain words) when it cannot be built."""
        profile = self._profile(profile_id)
        app = self._configuration.settings.app
        auth: str | TokenProvider
        if profile.auth_method == "api_key":
            auth = await self._api_key(profile)
            identity: object = auth
        else:
            session = await self._session(profile)
            scope = self.scopes(profile)[0]
            auth = functools.partial(token, session, scope)
            identity = (id(session), scope)
        key = (profile.endpoint, profile.auth_method, identity, app.max_retries, app.request_timeout, app.proxy)
        pooled = self._clients.get(profile.id)
        if pooled is not None and pooled.key == key:
            return pooled.client
        if pooled is not None:
            await self._drop_client(profile.id)
        try:
            http = make_http_client(app.proxy, timeout=app.request_timeout, verify=self._ssl)
        except NetworkSettingsError as error:
            raise _setup("The proxy setting cannot be used", str(error)) from None
        try:
            client = AzureOpenAIClient(
                base_url=profile.endpoint,
                api_key=auth,
                max_retries=app.max_retries,
                timeout=app.request_timeout,
                http_client=http,
            )
        except ValueError as error:
            await http.aclose()
            raise _setup("The connection's address cannot be used", f"{error} Check it in Settings.") from None
        self._clients[profile.id] = _Pooled(key, client, http)
        return client

    async def _drop_client(self, profile_id: str) -> None:
        # A turn still streaming on the old client ends as "connection lost" (its partial answer is kept): settings
        # changes are rare, and keeping old pools open until some unknown later point would leak sockets.
        pooled = self._clients.pop(profile_id, None)
        if pooled is not None:
            await pooled.client.aclose()
            await pooled.http.aclose()

    # ---- chat turns --------------------------------------------------------------------------------------------

    async def target_for(self, conversation: Conversation | None) -> TurnTarget:
        """Where a conversation's next turn goes: its profile (or the active one), deployment, API and parameters."""
        profile = self._profile(conversation.profile_id if conversation else None)
        deployment = (conversation.deployment if conversation else None) or profile.default_deployment
        if not deployment:
            raise _setup(
                "Choose a deployment",
                f"Pick the deployment (model) to chat with for “{profile.display_name}” in Settings.",
            )
        if profile.auth_method == "entra":
            _, session = await self._sign_in_session(profile.id)
            if session.account is None:
                raise _setup(
                    "Please sign in",
                    f"Sign in with your work account to use “{profile.display_name}”.",
                    ErrorAction.SIGN_IN,
                )
        client = await self.client_for(profile.id)
        defaults = profile.chat_defaults
        params: dict[str, Any] = conversation.params if conversation else {}
        instructions = conversation.instructions if conversation and conversation.instructions.strip() else ""
        temperature = _number(params.get("temperature"))  # anything unusable falls back to the default
        max_tokens = params.get("max_output_tokens")
        effort = params.get("reasoning_effort")
        return TurnTarget(
            client=client,
            deployment=deployment,
            api=next((d.api for d in profile.deployments if d.name == deployment), "unknown"),
            model=next((d.model_name for d in profile.deployments if d.name == deployment), None),
            auth_method=profile.auth_method,
            instructions=instructions or defaults.instructions,
            temperature=temperature if temperature is not None else defaults.temperature,
            max_output_tokens=max_tokens
            if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens > 0
            else defaults.max_output_tokens,
            reasoning_effort=effort if isinstance(effort, str) and effort else defaults.reasoning_effort,
            remember_api=functools.partial(self.record_api, profile.id, deployment),
        )

    def record_api(self, profile_id: str, deployment: str, api: Literal["responses", "chat"]) -> None:
        """Remember in the profile (saved at once) which API a deployment answers."""
        profile = self._configuration.settings.profile(profile_id)
        if profile is None:
            return
        known = next((d for d in profile.deployments if d.name == deployment), None)
        if known is not None and known.api == api:
            return
        if known is None:
            deployments = (*profile.deployments, Deployment(deployment, api=api))
        else:
            deployments = tuple(replace(d, api=api) if d is known else d for d in profile.deployments)
        try:
            self._configuration.put_profile(replace(profile, deployments=deployments))
        except SettingsChangeError as error:
            _log.info("API choice for %s not remembered: %s", deployment, error)  # e.g. fixed by the organisation
        except OSError as error:
            _log.warning("API choice for %s not saved: %s", deployment, error)

    # ---- Entra sign-in -----------------------------------------------------------------------------------------

    async def sign_in(
        self, profile_id: str, device_code_prompt: DeviceCodePrompt | None = None, *, allow_unencrypted: bool = False
    ) -> EntraAccount:
        """Sign in in the browser (falling back to a device code when no browser opens and a prompt is given).

        Raises EntraSignInError whose `problem` says what happened; ALLOW_UNENCRYPTED asks for the user's consent,
        then call again with `allow_unencrypted=True`.
        """
        if allow_unencrypted:
            self._allow_unencrypted(profile_id)
        _, session = await self._sign_in_session(profile_id)
        try:
            account = await signing_in(session.sign_in_browser())
        except EntraSignInError as error:
            if device_code_prompt is None or error.problem.action is not SignInAction.USE_DEVICE_CODE:
                raise
            account = await signing_in(session.sign_in_device_code(device_code_prompt))
        self._save_record(profile_id, account.record_json)
        return account

    async def sign_in_device_code(
        self, profile_id: str, prompt: DeviceCodePrompt, *, allow_unencrypted: bool = False
    ) -> EntraAccount:
        """Sign in from another device: `prompt` receives the web address and the code to show."""
        if allow_unencrypted:
            self._allow_unencrypted(profile_id)
        _, session = await self._sign_in_session(profile_id)
        account = await signing_in(session.sign_in_device_code(prompt))
        self._save_record(profile_id, account.record_json)
        return account

    def _allow_unencrypted(self, profile_id: str) -> None:
        self._unencrypted_ok.add(profile_id)
        session = self._held_sign_in(profile_id)
        if session is not None:
            session.allow_unencrypted_storage()

    def cancel_sign_in(self, profile_id: str) -> None:
        """Cancel a pending sign-in of this profile (it then ends with SignInCancelledError)."""
        session = self._held_sign_in(profile_id)
        if session is not None:
            session.cancel()

    async def sign_out(self, profile_id: str) -> None:
        """Sign out completely: cached tokens and the saved record are gone, the client is closed."""
        _, session = await self._sign_in_session(profile_id)
        await self._drop_client(profile_id)
        try:
            await signing_in(session.sign_out())
        finally:
            self._save_record(profile_id, None)

    def account(self, profile_id: str) -> EntraAccount | None:
        """Who is signed in for this profile (from the live session, else from the saved record), or None."""
        session = self._held_sign_in(profile_id)
        if session is not None:
            return session.account
        profile = self._configuration.settings.profile(profile_id)
        record = profile.entra.authentication_record if profile is not None else None
        if not record:
            return None
        try:
            return EntraAccount.from_record_json(record)
        except ValueError:
            return None

    async def restore(self, profile_id: str, *, allow_unencrypted: bool = False) -> bool:
        """At start-up: get a token silently. False = the user must sign in; other problems raise EntraSignInError."""
        if allow_unencrypted:
            self._allow_unencrypted(profile_id)
        profile, session = await self._sign_in_session(profile_id)
        if session.account is None:
            return False
        try:
            await signing_in(session.token_provider(self.scopes(profile)[0])())
        except SignInRequiredError:
            return False
        return True

    def _save_record(self, profile_id: str, record_json: str | None) -> None:
        profile = self._configuration.settings.profile(profile_id)
        if profile is None or profile.entra.authentication_record == record_json:
            return
        entra = replace(profile.entra, authentication_record=record_json)
        try:
            self._configuration.put_profile(replace(profile, entra=entra))
        except (SettingsChangeError, OSError) as error:
            # Signed in for this session all the same; only the silent restart next time is lost.
            _log.warning("The sign-in could not be saved in the settings: %s", error)

    # ---- connection test and discovery -------------------------------------------------------------------------

    async def test_connection(self, profile_id: str, deployment: str | None = None) -> ConnectionReport:
        """Check address, credentials, deployment and API support in plain words; records the API found."""
        try:
            profile = self._profile(profile_id)
            client = await self.client_for(profile.id)
        except TurnSetupError as error:
            settings_profile = self._configuration.settings.profile(profile_id)
            title = auth_step_title(settings_profile.auth_method) if settings_profile else "Connection set up"
            words = error.error
            return ConnectionReport((CheckStep(title, False, f"{words.title}. {words.explanation}"),), False)
        chosen = deployment or profile.default_deployment
        report = await self._check(client, profile, chosen)
        if profile.auth_method != "api_key":
            report = await self._check_other_scopes(profile, chosen, report)
        if report.api is not None and chosen:
            self.record_api(profile.id, chosen, report.api)
        return report

    async def _check(self, client: AzureOpenAIClient, profile: Profile, deployment: str | None) -> ConnectionReport:
        return await check_connection(
            client,
            auth_method=profile.auth_method,
            proxy=self._configuration.settings.app.proxy,
            deployment=deployment,
            timeout=self._check_timeout,
        )

    async def _check_other_scopes(
        self, profile: Profile, deployment: str | None, first: ConnectionReport
    ) -> ConnectionReport:
        """When the resource refused the token, try the other scope; remember whichever one the resource accepts."""
        scopes = self.scopes(profile)
        if _accepted(first, profile.auth_method):
            self._remember_scope(profile.id, scopes[0])
            return first
        for scope in scopes[1:]:
            self._resource_scopes[_resource(profile)] = scope
            report = await self._check(await self.client_for(profile.id), profile, deployment)
            if _accepted(report, profile.auth_method):
                _log.info("resource of %s accepts tokens for %s", profile.id, scope)
                self._remember_scope(profile.id, scope)
                return report
        self._resource_scopes[_resource(profile)] = scopes[0]  # none worked: keep the first, report its failure
        return first

    async def discover_deployments(self, profile_id: str, *, arm_base_url: str | None = None) -> DiscoveryResult:
        """Deployments to pick from: ARM for a signed-in user (then the data plane), the data plane with a key."""
        try:
            profile = self._profile(profile_id)
            client = await self.client_for(profile.id)
        except TurnSetupError as error:
            return DiscoveryResult((), "none", f"{error.error.explanation}")
        arm_result: DiscoveryResult | None = None
        if profile.auth_method != "api_key":
            cloud = CLOUDS[profile.entra.cloud]
            session = await self._session(profile)
            pooled = self._clients[profile.id]
            arm_result = await list_from_arm(
                pooled.http,
                arm_base_url or cloud.arm_endpoint,
                functools.partial(token, session, cloud.arm_scope),
                timeout=self._check_timeout,
            )
            if arm_result.deployments:
                return arm_result
        plane = await list_from_data_plane(client, timeout=self._check_timeout)
        if plane.deployments or arm_result is None:
            return plane
        return arm_result

    # ---- shutdown ----------------------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close every client and session."""
        for profile_id in list(self._clients):
            await self._drop_client(profile_id)
        for profile_id in list(self._sessions):
            await self._close_session(profile_id)


def _resource(profile: Profile) -> str:
    try:
        return normalize_endpoint(profile.endpoint).resource_host
    except EndpointError:
        return profile.endpoint


def _accepted(report: ConnectionReport, auth_method: str) -> bool:
    """Whether the resource accepted the credentials (a later step may still have failed)."""
    title = auth_step_title(auth_method)
    return any(step.title == title and step.ok for step in report.steps)
