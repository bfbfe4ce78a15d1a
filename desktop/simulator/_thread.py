"""`SimulatorThread`: the simulator on its own asyncio loop in a daemon thread (demo mode, sync tests)."""

from __future__ import annotations

import asyncio
import threading

from ._config import Fault, RequestRecord, SimulatorConfig
from ._server import Simulator


class SimulatorThread:
    """Runs a `Simulator` in a daemon thread so its CPU work never stalls the caller's (Qt) event loop."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.simulator = Simulator(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Start serving; returns once the port is bound (raises what binding raised)."""
        self._thread = threading.Thread(target=self._run, name="azure-openai-simulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the simulator did not start in time")
        if self._error is not None:
            raise self._error

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving (ending stalls and streams) and join the thread."""
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            try:
                loop.run_until_complete(self.simulator.start())
            except BaseException as exc:  # reported to start()'s caller in the other thread
                self._error = exc
                return
            finally:
                self._ready.set()
            loop.run_forever()
            loop.run_until_complete(self.simulator.stop())
        finally:
            loop.close()

    @property
    def base_url(self) -> str:
        """The v1 base URL, ending `/openai/v1/`."""
        return self.simulator.base_url

    @property
    def resource_url(self) -> str:
        """The resource endpoint URL."""
        return self.simulator.resource_url

    @property
    def arm_url(self) -> str:
        """The Azure Resource Manager base URL."""
        return self.simulator.arm_url

    @property
    def api_key(self) -> str:
        """The first accepted API key."""
        return self.simulator.api_key

    @property
    def requests(self) -> list[RequestRecord]:
        """The request log."""
        return self.simulator.requests

    def push_fault(self, fault: Fault, times: int = 1) -> None:
        """Queue a fault for the next `times` matching requests."""
        self.simulator.push_fault(fault, times)

    def push_answer(self, text: str) -> None:
        """Queue the text of the next answer."""
        self.simulator.push_answer(text)
