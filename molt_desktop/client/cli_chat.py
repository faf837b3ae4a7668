"""`molt-desktop chat "TEXT"`: one message through the endpoint pool, the reply streamed to stdout.

The pool (client/failover.py, built from the state dir's config like the desktop app's) picks
the gateway: the local one, else the first working remote, and moves the message if its gateway
dies mid-reply. The reply text goes to stdout as it arrives (`--json`: one object at the end
instead); stderr says which gateway answered, or why none did (the gateways tried and what each
said, the approve commands when a gateway waits for this device to be paired). Exit code 0 when
a reply came, 1 otherwise.

Not here: argument parsing (cli.py), connecting and failover (client/).
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from molt_desktop import paths
from molt_desktop.i18n import _
from molt_desktop.sessions.keys import canonical_session_key, main_session_key

if TYPE_CHECKING:
    from molt_desktop.client.failover import ChatResult, Endpoint, EndpointHealth, EndpointPool

EXIT_OK, EXIT_FAIL = 0, 1
REPLY_TIMEOUT = 300.0
KEY_EXAMPLE = "agent:<agentId>:<name>"


class ChatUsageError(ValueError):
    """The command cannot be sent as given (bad session key, empty text); the message says why."""


def session_key_for(value: str | None, main_key: str = "main") -> str:
    """The session to talk to: a full key such as `agent:main:notes` (lowercased, as gateways
    store keys), or the default agent's main session when none is given."""
    if value is None:
        return main_session_key(paths.DEFAULT_AGENT_ID, main_key)
    problem = _("{key!r} is not a session key. A session key looks like {example}, for example "
                "agent:main:main (the main session) or agent:main:notes.").format(key=value, example=KEY_EXAMPLE)
    if not value.strip().lower().startswith("agent:"):
        raise ChatUsageError(problem)
    try:
        return canonical_session_key(value)
    except ValueError:
        raise ChatUsageError(problem) from None


def answered_by(endpoint: Endpoint, url: str) -> str:
    if endpoint.kind == "local":
        return _("answered by the local gateway {url}").format(url=url)
    return _("answered by the remote gateway {name} ({url})").format(name=endpoint.id, url=url)


def unreachable_message(health: list[EndpointHealth], error: str) -> str:
    """Why no gateway took the message: each gateway tried and what went wrong with it."""
    if not health:
        return _("No gateway took the message: {error}").format(error=error)
    lines = [_("No gateway took the message. Gateways tried:")]
    for item in health:
        where = _("local") if item.kind == "local" else item.id
        lines.append(f"  {where}  {item.url}: {item.last_error or _('not connected')}")
    lines.append(_("Start the gateway (the molt-desktop app, or `molt-desktop gateway`), or add a "
                   "reachable remote gateway under `remotes` in the config."))
    return "\n".join(lines)


@dataclass
class ChatOutput:
    """Where a turn is written: stdout for the reply (or the JSON object), stderr for the rest."""

    out: TextIO
    err: TextIO
    as_json: bool
    streamed: str = ""

    def delta(self, piece: str) -> None:
        self.streamed += piece
        if not self.as_json:
            self.out.write(piece)
            self.out.flush()

    def end_reply(self) -> None:
        if not self.as_json:
            self.out.write("\n")
            self.out.flush()

    def note(self, text: str) -> None:
        self.err.write(text + "\n")
        self.err.flush()

    def result(self, payload: dict[str, Any]) -> None:
        if self.as_json:
            self.out.write(json.dumps(payload, ensure_ascii=False) + "\n")
            self.out.flush()


def _endpoint_json(endpoint: Endpoint | None, url: str | None) -> dict[str, Any] | None:
    if endpoint is None:
        return None
    return {"id": endpoint.id, "url": url, "kind": endpoint.kind}


def _url_of(endpoint: Endpoint | None) -> str | None:
    if endpoint is None:
        return None
    try:
        return endpoint.url
    except Exception:  # the options could not be built (e.g. a secret is gone): still report the id
        return None


async def chat_once(pool: EndpointPool, session_key: str, text: str, output: ChatOutput,
                    timeout: float = REPLY_TIMEOUT) -> int:
    """Send one message through a started pool and report the turn; returns the exit code."""
    from molt_desktop.client.connection import GatewayCallError, GatewayUnreachable

    payload: dict[str, Any] = {"text": "", "sessionKey": session_key, "runId": None, "endpoint": None}
    try:
        result: ChatResult = await pool.chat(session_key, text, on_delta=output.delta, timeout=timeout)
    except GatewayUnreachable as exc:
        message = unreachable_message(pool.endpoint_health(), str(exc) or _("unreachable"))
        return _fail(output, payload, message)
    except GatewayCallError as exc:
        # PAIRING_REQUIRED's text carries the commands that approve this device on the gateway.
        return _fail(output, payload, _("The gateway refused the message: {error}").format(error=exc))
    url = _url_of(result.endpoint)
    payload.update(text=result.text, runId=result.run_id, endpoint=_endpoint_json(result.endpoint, url))
    if output.streamed or result.state == "final":
        output.end_reply()
    if result.endpoint is not None and url is not None:
        output.note(answered_by(result.endpoint, url))
    if result.state == "final":
        output.result(payload)
        return EXIT_OK
    if result.state == "aborted":
        problem = _("The reply was stopped before it finished.")
    else:
        problem = _("No reply: {error}").format(error=result.error or result.state)
    return _fail(output, payload, problem)


def _fail(output: ChatOutput, payload: dict[str, Any], message: str) -> int:
    output.note(message)
    output.result({**payload, "error": message})
    return EXIT_FAIL


async def _run(state_dir: Path, text: str, session: str | None, output: ChatOutput, timeout: float) -> int:
    from molt_desktop.client.failover import build_pool
    from molt_desktop.config.load import ConfigError
    from molt_desktop.config.manager import ConfigManager

    try:
        manager = ConfigManager(paths.config_path(state_dir))
    except ConfigError as exc:
        return _fail(output, {"text": "", "sessionKey": session, "runId": None, "endpoint": None},
                     _("The config cannot be read: {error}").format(error=exc))
    try:
        key = session_key_for(session, manager.config.session.mainKey)
        if not text.strip():
            raise ChatUsageError(_("There is no message to send: give the text as the first argument."))
    except ChatUsageError as exc:
        return _fail(output, {"text": "", "sessionKey": session, "runId": None, "endpoint": None}, str(exc))
    pool = build_pool(state_dir, manager)
    await pool.start()
    try:
        return await chat_once(pool, key, text, output, timeout)
    finally:
        await pool.stop()


def run_chat(state_dir: Path, text: str, session: str | None = None, *, as_json: bool = False,
             timeout: float = REPLY_TIMEOUT) -> int:
    """`molt-desktop chat`: blocking, for cli.py."""
    output = ChatOutput(sys.stdout, sys.stderr, as_json)
    return asyncio.run(_run(state_dir, text, session, output, timeout))
