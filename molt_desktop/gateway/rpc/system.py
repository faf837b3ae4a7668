"""`logs.tail`: pages through the gateway's JSON-lines log file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from molt_desktop.logs import log_file

if TYPE_CHECKING:
    from molt_desktop.gateway.rpc import Handler, RpcContext

DEFAULT_LINES = 200
MAX_LINES = 5000
DEFAULT_MAX_BYTES = 250_000
MAX_BYTES = 1_000_000


def tail_file(path: Path, cursor: int | None, limit: int, max_bytes: int) -> dict[str, Any]:
    """Lines after `cursor` (a byte offset), or the last `limit` lines when no cursor is given."""
    result: dict[str, Any] = {"file": str(path), "cursor": 0, "size": 0, "lines": []}
    try:
        size = path.stat().st_size
    except OSError:
        return result
    result["size"] = size
    reset = cursor is not None and cursor > size  # rotated or truncated since the last call
    start = max(0, size - max_bytes) if cursor is None or reset else cursor
    end = min(size, start + max_bytes)
    with path.open("rb") as handle:
        handle.seek(start)
        chunk = handle.read(end - start)
    truncated = False
    if start > 0 and (cursor is None or reset):
        newline = chunk.find(b"\n")
        chunk = chunk[newline + 1:] if newline >= 0 else b""
        truncated = True
    complete = chunk.rfind(b"\n")
    usable = chunk[: complete + 1] if complete >= 0 else b""
    lines = usable.decode("utf-8", errors="replace").splitlines()
    if len(lines) > limit:
        lines = lines[-limit:]
        truncated = True
    result["cursor"] = end - (len(chunk) - len(usable))
    result["lines"] = lines
    if truncated:
        result["truncated"] = True
    if reset:
        result["reset"] = True
    return result


async def logs_tail(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    limit = min(int(params.get("limit") or DEFAULT_LINES), MAX_LINES)
    max_bytes = min(int(params.get("maxBytes") or DEFAULT_MAX_BYTES), MAX_BYTES)
    cursor = params.get("cursor")
    return await asyncio.to_thread(tail_file, log_file(ctx.state.log_dir), cursor, limit, max_bytes)


HANDLERS: dict[str, Handler] = {"logs.tail": logs_tail}
