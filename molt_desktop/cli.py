"""The `molt-desktop` command line: the app, the headless gateway, and tools around them.

Exit codes: 0 ok, 1 failure, 2 usage. Each command is a small function; the work lives in the
subsystems (app.py, client/, sessions/, gateway/pairing.py, doctor.py, importer.py).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from molt_desktop import paths
from molt_desktop.i18n import _
from molt_desktop.version import __version__

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="molt-desktop",
        description=_("A desktop tray app with an embedded OpenClaw-compatible AI gateway. "
                      "Without a command it starts the desktop app; `molt-desktop gateway` runs only the gateway."),
    )
    parser.add_argument("--version", action="version", version=f"molt-desktop {__version__}")
    parser.add_argument("--verbose", "-v", action="store_true", help=_("log debug details"))
    parser.add_argument("--quit", action="store_true",
                        help=_("ask the running desktop app to quit, and wait until it has (the installer "
                               "uses this before an upgrade)"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    gw = sub.add_parser("gateway", help=_("run the gateway without a UI (servers, CI)"))
    gw.add_argument("--port", type=int, help=_("port to listen on (default: gateway.port, 18789)"))
    gw.add_argument("--bind", help=_('"loopback" (default), "lan", or an IP address'))
    gw.add_argument("--verbose", "-v", action="store_true", help=_("log debug details"))

    call = sub.add_parser("call", help=_("call a gateway method (like `openclaw gateway call`)"))
    call.add_argument("method", help=_("method name, e.g. health, sessions.list, chat.send"))
    call.add_argument("--params", default="{}", help=_("method params as a JSON object"))
    call.add_argument("--url", help=_("gateway URL (default: ws://127.0.0.1:<gateway.port>)"))
    call.add_argument("--token", help=_("gateway token (default: from the config or the keyring)"))
    call.add_argument("--password", help=_("gateway password (password auth mode)"))
    call.add_argument("--timeout", type=float, default=30.0, help=_("seconds to wait (default 30)"))
    call.add_argument("--json", action="store_true", help=_("print the result as JSON only"))
    call.add_argument("--expect-final", action="store_true", help=_("wait for the final result (agent)"))

    chat = sub.add_parser("chat", help=_("send one message and print the reply (through the local or a "
                                         "remote gateway)"))
    chat.add_argument("text", metavar="TEXT", help=_("the message"))
    chat.add_argument("--session", metavar="KEY",
                      help=_("session key such as agent:main:notes (default: the main session)"))
    chat.add_argument("--json", action="store_true",
                      help=_("print one JSON object with the reply and the gateway that answered"))

    ses = sub.add_parser("sessions", help=_("list sessions in the state dir"))
    ses.add_argument("--json", action="store_true", help=_("print JSON"))
    ses.add_argument("--search", help=_("full-text search in titles and messages"))
    ses.add_argument("--limit", type=int, default=50, help=_("at most this many (default 50)"))

    dev = sub.add_parser("devices", help=_("list, approve or reject paired devices"))
    dev_sub = dev.add_subparsers(dest="devices_command", metavar="ACTION", required=True)
    dev_list = dev_sub.add_parser("list", help=_("pending requests and paired devices"))
    dev_list.add_argument("--json", action="store_true", help=_("print JSON"))
    dev_approve = dev_sub.add_parser("approve", help=_("approve a pending pairing request"))
    dev_approve.add_argument("request_id", metavar="ID")
    dev_reject = dev_sub.add_parser("reject", help=_("reject a pending pairing request"))
    dev_reject.add_argument("request_id", metavar="ID")

    imp = sub.add_parser("import", help=_("import a ~/.clawdbot, ~/.moltbot or ~/.openclaw state dir"))
    imp.add_argument("source", metavar="DIR", type=Path)
    imp.add_argument("--json", action="store_true", help=_("print the report as JSON"))

    alerts = sub.add_parser("alerts", help=_("test the alert channels, or list recent alerts"))
    alerts_sub = alerts.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    alerts_test = alerts_sub.add_parser("test", help=_("send a test alert through the enabled channels"))
    alerts_test.add_argument("--channel", choices=("desktop", "email", "webhook"),
                             help=_("only this channel (default: every enabled one)"))
    alerts_test.add_argument("--json", action="store_true", help=_("print the outcome as JSON"))
    alerts_list = alerts_sub.add_parser("list", help=_("alerts firing now and the recent history"))
    alerts_list.add_argument("--json", action="store_true", help=_("print JSON"))
    alerts_list.add_argument("--limit", type=int, default=50, help=_("at most this many history entries (default 50)"))

    sync = sub.add_parser("sync", help=_("sync sessions with the server now, or show the sync status"))
    sync_sub = sync.add_subparsers(dest="sync_command", metavar="ACTION", required=True)
    sync_now = sync_sub.add_parser("now", help=_("one push and one pull now; prints files and bytes sent and received"))
    sync_now.add_argument("--json", action="store_true", help=_("print the report as JSON"))
    sync_now.add_argument("--yes", action="store_true",
                          help=_("go on even if more than half of the files on the server would be archived"))
    sync_status = sync_sub.add_parser("status", help=_("the last good sync, its age and the last error"))
    sync_status.add_argument("--json", action="store_true", help=_("print JSON"))
    sync_test = sync_sub.add_parser("test", help=_("connect with the sync settings and list the remote folder"))
    sync_test.add_argument("--json", action="store_true", help=_("print JSON"))

    sec = sub.add_parser("secrets", help=_("list or forget the secrets molt-desktop keeps in the OS keyring"))
    sec_sub = sec.add_subparsers(dest="secrets_command", metavar="ACTION", required=True)
    sec_list = sec_sub.add_parser("list", help=_("the names of the stored secrets (never their values)"))
    sec_list.add_argument("--json", action="store_true", help=_("print JSON"))
    sec_forget = sec_sub.add_parser("forget", help=_("delete stored secrets from the OS keyring"))
    sec_forget.add_argument("names", metavar="NAME", nargs="*", help=_("the secrets to delete"))
    sec_forget.add_argument("--all", action="store_true", help=_("delete every secret molt-desktop stored"))

    doc = sub.add_parser("doctor", help=_("check the setup and say how to fix what is wrong"))
    doc.add_argument("--json", action="store_true", help=_("print the findings as JSON"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from molt_desktop.logs import setup_logging

    state = paths.state_dir()
    command = args.command
    verbose = bool(getattr(args, "verbose", False))
    if command in (None, "gateway"):
        setup_logging(paths.logs_dir(state), verbose=verbose)
    else:
        setup_logging(None, verbose=verbose, console=verbose)
    try:
        if command is None and args.quit:
            return _quit_app(state)
        if command is None:
            return _run_app(state)
        if command == "gateway":
            return _run_gateway(state, args)
        if command == "call":
            return _call(state, args)
        if command == "chat":
            from molt_desktop.client.cli_chat import run_chat

            return run_chat(state, args.text, args.session, as_json=args.json)
        if command == "sessions":
            return _sessions(state, args)
        if command == "devices":
            return _devices(state, args)
        if command == "import":
            from molt_desktop.importer import run_import

            return run_import(args.source, state, as_json=args.json)
        if command == "alerts":
            from molt_desktop.monitor.cli_alerts import run_alerts_list, run_alerts_test

            if args.alerts_command == "test":
                return run_alerts_test(state, args.channel, as_json=args.json)
            return run_alerts_list(state, limit=args.limit, as_json=args.json)
        if command == "sync":
            from molt_desktop.sync import cli_sync

            if args.sync_command == "now":
                return cli_sync.run_sync_now(state, as_json=args.json, yes=args.yes)
            if args.sync_command == "status":
                return cli_sync.run_sync_status(state, as_json=args.json)
            return cli_sync.run_sync_test(state, as_json=args.json)
        if command == "secrets":
            return _secrets(args)
        if command == "doctor":
            from molt_desktop.doctor import run_doctor

            return run_doctor(state, as_json=args.json)
    except KeyboardInterrupt:
        return EXIT_FAIL
    parser.print_help()
    return EXIT_USAGE


def _has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    if os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] in ("offscreen", "minimal", "vnc"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _quit_app(state: Path) -> int:
    """`molt-desktop --quit`: 0 when no app runs with this state dir any more, 1 when one still does."""
    try:
        single_instance = importlib.import_module("molt_desktop.ui.single_instance")
    except ImportError as exc:  # no Qt, so no desktop app can be running from this installation
        print(_("No desktop app to quit: {error}.").format(error=exc), file=sys.stderr)
        return EXIT_OK
    result = single_instance.quit_running(state)
    messages = {
        "not running": _("molt-desktop is not running."),
        "quit": _("molt-desktop has quit."),
        "no answer": _("The molt-desktop running with this state folder ({path}) does not answer. "
                       "End its process, then try again."),
        "timeout": _("molt-desktop was asked to quit but is still running after 30 s."),
    }
    print(messages[result.value].format(path=state), file=sys.stderr)
    return EXIT_OK if result.value in ("not running", "quit") else EXIT_FAIL


def _run_app(state: Path) -> int:
    if not _has_display():
        print(_("No display found, so the desktop app cannot start. To run only the gateway "
                "(for a server, or over SSH), use:\n    molt-desktop gateway"), file=sys.stderr)
        return EXIT_USAGE
    try:
        # The UI package imports Qt; the gateway and every other command run without it.
        run_desktop = importlib.import_module("molt_desktop.ui.qt_app").run_desktop
    except ImportError as exc:
        print(_("The desktop app cannot start: {error}. Reinstall molt-desktop, or run only the gateway "
                "with:\n    molt-desktop gateway").format(error=exc), file=sys.stderr)
        return EXIT_USAGE
    return int(run_desktop(state))


def _run_gateway(state: Path, args: argparse.Namespace) -> int:
    from molt_desktop.app import GatewayOptions, run_headless

    if args.port is not None and not (0 <= args.port <= 65535):
        print(_("molt-desktop gateway: --port {port} is not a port number (0-65535)").format(port=args.port),
              file=sys.stderr)
        return EXIT_USAGE
    return asyncio.run(run_headless(state, GatewayOptions(port=args.port, bind=args.bind)))


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _call(state: Path, args: argparse.Namespace) -> int:
    try:
        params = json.loads(args.params)
    except ValueError as exc:
        print(_("molt-desktop call: --params is not valid JSON: {error}").format(error=exc), file=sys.stderr)
        return EXIT_USAGE
    if not isinstance(params, dict):
        print(_("molt-desktop call: --params must be a JSON object"), file=sys.stderr)
        return EXIT_USAGE
    from molt_desktop.client.connection import GatewayCallError, GatewayUnreachable
    from molt_desktop.client.local import call_local_gateway

    try:
        result = asyncio.run(call_local_gateway(state, args.method, params, url=args.url, token=args.token,
                                                password=args.password, timeout=args.timeout,
                                                expect_final=args.expect_final))
    except GatewayCallError as exc:
        if args.json:
            _print_json({"ok": False, "error": {"code": exc.code, "message": exc.message, "details": exc.details}})
        print(_("Gateway error: {code}: {message}").format(code=exc.code, message=exc.message), file=sys.stderr)
        return EXIT_FAIL
    except (GatewayUnreachable, asyncio.TimeoutError) as exc:
        print(_("Gateway call failed: {error}").format(error=exc or _("timed out")), file=sys.stderr)
        return EXIT_FAIL
    if args.json or not isinstance(result, (str, int, float)):
        _print_json(result)
    else:
        print(result)
    return EXIT_OK


def _secrets(args: argparse.Namespace) -> int:
    from molt_desktop.config.secrets import forget_secrets, keyring_status, stored_secret_names

    if args.secrets_command == "list":
        names = stored_secret_names()
        if args.json:
            _print_json({"backend": keyring_status().backend, "names": names})
        elif names:
            print("\n".join(names))
        else:
            print(_("No secrets are stored in the OS keyring."))
        return EXIT_OK
    if bool(args.all) == bool(args.names):
        print(_("Name the secrets to forget, or give --all."), file=sys.stderr)
        return EXIT_USAGE
    if args.all:
        deleted = forget_secrets()
        left = stored_secret_names()  # what the keyring refused to delete
        message = _("Cannot delete {name!r}: the keyring refused (is it locked?).")
    else:
        deleted = forget_secrets(list(args.names))
        left = [name for name in args.names if name not in deleted]
        message = _("No secret named {name!r} was stored.")
    print(_("Deleted {count} secret(s) from the OS keyring.").format(count=len(deleted)))
    for name in left:
        print(message.format(name=name), file=sys.stderr)
    return EXIT_FAIL if left else EXIT_OK


def _sessions(state: Path, args: argparse.Namespace) -> int:
    from molt_desktop.sessions.store import SessionStore

    store = SessionStore(state)
    try:
        entries = store.entries(paths.DEFAULT_AGENT_ID)
        items = list(entries.items())
        if args.search:
            hits = set(store.search(args.search, paths.DEFAULT_AGENT_ID))
            items = [(k, e) for k, e in items if k in hits]
        items.sort(key=lambda kv: kv[1].get("updatedAt") or 0, reverse=True)
        items = items[: max(0, args.limit)]
    finally:
        store.close()
    if args.json:
        _print_json({"path": str(store.sessions_file(paths.DEFAULT_AGENT_ID)), "count": len(items),
                     "sessions": [{"key": k, **e} for k, e in items]})
        return EXIT_OK
    if not items:
        print(_("No sessions.") if not args.search else _("No session matches {search!r}.").format(search=args.search))
        return EXIT_OK
    from molt_desktop.clock import iso_from_ms

    for key, entry in items:
        updated = entry.get("updatedAt")
        when = iso_from_ms(int(updated))[:16].replace("T", " ") if isinstance(updated, (int, float)) else "-"
        title = entry.get("label") or entry.get("displayName") or ""
        tokens = entry.get("totalTokens") or 0
        print(_("{when}  {key:<40}  {tokens:>7} tok  {title}").format(when=when, key=key, tokens=tokens, title=title))
    return EXIT_OK


def _devices(state: Path, args: argparse.Namespace) -> int:
    from molt_desktop.gateway.pairing import PairingStore

    store = PairingStore(paths.devices_dir(state))
    action = args.devices_command
    if action == "list":
        listing = store.list()
        if args.json:
            _print_json(listing)
            return EXIT_OK
        pending, paired = listing.get("pending", []), listing.get("paired", [])
        print(_("Pending requests ({count}):").format(count=len(pending)))
        for req in pending:
            print("  " + _("{request}  device {device}…  from {ip}  scopes {scopes}").format(
                request=req.get('requestId'), device=str(req.get('deviceId'))[:16], ip=req.get('remoteIp', '?'),
                scopes=','.join(req.get('scopes') or [])))
        print(_("Paired devices ({count}):").format(count=len(paired)))
        for dev in paired:
            print("  " + _("{device}…  {name}  scopes {scopes}").format(
                device=str(dev.get('deviceId'))[:16], name=dev.get('displayName') or dev.get('clientId') or '',
                scopes=','.join(dev.get('scopes') or [])))
        return EXIT_OK
    try:
        if action == "approve":
            device = store.approve(args.request_id)
            print(_("Approved device {device}.").format(device=device.get('deviceId')))
        else:
            store.reject(args.request_id)
            print(_("Rejected request {request}.").format(request=args.request_id))
    except KeyError:
        print(_("No pending pairing request {request!r}. See `molt-desktop devices list`.").format(
            request=args.request_id), file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
