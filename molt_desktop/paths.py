"""Where molt_desktop keeps its state: the state dir and the OpenClaw file-era layout inside it.

Only locations live here; reading and writing the files is the job of config/ and sessions/.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

ENV_HOME = "MOLT_DESKTOP_HOME"
CONFIG_FILENAME = "moltbot.json"
DEFAULT_AGENT_ID = "main"


def state_dir() -> Path:
    """The state dir: `$MOLT_DESKTOP_HOME`, else the platform's per-user data dir."""
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32" or sys.platform == "darwin":
        return Path(platformdirs.user_data_dir("MoltDesktop", appauthor=False, roaming=True))
    return Path(platformdirs.user_data_dir("molt-desktop", appauthor=False))


def config_path(state: Path) -> Path:
    return state / CONFIG_FILENAME


def sessions_dir(state: Path, agent_id: str = DEFAULT_AGENT_ID) -> Path:
    return state / "agents" / agent_id / "sessions"


def devices_dir(state: Path) -> Path:
    return state / "devices"


def identity_dir(state: Path) -> Path:
    return state / "identity"


def logs_dir(state: Path) -> Path:
    return state / "logs"


def cache_dir(state: Path) -> Path:
    """Derived, rebuildable data (search index); safe to delete."""
    return state / "cache"


def workspace_dir(state: Path) -> Path:
    return state / "workspace"
