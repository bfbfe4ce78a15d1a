"""The Azure clouds the app can talk to: sign-in hosts, token scopes and endpoint suffixes.

Below every layer (like `desktop.paths`) because settings (`desktop.config`) and sign-in (`desktop.auth`), which may
not import each other, both need the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

#: The Azure CLI public client: works in every tenant without an app registration of one's own.
AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"

CloudName = Literal["public", "usgov", "china"]
CLOUD_NAMES: tuple[CloudName, ...] = get_args(CloudName)


@dataclass(frozen=True)
class Cloud:
    """Fixed facts about one Azure cloud."""

    name: CloudName
    label: str
    authority_host: str
    cognitive_services_scope: str
    arm_endpoint: str
    arm_scope: str
    endpoint_suffixes: tuple[str, ...]


CLOUDS: dict[CloudName, Cloud] = {
    "public": Cloud(
        name="public",
        label="Azure (global)",
        authority_host="login.microsoftonline.com",
        cognitive_services_scope="https://cognitiveservices.azure.com/.default",
        arm_endpoint="https://management.azure.com",
        arm_scope="https://management.azure.com/.default",
        endpoint_suffixes=("openai.azure.com", "cognitiveservices.azure.com", "services.ai.azure.com"),
    ),
    "usgov": Cloud(
        name="usgov",
        label="Azure US Government",
        authority_host="login.microsoftonline.us",
        cognitive_services_scope="https://cognitiveservices.azure.us/.default",
        arm_endpoint="https://management.usgovcloudapi.net",
        arm_scope="https://management.usgovcloudapi.net/.default",
        endpoint_suffixes=("openai.azure.us", "cognitiveservices.azure.us", "services.ai.azure.us"),
    ),
    "china": Cloud(
        name="china",
        label="Azure operated by 21Vianet (China)",
        authority_host="login.chinacloudapi.cn",
        cognitive_services_scope="https://cognitiveservices.azure.cn/.default",
        arm_endpoint="https://management.chinacloudapi.cn",
        arm_scope="https://management.chinacloudapi.cn/.default",
        endpoint_suffixes=("openai.azure.cn", "cognitiveservices.azure.cn", "services.ai.azure.cn"),
    ),
}


def cloud_for_host(host: str) -> CloudName | None:
    """Return the cloud whose Azure OpenAI endpoint suffix `host` ends with, or None for other hosts."""
    host = host.lower().rstrip(".")
    for cloud in CLOUDS.values():
        if any(host.endswith("." + suffix) for suffix in cloud.endpoint_suffixes):
            return cloud.name
    return None
