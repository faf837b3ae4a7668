"""A webhook receiver for tests: one aiohttp app on 127.0.0.1 with a route per webhook kind.

It records every request and answers the way each service does: DingTalk and WeCom with
`{"errcode": ...}`, Feishu with `{"code": ...}`, Slack with `ok` or an error word, the plain JSON
route with 200. The DingTalk and Feishu signatures are checked here with the algorithms their
documentation gives, written out independently of the sink's code, so a sink that signs wrongly
is refused exactly as the real services refuse it. `fail_next` queues plain HTTP failures (5xx,
429, 4xx) and `hang` holds requests without answering, for the retry and timeout tests.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

ONE_HOUR_S = 3600

DINGTALK_TOKEN = "dt0ken5ecretABCDEF0123456789abcdef0123456789"
WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
FEISHU_HOOK = "0c7fd4a1-99f2-4d1c-8a3e-53b0f9c1e2d4"
SLACK_PATH = "T0ABCDE12/B0FGHIJ34/XyZ0123456789abcdefGHIJ"


@dataclass
class Received:
    kind: str
    path: str
    raw_query: str
    headers: dict[str, str]
    raw: bytes
    body: Any  # the parsed JSON, or None when it was not JSON
    verdict: str  # "ok", or why the receiver refused it


@dataclass
class WebhookReceiver:
    dingtalk_secret: str | None = None
    feishu_secret: str | None = None
    requests: list[Received] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)  # (status, text), answered first
    hang: asyncio.Event | None = None  # while set to an unset Event, requests wait on it
    base: str = ""
    _runner: web.AppRunner | None = None

    def url(self, kind: str) -> str:
        return {
            "dingtalk": f"{self.base}/dingtalk/robot/send?access_token={DINGTALK_TOKEN}",
            "wecom": f"{self.base}/wecom/cgi-bin/webhook/send?key={WECOM_KEY}",
            "feishu": f"{self.base}/feishu/open-apis/bot/v2/hook/{FEISHU_HOOK}",
            "slack": f"{self.base}/slack/services/{SLACK_PATH}",
            "json": f"{self.base}/json/alerts",
        }[kind]

    def fail_next(self, status: int, times: int = 1, text: str = "upstream trouble") -> None:
        self.failures.extend([(status, text)] * times)

    async def start(self) -> str:
        app = web.Application(middlewares=[self._faults])
        app.router.add_post("/dingtalk/robot/send", self._dingtalk)
        app.router.add_post("/wecom/cgi-bin/webhook/send", self._wecom)
        app.router.add_post("/feishu/open-apis/bot/v2/hook/{hook}", self._feishu)
        app.router.add_post("/slack/services/{team}/{bot}/{token}", self._slack)
        app.router.add_post("/json/alerts", self._json)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}"
        return self.base

    async def stop(self) -> None:
        if self.hang is not None:
            self.hang.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- plumbing ------------------------------------------------------------------------------

    async def _record(self, request: web.Request, kind: str, verdict: str = "ok") -> Received:
        raw = await request.read()
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            body = None
        received = Received(kind, request.path, request.rel_url.raw_query_string, dict(request.headers), raw, body, verdict)
        self.requests.append(received)
        return received

    @web.middleware
    async def _faults(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.failures:
            status, text = self.failures.pop(0)
            await self._record(request, request.path.split("/")[1], f"scripted {status}")
            return web.Response(status=status, text=text)
        if self.hang is not None and not self.hang.is_set():
            await self._record(request, request.path.split("/")[1], "held")
            await self.hang.wait()
            return web.Response(status=504)
        response: web.StreamResponse = await handler(request)
        return response

    def _refuse(self, received: Received, why: str) -> None:
        received.verdict = why

    # --- DingTalk -------------------------------------------------------------------------------

    async def _dingtalk(self, request: web.Request) -> web.Response:
        received = await self._record(request, "dingtalk")
        # The raw query, decoded as DingTalk's servers decode a form-encoded query string.
        query = urllib.parse.parse_qs(request.rel_url.raw_query_string)
        if query.get("access_token") != [DINGTALK_TOKEN]:
            self._refuse(received, "token")
            return web.json_response({"errcode": 300001, "errmsg": "token is not exist"})
        if self.dingtalk_secret is not None:
            timestamp = (query.get("timestamp") or [""])[0]
            sign = (query.get("sign") or [""])[0]
            expected = base64.b64encode(
                hmac.new(self.dingtalk_secret.encode(), f"{timestamp}\n{self.dingtalk_secret}".encode(),
                         hashlib.sha256).digest()
            ).decode()
            fresh = timestamp.isdigit() and abs(time.time() * 1000 - int(timestamp)) < ONE_HOUR_S * 1000
            if not fresh:
                self._refuse(received, "timestamp")
                return web.json_response(
                    {"errcode": 310000, "errmsg": "invalid timestamp, more: [https://open.dingtalk.com]"})
            if not hmac.compare_digest(sign, expected):
                self._refuse(received, "sign")
                return web.json_response({"errcode": 310000, "errmsg": "sign not match, more: [https://open.dingtalk.com]"})
        body = received.body
        markdown = body.get("markdown") if isinstance(body, dict) else None
        if not (isinstance(body, dict) and body.get("msgtype") == "markdown" and isinstance(markdown, dict)
                and isinstance(markdown.get("title"), str) and isinstance(markdown.get("text"), str)):
            self._refuse(received, "shape")
            return web.json_response({"errcode": 40035, "errmsg": "缺少参数 json"})
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    # --- WeCom ----------------------------------------------------------------------------------

    async def _wecom(self, request: web.Request) -> web.Response:
        received = await self._record(request, "wecom")
        if request.query.get("key") != WECOM_KEY:
            self._refuse(received, "key")
            return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url, hint: [1700000000_1]"})
        body = received.body
        markdown = body.get("markdown") if isinstance(body, dict) else None
        if not (isinstance(body, dict) and body.get("msgtype") == "markdown" and isinstance(markdown, dict)
                and isinstance(markdown.get("content"), str)):
            self._refuse(received, "shape")
            return web.json_response({"errcode": 40008, "errmsg": "invalid message type"})
        if len(markdown["content"].encode("utf-8")) > 4096:
            self._refuse(received, "size")
            return web.json_response({"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"})
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    # --- Feishu ---------------------------------------------------------------------------------

    async def _feishu(self, request: web.Request) -> web.Response:
        received = await self._record(request, "feishu")
        if request.match_info["hook"] != FEISHU_HOOK:
            self._refuse(received, "hook")
            return web.json_response({"code": 19001, "msg": "param invalid: incoming webhook access token invalid"})
        body = received.body
        if not isinstance(body, dict):
            self._refuse(received, "json")
            return web.json_response({"code": 9499, "msg": "Bad Request"}, status=400)
        if self.feishu_secret is not None:
            timestamp = str(body.get("timestamp", ""))
            # Feishu keys the HMAC with "timestamp\nsecret" and signs an empty message.
            expected = base64.b64encode(
                hmac.new(f"{timestamp}\n{self.feishu_secret}".encode(), b"", hashlib.sha256).digest()
            ).decode()
            fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < ONE_HOUR_S
            if not fresh or not hmac.compare_digest(str(body.get("sign", "")), expected):
                self._refuse(received, "sign")
                return web.json_response(
                    {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"})
        content = body.get("content")
        if not (body.get("msg_type") == "text" and isinstance(content, dict) and isinstance(content.get("text"), str)):
            self._refuse(received, "shape")
            return web.json_response({"code": 19002, "msg": "params error, msg_type need"})
        return web.json_response({"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {},
                                  "msg": "success"})

    # --- Slack and plain JSON -------------------------------------------------------------------

    async def _slack(self, request: web.Request) -> web.Response:
        received = await self._record(request, "slack")
        path = "/".join((request.match_info["team"], request.match_info["bot"], request.match_info["token"]))
        if path != SLACK_PATH:
            self._refuse(received, "token")
            return web.Response(status=403, text="invalid_token")
        body = received.body
        if not (isinstance(body, dict) and isinstance(body.get("text"), str) and body["text"]):
            self._refuse(received, "shape")
            return web.Response(status=400, text="invalid_payload")
        return web.Response(text="ok")

    async def _json(self, request: web.Request) -> web.Response:
        received = await self._record(request, "json")
        if not isinstance(received.body, dict):
            self._refuse(received, "json")
            return web.Response(status=400, text="expected a JSON object")
        return web.json_response({"received": True})
