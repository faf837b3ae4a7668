"""Frozen-bundle benchmark: the size of dist/molt-desktop and the frozen gateway's cold start.

Cold start is the time from starting `molt-desktop gateway` (the bundle's console executable)
to its /healthz answering, median of 5 runs, each with a fresh state dir and free port.

    .venv/bin/python bench/frozen.py [--dist dist/molt-desktop] [--build] [--runs 5] [--json]

`--build` first runs `python -m PyInstaller build.spec` (into dist/). Targets: bundle < 150 MB,
cold start < 1.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_MB = 150.0
TARGET_COLD_S = 1.5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bundle_bytes(dist: Path) -> int:
    return sum(p.lstat().st_size for p in dist.rglob("*") if p.is_file() or p.is_symlink())


def cold_start(executable: Path) -> float:
    """Seconds from process start to a 200 from /healthz."""
    with tempfile.TemporaryDirectory(prefix="molt-frozen-bench-") as tmp:
        port = free_port()
        state = Path(tmp) / "state"
        state.mkdir()
        (state / "moltbot.json").write_text(json.dumps({"gateway": {"port": port, "auth": {
            "mode": "token", "token": "bench-token-" + "x" * 32}}}), "utf-8")
        env = {**os.environ, "MOLT_DESKTOP_HOME": str(state),
               "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
        started = time.perf_counter()
        process = subprocess.Popen([str(executable), "gateway"], env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                        if response.status == 200:
                            return time.perf_counter() - started
                except (urllib.error.URLError, ConnectionError, OSError):
                    pass
                if process.poll() is not None:
                    raise SystemExit(f"the frozen gateway exited with {process.returncode}")
                if time.perf_counter() - started > 30:
                    raise SystemExit("the frozen gateway did not answer /healthz within 30 s")
                time.sleep(0.005)
        finally:
            process.terminate()
            process.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=REPO / "dist" / "molt-desktop")
    parser.add_argument("--build", action="store_true", help="run the PyInstaller build first")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.build:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "PyInstaller", "build.spec", "--noconfirm",
                        "--distpath", str(args.dist.parent)], cwd=REPO, check=True)
        print(f"build: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    executable = args.dist / ("molt-desktop.exe" if os.name == "nt" else "molt-desktop")
    if not executable.is_file():
        raise SystemExit(f"no bundle at {args.dist}: build it with `python -m PyInstaller build.spec` (or --build)")
    size_mb = bundle_bytes(args.dist) / 1e6
    times = [cold_start(executable) for _ in range(args.runs)]
    result = {"bundle_mb": round(size_mb, 1), "bundle_target_mb": TARGET_MB,
              "cold_start_s": round(statistics.median(times), 3), "cold_start_runs_s": [round(t, 3) for t in times],
              "cold_start_target_s": TARGET_COLD_S}
    if args.json:
        print(json.dumps(result))
    else:
        ok = {True: "ok", False: "OVER TARGET"}
        print(f"bundle size: {size_mb:.1f} MB (target < {TARGET_MB:g} MB: {ok[size_mb < TARGET_MB]})")
        print(f"frozen gateway cold start (start to /healthz), median of {len(times)}: "
              f"{statistics.median(times):.3f} s (target < {TARGET_COLD_S:g} s: "
              f"{ok[statistics.median(times) < TARGET_COLD_S]}); runs {', '.join(f'{t:.3f}' for t in times)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
