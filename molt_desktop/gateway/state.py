"""What the gateway's handlers share: services, presence, state versions and the event bus.

The gateway owns no business logic: sessions live in the store, runs in the agent runtime,
settings in the config manager. `GatewayState` only holds references to them plus the
connection-level bookkeeping (presence, state versions, event listeners).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from molt_desktop import paths
from molt_desktop.clock import monotonic, now_ms
from molt_desktop.version import __version__

if TYPE_CHECKING:
    from molt_desktop.agent.runtime import AgentRuntime
    from molt_desktop.config.manager import ConfigManager
    from molt_desktop.gateway.auth import AuthConfig
    from molt_desktop.gateway.metrics import GatewayMetrics
    from molt_desktop.gateway.pairing import PairingStore
    from molt_desktop.gateway.ratelimit import AuthRateLimiter
    from molt_desktop.sessions.store import SessionStore

EventListener = Callable[[str, dict[str, Any]], None]

TICK_INTERVAL_MS = 30_000
MAX_BUFFERED_BYTES = 52_428_800
PRE_AUTH_MAX_BYTES = 64 * 1024
HANDSHAKE_TIMEOUT_S = 10.0


@dataclass
class PresenceEntry:
    conn_id: str
    entry: dict[str, Any]


@dataclass
class GatewayState:
    state_dir: Path
    config: ConfigManager
    store: SessionStore
    runtime: AgentRuntime
    pairing: PairingStore
    limiter: AuthRateLimiter
    metrics: GatewayMetrics
    auth: Callable[[], AuthConfig]
    boot_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started_monotonic: float = field(default_factory=monotonic)
    started_ms: int = field(default_factory=now_ms)
    presence_version: int = 1
    health_version: int = 1
    presence: dict[str, dict[str, Any]] = field(default_factory=dict)
    listeners: list[EventListener] = field(default_factory=list)
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    version: str = __version__

    @property
    def uptime_ms(self) -> int:
        return int((monotonic() - self.started_monotonic) * 1000)

    @property
    def log_dir(self) -> Path:
        return paths.logs_dir(self.state_dir)

    def max_payload(self) -> int:
        return int(self.config.current.config.gateway.maxPayload)

    def state_version(self) -> dict[str, int]:
        return {"presence": self.presence_version, "health": self.health_version}

    def add_listener(self, listener: EventListener) -> Callable[[], None]:
        """Listen to every event the gateway publishes; returns the function that unsubscribes."""
        self.listeners.append(listener)

        def remove() -> None:
            if listener in self.listeners:
                self.listeners.remove(listener)

        return remove

    def presence_list(self) -> list[dict[str, Any]]:
        return list(self.presence.values())
