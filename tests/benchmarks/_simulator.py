"""The simulator in its own process, so its CPU time is never counted against the client being measured."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from types import TracebackType

_URL = re.compile(r"base URL (\S+)")
_KEY = re.compile(r"API key: (\S+)")


class SimulatorProcess:
    """`python -m desktop.simulator` on a free loopback port; a context manager that stops it with SIGTERM."""

    def __init__(self, *, tokens_per_second: float = 0.0, first_token_delay: float = 0.0) -> None:
        self._argv = [
            sys.executable,
            "-m",
            "desktop.simulator",
            "--port",
            "0",
            "--tokens-per-second",
            str(tokens_per_second),
            "--first-token-delay",
            str(first_token_delay),
        ]
        self._process: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.api_key = ""

    def __enter__(self) -> SimulatorProcess:
        self._process = subprocess.Popen(self._argv, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        # The simulator prints its URL and key once it listens; reading them is the readiness signal.
        for line in self._process.stdout:
            if match := _URL.search(line):
                self.base_url = match.group(1)
            elif match := _KEY.search(line):
                self.api_key = match.group(1)
            if self.base_url and self.api_key:
                return self
        self.__exit__(None, None, None)
        raise RuntimeError("the simulator exited before printing its URL and key")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
        try:
            self._process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.communicate()
        self._process = None
