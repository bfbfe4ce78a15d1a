"""auth layer."""

from ._entra_options import AZURE_CLI_CLIENT_ID, ENTRA_CLOUDS, EntraAccount, EntraCloud, EntraOptions
from ._entra_problems import (
    EntraSignInError,
    SignInAction,
    SignInCancelledError,
    SignInProblem,
    SignInRequiredError,
    TokenCacheUnavailableError,
    describe_sign_in_problem,
)
from ._entra_session import DEFAULT_CACHE_NAME, AzureCliSession, DeviceCodePrompt, EntraSession, TokenProvider
from ._keys import (
    SERVICE_NAME,
    ApiKeyFormatError,
    ApiKeyStore,
    KeyringUnavailableError,
    KeyStore,
    SessionKeyStore,
    clean_api_key,
)

__all__ = [
    "AZURE_CLI_CLIENT_ID",
    "DEFAULT_CACHE_NAME",
    "ENTRA_CLOUDS",
    "SERVICE_NAME",
    "ApiKeyFormatError",
    "ApiKeyStore",
    "AzureCliSession",
    "DeviceCodePrompt",
    "EntraAccount",
    "EntraCloud",
    "EntraOptions",
    "EntraSession",
    "EntraSignInError",
    "KeyStore",
    "KeyringUnavailableError",
    "SessionKeyStore",
    "SignInAction",
    "SignInCancelledError",
    "SignInProblem",
    "SignInRequiredError",
    "TokenCacheUnavailableError",
    "TokenProvider",
    "clean_api_key",
    "describe_sign_in_problem",
]
