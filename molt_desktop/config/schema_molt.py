"""The config sections molt_desktop adds to OpenClaw's: `remotes`, `failover`, `sync`, `alerts`, `ui`.

Same conventions as schema.py (camelCase keys, a translated description on every field); unknown
keys are kept and reported by the loader as likely typos. `MoltConfig` (schema.py) puts them in
the root next to OpenClaw's sections.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from molt_desktop.i18n import N_


class MoltModel(BaseModel):
    """A molt_desktop section. Unknown keys are kept (and reported as warnings by the loader)."""

    model_config = ConfigDict(extra="allow")


class RemoteConfig(MoltModel):
    id: str = Field(..., min_length=1, description=N_("A short name for the remote gateway, unique among remotes."))
    url: str = Field(..., description=N_("WebSocket URL of the remote gateway, e.g. wss://gw.example.com:18789."))
    token: str | None = Field(
        default=None, description=N_("Gateway token of the remote (`keyring:remote.<id>.token` recommended).")
    )
    password: str | None = Field(default=None, description=N_("Gateway password of the remote, for password mode."))
    tlsFingerprint: str | None = Field(
        default=None, description=N_('Expected SHA-256 fingerprint of the remote TLS certificate ("sha256:<hex>").')
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.lower().startswith(("ws://", "wss://")):
            raise ValueError("expected a ws:// or wss:// URL")
        return value

    @field_validator("tlsFingerprint")
    @classmethod
    def _check_fingerprint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = value.removeprefix("sha256:").replace(":", "")
        if len(digits) != 64 or any(c not in "0123456789abcdefABCDEF" for c in digits):
            raise ValueError('expected "sha256:" followed by 64 hex digits')
        return value


class FailoverConfig(MoltModel):
    probeIntervalSeconds: float = Field(
        default=5, gt=0, description=N_("Seconds between health probes of each gateway.")
    )
    failAfter: int = Field(default=2, ge=1, description=N_("Failed probes in a row before a gateway counts as down."))
    recoverAfter: int = Field(
        default=3, ge=1, description=N_("Good probes in a row before a gateway counts as up again.")
    )
    switchBack: bool = Field(default=True, description=N_("Return to the local gateway when it recovers."))
    providerFailAfter: int = Field(
        default=2, ge=1,
        description=N_("Chat replies in a row that fail with a network or login error of the local model "
                       "provider before chats move to a working remote gateway."),
    )
    seedTurns: int = Field(
        default=6, ge=0, le=50,
        description=N_("Recent turns of a conversation given to a remote gateway (with `chat.inject`) when the "
                       "conversation moves there and the remote lacks them; 0 sends none."),
    )


class SyncConfig(MoltModel):
    enabled: bool = Field(default=False, description=N_("Copy session files to and from the server."))
    backend: Literal["sftp", "smb", "folder"] = Field(
        default="sftp",
        description=N_("How to reach the server: SSH (SFTP), SMB, or a folder already mounted on this computer "
                       "(a network share; `path` is then that folder)."),
    )
    host: str | None = Field(default=None, description=N_("Server host name or address."))
    port: int | None = Field(
        default=None, ge=1, le=65535, description=N_("Server port (default: 22 for SFTP, 445 for SMB).")
    )
    share: str | None = Field(default=None, description=N_("SMB share name on the server, e.g. \"backup\"."))
    username: str | None = Field(default=None, description=N_("User name on the server."))
    keyFile: str | None = Field(default=None, description=N_("SSH private key file for SFTP, e.g. ~/.ssh/id_ed25519."))
    password: str | None = Field(
        default=None, description=N_("Password for SMB or SFTP (`keyring:sync.password` recommended).")
    )
    path: str | None = Field(
        default=None,
        description=N_("Folder on the server that holds the synced state (for SMB: the folder inside the share)."),
    )
    deviceName: str | None = Field(
        default=None,
        description=N_("This computer's name in the synced folders (default: its host name)."),
    )
    intervalSeconds: int = Field(default=600, ge=10, description=N_("Seconds between full sync passes."))
    watch: bool = Field(default=True, description=N_("Also sync soon after a session file changes."))


class DesktopAlertConfig(MoltModel):
    enabled: bool = Field(default=True, description=N_("Show desktop notifications for alerts."))


class EmailAlertConfig(MoltModel):
    enabled: bool = Field(default=False, description=N_("Send alerts by e-mail."))
    smtp: str | None = Field(default=None, description=N_('SMTP server as "host:port", e.g. "smtp.example.com:587".'))
    tls: bool = Field(
        default=False,
        description=N_("Connect with TLS from the start (implicit TLS; always on for port 465). Otherwise "
                       "STARTTLS is used whenever the server offers it."),
    )
    sender: str | None = Field(default=None, alias="from", description=N_("The From address of alert mails."))
    to: list[str] = Field(default_factory=list, description=N_("Recipients of alert mails."))
    username: str | None = Field(default=None, description=N_("SMTP login name."))
    password: str | None = Field(default=None, description=N_("SMTP password (`keyring:alerts.smtp` recommended)."))


class WebhookAlertConfig(MoltModel):
    enabled: bool = Field(default=False, description=N_("Post alerts to a webhook."))
    url: str | None = Field(default=None, description=N_("The webhook URL."))
    kind: Literal["dingtalk", "wecom", "feishu", "slack", "json"] = Field(
        default="json", description=N_("Message format of the webhook: dingtalk, wecom, feishu, slack or plain json.")
    )
    secret: str | None = Field(
        default=None, description=N_("Signing secret of the webhook, if it has one (`keyring:alerts.webhook`).")
    )


class AlertThresholds(MoltModel):
    cpuWarning: float = Field(default=0.8, ge=0, le=1, description=N_("CPU use (0-1) that raises a warning."))
    cpuCritical: float = Field(default=0.95, ge=0, le=1, description=N_("CPU use (0-1) that raises a critical alert."))
    memoryCritical: float = Field(
        default=0.9, ge=0, le=1, description=N_("Memory use (0-1) that raises a critical alert.")
    )
    errorRateCritical: float = Field(
        default=0.1, ge=0, le=1, description=N_("Share of failed model calls (0-1) that raises a critical alert.")
    )
    checkIntervalSeconds: float = Field(default=60, gt=0, description=N_("Seconds between system checks."))


class AlertRuleConfig(MoltModel):
    enabled: bool = Field(default=True, description=N_("Check this rule."))
    forSeconds: float | None = Field(
        default=None, ge=0, description=N_("How long the condition must hold before the alert fires (default per rule).")
    )
    severity: Literal["info", "warning", "critical"] | None = Field(
        default=None, description=N_("Severity of the alert (default per rule).")
    )


class AlertsConfig(MoltModel):
    desktop: DesktopAlertConfig = Field(default_factory=DesktopAlertConfig, description=N_("Desktop notifications."))
    email: EmailAlertConfig = Field(default_factory=EmailAlertConfig, description=N_("Alert e-mails."))
    webhook: WebhookAlertConfig = Field(default_factory=WebhookAlertConfig, description=N_("Alert webhooks."))
    thresholds: AlertThresholds = Field(default_factory=AlertThresholds, description=N_("When alerts fire."))
    rules: dict[str, AlertRuleConfig] = Field(
        default_factory=dict,
        description=N_("Per-rule settings by rule id (gateway_down, remote_down, provider_failing, failover, "
                       "sync_stale, budget_reached, cpu_warning, cpu_critical, memory_critical, disk_low)."),
    )
    repeatIntervalSeconds: float = Field(
        default=3600, ge=0,
        description=N_("A firing alert is sent again after this long (0: never); nothing repeats sooner."),
    )


class UiConfig(MoltModel):
    language: Literal["auto", "en", "zh_CN", "ja"] = Field(
        default="auto", description=N_("Language of the app; `auto` follows the system.")
    )
    startMinimized: bool = Field(default=True, description=N_("Start in the tray without opening a window."))
    closeToTray: bool = Field(default=True, description=N_("Closing a window keeps the app running in the tray."))
    autostart: bool = Field(default=False, description=N_("Start molt_desktop when the user logs in."))
