"""What an Entra sign-in needs to know: tenant, cloud, app registration, and the signed-in account."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from desktop.clouds import AZURE_CLI_CLIENT_ID, CLOUDS

__all__ = ["AZURE_CLI_CLIENT_ID", "ENTRA_CLOUDS", "EntraAccount", "EntraCloud", "EntraOptions"]


@dataclass(frozen=True, slots=True)
class EntraCloud:
    """The sign-in host and token scopes of one Azure cloud."""

    authority_host: str
    openai_scope: str
    arm_scope: str


# The sign-in facts of each cloud, from the one cloud table the app has.
ENTRA_CLOUDS: Final[Mapping[str, EntraCloud]] = MappingProxyType(
    {
        name: EntraCloud(cloud.authority_host, cloud.cognitive_services_scope, cloud.arm_scope)
        for name, cloud in CLOUDS.items()
    }
)


@dataclass(frozen=True, slots=True)
class EntraOptions:
    """Settings for Entra sign-in; the defaults suit most work accounts.

    `authority_host` overrides the cloud's sign-in host (a private cloud, or the test identity provider); it also
    turns off Microsoft's instance discovery, which only knows the public hosts.
    """

    tenant: str = "organizations"
    cloud: str = "public"
    client_id: str = AZURE_CLI_CLIENT_ID
    record_json: str | None = None
    authority_host: str | None = None

    def __post_init__(self) -> None:
        if self.cloud not in ENTRA_CLOUDS:
            raise ValueError(f"Unknown cloud {self.cloud!r}; choose one of {', '.join(ENTRA_CLOUDS)}.")
        if not self.tenant.strip():
            raise ValueError("The tenant must not be empty; use 'organizations' if unsure.")
        if not self.client_id.strip():
            raise ValueError("The client id must not be empty.")

    @property
    def endpoints(self) -> EntraCloud:
        """The cloud's host and scopes."""
        return ENTRA_CLOUDS[self.cloud]

    @property
    def authority(self) -> str:
        """The sign-in authority URL (no tenant)."""
        host = self.authority_host or self.endpoints.authority_host
        return host if host.startswith("https://") else f"https://{host}"

    @property
    def scope(self) -> str:
        """The Azure OpenAI (Cognitive Services) scope of this cloud."""
        return self.endpoints.openai_scope


@dataclass(frozen=True, slots=True)
class EntraAccount:
    """Who is signed in; `record_json` holds no secrets and is what to save for a silent restart."""

    username: str
    tenant_id: str
    home_account_id: str
    record_json: str

    @classmethod
    def from_record_json(cls, record_json: str) -> EntraAccount:
        """Read the account out of a saved authentication record (raises ValueError if it is not one)."""
        try:
            data = json.loads(record_json)
            return cls(
                username=str(data["username"]),
                tenant_id=str(data["tenantId"]),
                home_account_id=str(data["homeAccountId"]),
                record_json=record_json,
            )
        except (TypeError, KeyError, json.JSONDecodeError) as error:
            raise ValueError("The saved sign-in record is damaged.") from error
