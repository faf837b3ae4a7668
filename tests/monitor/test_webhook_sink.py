"""WebhookSink against a real aiohttp receiver on 127.0.0.1 (tests/monitor/webhook_receiver.py).

Body shapes of every kind, the DingTalk and Feishu signatures as the receiver checks them,
retries on 5xx/429/timeouts/refused connections, no retry on other 4xx, service error codes in a
200 answer, and no URL credential in any error or log line.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import time
import urllib.parse
from collections.abc import AsyncIterator

import pytest

from molt_desktop.config.schema import WebhookAlertConfig
from molt_desktop.config.secrets import set_secret
from molt_desktop.monitor.model import Alert, AlertNotice, NoticeKind, SinkError
from molt_desktop.monitor.sinks.webhook import WebhookSink, dingtalk_sign
from tests.monitor.webhook_receiver import DINGTALK_TOKEN, FEISHU_HOOK, SLACK_PATH, WECOM_KEY, WebhookReceiver

DINGTALK_SECRET = "SECa1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
FEISHU_SECRET = "fEiShUsEcReT0123456789"
TITLE = "远程网关服务器已断开"
BODY = "远程网关 office-1 (10.0.0.5:18789) 从 2026-05-01 10:00 起无法连接。\n最后的错误：连接被拒绝\n请检查：服务器是否在运行？"
SINCE = 1777600000.0
NO_WAIT = (0.0, 0.0)
ALL_CREDENTIALS = (DINGTALK_TOKEN, WECOM_KEY, FEISHU_HOOK, *SLACK_PATH.split("/"), DINGTALK_SECRET, FEISHU_SECRET)


def notice(kind: NoticeKind = "fire", *, title: str = TITLE, body: str = BODY) -> AlertNotice:
    resolved = kind == "resolve"
    alert = Alert(
        key="remote_down:office-1", rule="remote_down", subject="office-1", severity="critical",
        state="resolved" if resolved else "firing", since=SINCE, fired_at=SINCE + 60,
        resolved_at=SINCE + 600 if resolved else None, value=None, threshold=None,
        detail="connection refused", title=title, body=body,
    )
    return AlertNotice(kind=kind, alert=alert, host="build-box")


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    server = WebhookReceiver(dingtalk_secret=DINGTALK_SECRET, feishu_secret=FEISHU_SECRET)
    await server.start()
    yield server
    await server.stop()


def sink_for(receiver: WebhookReceiver, kind: str, *, secret: str | None = None, timeout: float = 10.0,
             url: str | None = None) -> WebhookSink:
    config = WebhookAlertConfig(enabled=True, url=url or receiver.url(kind), kind=kind, secret=secret)  # type: ignore[arg-type]
    return WebhookSink(config, retry_delays=NO_WAIT, timeout=timeout)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_no_credentials(*texts: str) -> None:
    for text in texts:
        for credential in ALL_CREDENTIALS:
            assert credential not in text, (credential, text)


# --- body shapes and signatures --------------------------------------------------------------


async def test_dingtalk_markdown_signed_with_the_keyring_secret(receiver: WebhookReceiver) -> None:
    set_secret("alerts.webhook", DINGTALK_SECRET)
    await sink_for(receiver, "dingtalk", secret="keyring:alerts.webhook").send(notice())

    [request] = receiver.requests
    assert request.verdict == "ok"
    # Appended to the URL as DingTalk documents: timestamp in ms, then the urlencoded base64 sign.
    match = re.fullmatch(rf"access_token={DINGTALK_TOKEN}&timestamp=(\d{{13}})&sign=([A-Za-z0-9%]+)",
                         request.raw_query)
    assert match, request.raw_query
    assert "%2B" in match.group(2) or "%2F" in match.group(2) or "%3D" in match.group(2)
    assert request.headers["Content-Type"].startswith("application/json")
    body = request.body
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == f"[FIRING] {TITLE}"
    text = body["markdown"]["text"]
    assert text.startswith(f"### [FIRING] {TITLE}")
    for line in BODY.splitlines():
        assert line in text
    assert "build-box" in text
    # Chinese travels as UTF-8, not mangled.
    assert TITLE.encode("utf-8") in request.raw


async def test_dingtalk_signature_with_plus_and_slash_survives_the_url(receiver: WebhookReceiver) -> None:
    # A timestamp (within the hour DingTalk allows) whose signature has "+" and "/": unencoded, the
    # receiver would read "+" as a space and refuse it.
    now_ms = int(time.time() * 1000)
    stamp = next(ms for ms in range(now_ms, now_ms + 10_000)
                 if {"+", "/"} <= set(urllib.parse.unquote(dingtalk_sign(DINGTALK_SECRET, str(ms)))))
    config = WebhookAlertConfig(enabled=True, url=receiver.url("dingtalk"), kind="dingtalk", secret=DINGTALK_SECRET)
    await WebhookSink(config, retry_delays=NO_WAIT, clock=lambda: (stamp + 0.5) / 1000).send(notice())
    [request] = receiver.requests
    assert request.verdict == "ok"
    assert f"timestamp={stamp}&" in request.raw_query
    assert "%2B" in request.raw_query and "%2F" in request.raw_query


async def test_dingtalk_wrong_secret_is_refused_once(receiver: WebhookReceiver,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="molt_desktop")
    with pytest.raises(SinkError) as failure:
        await sink_for(receiver, "dingtalk", secret="SECwrongwrongwrong").send(notice())
    assert [r.verdict for r in receiver.requests] == ["sign"]  # a refusal is not retried
    message = str(failure.value)
    assert "310000" in message and "sign not match" in message
    assert "/dingtalk/robot/send" in message
    assert_no_credentials(message, caplog.text)
    assert "SECwrongwrongwrong" not in message + caplog.text


async def test_dingtalk_error_code_in_a_200_answer_is_a_failure(receiver: WebhookReceiver,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="molt_desktop")
    url = receiver.url("dingtalk").replace(DINGTALK_TOKEN, DINGTALK_TOKEN[::-1])
    with pytest.raises(SinkError) as failure:
        await sink_for(receiver, "dingtalk", url=url).send(notice())
    assert [r.verdict for r in receiver.requests] == ["token"]
    message = str(failure.value)
    assert "300001" in message and "token is not exist" in message
    assert DINGTALK_TOKEN[::-1] not in message + caplog.text
    assert "access_token" not in message


async def test_wecom_markdown(receiver: WebhookReceiver) -> None:
    await sink_for(receiver, "wecom").send(notice("resolve"))
    [request] = receiver.requests
    assert request.verdict == "ok"
    assert request.body["msgtype"] == "markdown"
    content = request.body["markdown"]["content"]
    assert content.startswith(f"### [RESOLVED] {TITLE}\n")
    assert BODY in content


async def test_wecom_long_body_is_cut_to_its_limit(receiver: WebhookReceiver) -> None:
    await sink_for(receiver, "wecom").send(notice(body="磁盘空间不足。" * 1000))
    [request] = receiver.requests
    assert request.verdict == "ok"  # the receiver refuses content over 4096 bytes
    assert request.body["markdown"]["content"].endswith("…")


async def test_wecom_error_code_is_a_failure(receiver: WebhookReceiver) -> None:
    url = receiver.url("wecom").replace(WECOM_KEY, "not-the-key")
    with pytest.raises(SinkError, match="93000"):
        await sink_for(receiver, "wecom", url=url).send(notice())
    assert len(receiver.requests) == 1


async def test_feishu_text_signed(receiver: WebhookReceiver) -> None:
    await sink_for(receiver, "feishu", secret=FEISHU_SECRET).send(notice("test"))
    [request] = receiver.requests
    assert request.verdict == "ok"
    body = request.body
    assert body["msg_type"] == "text"
    assert re.fullmatch(r"\d{10}", body["timestamp"])
    assert body["sign"]
    assert body["content"]["text"].startswith(f"[TEST] {TITLE}\n{BODY}")


async def test_feishu_wrong_secret_is_refused(receiver: WebhookReceiver,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="molt_desktop")
    with pytest.raises(SinkError) as failure:
        await sink_for(receiver, "feishu", secret="not-the-feishu-secret").send(notice())
    assert [r.verdict for r in receiver.requests] == ["sign"]
    message = str(failure.value)
    assert "19021" in message
    assert_no_credentials(message, caplog.text)
    assert "not-the-feishu-secret" not in message + caplog.text


async def test_feishu_unsigned_when_no_secret_is_configured(receiver: WebhookReceiver) -> None:
    receiver.feishu_secret = None
    await sink_for(receiver, "feishu").send(notice())
    [request] = receiver.requests
    assert request.verdict == "ok"
    assert "sign" not in request.body and "timestamp" not in request.body


async def test_slack_text_is_escaped(receiver: WebhookReceiver) -> None:
    await sink_for(receiver, "slack").send(notice(title="CPU <90%> & rising", body="load <high>"))
    [request] = receiver.requests
    assert request.verdict == "ok"
    assert request.body == {"text": "*[FIRING] CPU &lt;90%&gt; &amp; rising*\nload &lt;high&gt;\n_Host: build-box_"}


async def test_plain_json_object(receiver: WebhookReceiver) -> None:
    await sink_for(receiver, "json").send(notice("resolve"))
    [request] = receiver.requests
    assert request.body == {
        "kind": "resolve", "state": "resolved", "rule": "remote_down", "subject": "office-1",
        "severity": "critical", "title": TITLE, "body": BODY, "since": "2026-05-01T01:46:40Z",
        "firedAt": "2026-05-01T01:47:40Z", "resolvedAt": "2026-05-01T01:56:40Z", "host": "build-box",
        "value": None, "threshold": None,
    }


# --- retries and failures --------------------------------------------------------------------


async def test_two_500s_then_delivered_on_the_third_try(receiver: WebhookReceiver) -> None:
    receiver.fail_next(500, times=2)
    await sink_for(receiver, "dingtalk", secret=DINGTALK_SECRET).send(notice())
    assert [r.verdict for r in receiver.requests] == ["scripted 500", "scripted 500", "ok"]
    # Each attempt is signed afresh and each is accepted by the receiver's own check.
    assert all("sign=" in r.raw_query for r in receiver.requests)


async def test_429_is_retried(receiver: WebhookReceiver) -> None:
    receiver.fail_next(429, times=1, text="rate limited")
    await sink_for(receiver, "slack").send(notice())
    assert [r.verdict for r in receiver.requests] == ["scripted 429", "ok"]


async def test_always_500_fails_after_three_attempts(receiver: WebhookReceiver,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="molt_desktop")
    receiver.fail_next(500, times=10, text=f"backend crashed for token {DINGTALK_TOKEN}")
    with pytest.raises(SinkError) as failure:
        await sink_for(receiver, "dingtalk", secret=DINGTALK_SECRET).send(notice())
    assert len(receiver.requests) == 3
    message = str(failure.value)
    assert "3 times" in message and "HTTP 500" in message and "backend crashed" in message
    assert "/dingtalk/robot/send" in message
    assert "attempt 1 of 3 failed" in caplog.text and "attempt 2 of 3 failed" in caplog.text
    assert_no_credentials(message, caplog.text)
    assert "access_token" not in message + caplog.text


async def test_400_is_not_retried(receiver: WebhookReceiver) -> None:
    receiver.fail_next(400, times=3, text="invalid_payload")
    with pytest.raises(SinkError) as failure:
        await sink_for(receiver, "slack").send(notice())
    assert len(receiver.requests) == 1
    assert "HTTP 400" in str(failure.value) and "invalid_payload" in str(failure.value)
    assert_no_credentials(str(failure.value))


async def test_closed_port_fails_after_the_retries(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="molt_desktop")
    port = closed_port()
    url = f"http://127.0.0.1:{port}/robot/send?access_token={DINGTALK_TOKEN}"
    config = WebhookAlertConfig(enabled=True, url=url, kind="dingtalk")
    with pytest.raises(SinkError) as failure:
        await WebhookSink(config, retry_delays=NO_WAIT).send(notice())
    message = str(failure.value)
    assert f"cannot connect to 127.0.0.1:{port}" in message and "3 times" in message
    assert_no_credentials(message, caplog.text)


async def test_no_answer_times_out_and_is_retried(receiver: WebhookReceiver) -> None:
    receiver.hang = asyncio.Event()
    with pytest.raises(SinkError, match="no answer within 0.2 seconds"):
        await sink_for(receiver, "json", timeout=0.2).send(notice())
    assert [r.verdict for r in receiver.requests] == ["held"] * 3


# --- configuration ---------------------------------------------------------------------------


def test_enabled_needs_the_switch_and_a_url() -> None:
    assert WebhookSink(WebhookAlertConfig(enabled=True, url="https://example.com/hook")).enabled
    assert not WebhookSink(WebhookAlertConfig(enabled=False, url="https://example.com/hook")).enabled
    assert not WebhookSink(WebhookAlertConfig(enabled=True, url=None)).enabled
    assert WebhookSink(WebhookAlertConfig()).name == "webhook"


async def test_missing_keyring_secret_is_a_clear_failure(receiver: WebhookReceiver) -> None:
    with pytest.raises(SinkError, match="keyring:alerts.webhook.*not in the keyring"):
        await sink_for(receiver, "dingtalk", secret="keyring:alerts.webhook").send(notice())
    assert receiver.requests == []


@pytest.mark.parametrize("url", [None, "ftp://example.com/hook", "not a url"])
async def test_unusable_url_is_a_clear_failure(url: str | None) -> None:
    with pytest.raises(SinkError, match="alerts.webhook.url"):
        await WebhookSink(WebhookAlertConfig(enabled=True, url=url, kind="json")).send(notice())


async def test_safe_url_hides_tokens_in_query_and_path(receiver: WebhookReceiver) -> None:
    for kind in ("dingtalk", "wecom", "feishu", "slack"):
        shown = sink_for(receiver, kind).safe_url()
        assert shown.startswith(receiver.base)
        assert_no_credentials(shown)
    assert sink_for(receiver, "slack").safe_url() == f"{receiver.base}/slack/services/***/***/***"
    assert sink_for(receiver, "dingtalk").safe_url() == f"{receiver.base}/dingtalk/robot/send?***"
    # Percent-encoded forms of a query value are hidden too.
    sink = sink_for(receiver, "wecom", url=f"{receiver.base}/send?key=a/b%2Bc+token")
    assert sink.scrub(urllib.parse.quote("a/b+c token", safe="")) == "***"
