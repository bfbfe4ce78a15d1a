"""A loopback Azure OpenAI v1 simulator (plus the ARM listing routes) for the demo mode, tests and benchmarks.

The data plane lives under `/openai/...` and Azure Resource Manager under `/subscriptions/...` of the same server:
point the client at `sim.base_url` and deployment discovery's ARM base URL at `sim.arm_url`.

Faults come from `sim.push_fault(Fault(...))` or, for the demo and end-to-end tests, from magic words in the last user
message: `[[fault:429]]` (any status; `[[fault:429:90]]` adds `retry-after: 90`), `[[fault:drop]]`,
`[[fault:drop-mid-stream:N]]`, `[[fault:stall]]`, `[[fault:stall-mid-stream:N]]`, `[[fault:slow:SECONDS]]`,
`[[fault:malformed:N]]`, `[[fault:no-terminal]]`, `[[fault:gateway]]`, `[[fault:filter]]`, `[[fault:filter-cut:N]]`;
`[[deltas:N]]` makes the answer exactly N deltas.
"""

from ._config import (
    DEFAULT_ARM_TOKEN,
    DEFAULT_DEPLOYMENTS,
    DEFAULT_TOKEN,
    DEFAULT_TOKEN_WITHOUT_ROLE,
    MODEL_DEPLOYMENTS,
    Deployment,
    Fault,
    FaultKind,
    RemoteAddressError,
    RequestRecord,
    SimulatorConfig,
    is_loopback,
    random_api_key,
)
from ._server import Simulator
from ._thread import SimulatorThread

__all__ = [
    "DEFAULT_ARM_TOKEN",
    "DEFAULT_DEPLOYMENTS",
    "DEFAULT_TOKEN",
    "DEFAULT_TOKEN_WITHOUT_ROLE",
    "MODEL_DEPLOYMENTS",
    "Deployment",
    "Fault",
    "FaultKind",
    "RemoteAddressError",
    "RequestRecord",
    "Simulator",
    "SimulatorConfig",
    "SimulatorThread",
    "is_loopback",
    "random_api_key",
]
