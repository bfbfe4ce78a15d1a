"""`python -m desktop.simulator --port PORT`: serve the simulator until Ctrl+C."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from ._config import DEFAULT_DEPLOYMENTS, MODEL_DEPLOYMENTS, RemoteAddressError, SimulatorConfig
from ._server import Simulator


def _parse(argv: list[str] | None) -> SimulatorConfig:
    parser = argparse.ArgumentParser(prog="python -m desktop.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other machines can reach (the simulator then serves anyone who has its key)",
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free port)")
    parser.add_argument("--tokens-per-second", type=float, default=0.0, help="pace of deltas (0 = unpaced)")
    parser.add_argument("--first-token-delay", type=float, default=0.0, help="seconds before the first delta")
    parser.add_argument("--deltas", type=int, default=None, help="make every answer exactly this many deltas")
    parser.add_argument(
        "--models",
        action="store_true",
        help="also serve one deployment per model family, under alias names (Sales-GPT is gpt-4.1, ...)",
    )
    args = parser.parse_args(argv)
    return SimulatorConfig(
        host=args.host,
        port=args.port,
        allow_remote=args.allow_remote,
        tokens_per_second=args.tokens_per_second,
        first_token_delay=args.first_token_delay,
        answer_deltas=args.deltas,
        deployments=DEFAULT_DEPLOYMENTS + (MODEL_DEPLOYMENTS if args.models else ()),
    )


async def _serve(config: SimulatorConfig) -> None:
    async with Simulator(config) as sim:
        print(f"Azure OpenAI simulator: base URL {sim.base_url}", flush=True)
        print(f"API key: {sim.api_key}", flush=True)
        print(f"ARM base URL: {sim.arm_url}  (Ctrl+C stops)", flush=True)
        stop = asyncio.Event()
        if sys.platform != "win32":
            # SIGTERM (how test harnesses and service managers stop it) ends as cleanly as Ctrl+C.
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    """Run the simulator in the foreground; Ctrl+C or SIGTERM stops it cleanly."""
    config = _parse(argv)
    try:
        asyncio.run(_serve(config))
    except KeyboardInterrupt:
        pass
    except RemoteAddressError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"cannot serve on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return 1
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
