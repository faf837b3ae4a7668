"""Run a fake model server as its own process, for benchmarks and interop tests.

    python -m tests.fakes.serve --kind openai|anthropic --port P [--host H] [--text T]
        [--chunks N] [--delay S] [--first-byte-delay S] [--api-key K]

Prints `listening <port>` (the real port when P is 0) once it accepts connections, and serves
until killed (SIGTERM/SIGINT stop it cleanly). Change its behaviour at runtime with
`POST /_control`, read request timings with `GET /_stats` (see common.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from tests.fakes.common import DEFAULT_TEXT, FakeBehavior, FakeModelServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=["openai", "anthropic"], required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--text", default=DEFAULT_TEXT)
    parser.add_argument("--chunks", type=int, default=None, help="number of chunks (default: one per word)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between chunks")
    parser.add_argument("--first-byte-delay", type=float, default=0.0, help="seconds before the response starts")
    parser.add_argument("--api-key", default=None, help="reject any other key with 401")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    behavior = FakeBehavior(text=args.text, chunks=args.chunks, delay=args.delay,
                            first_byte_delay=args.first_byte_delay, api_key=args.api_key)
    server = FakeModelServer(args.kind, behavior, host=args.host, port=args.port)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    print(f"listening {server.port}", flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    asyncio.run(serve(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
