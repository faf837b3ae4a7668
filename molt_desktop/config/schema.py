"""The config schema: every setting molt_desktop reads, declared once with its default and meaning.

The models mirror the JSON keys of `moltbot.json` one to one (camelCase attribute names, so
`config.gateway.maxPayload` is the key `gateway.maxPayload` of the file). OpenClaw-owned sections
accept unknown keys (`extra="allow"`): an `openclaw.json` written by a newer OpenClaw validates,
and its unknown keys survive a round trip. The molt_desktop sections (`remotes`, `failover`,
`sync`, `alerts`, `ui`; declared in schema_molt.py) keep unknown keys too, but the loader warns
about them (likely typos).
Every field has a `description`; the settings dialog shows those texts instead of repeating them.

Loading the file, `${VAR}` expansion and secrets live in load.py and secrets.py, not here.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The molt_desktop sections live in schema_molt.py; importable from here like every section.
from molt_desktop.config.schema_molt import (
    MoltModel as MoltModel,
    RemoteConfig as RemoteConfig,
    FailoverConfig as FailoverConfig,
    SyncConfig as SyncConfig,
    DesktopAlertConfig as DesktopAlertConfig,
    EmailAlertConfig as EmailAlertConfig,
    WebhookAlertConfig as WebhookAlertConfig,
    AlertThresholds as AlertThresholds,
    AlertRuleConfig as AlertRuleConfig,
    AlertsConfig as AlertsConfig,
    UiConfig as UiConfig,
)
from molt_desktop.i18n import N_

DEFAULT_PORT = 18789
DEFAULT_MAX_PAYLOAD = 26_214_400
SUPPORTED_APIS = ("anthropic-messages", "openai-completions")
BIND_KEYWORDS = ("loopback", "lan", "all", "auto", "tailnet", "custom")


class OpenModel(BaseModel):
    """A section of OpenClaw's config: typed known keys, unknown keys kept as they are."""

    model_config = ConfigDict(extra="allow")


# --- gateway -------------------------------------------------------------------------------


class GatewayAuthConfig(OpenModel):
    mode: Literal["token", "password", "none"] = Field(
        default="token",
        description=N_(
            "How clients prove who they are: `token` (a shared token, the default), `password`, "
            "or `none` (anyone who can reach the port; only sensible on loopback)."
        ),
    )
    token: str | None = Field(
        default=None,
        description=N_(
            "The shared gateway token for `token` mode. Leave empty to let molt_desktop generate "
            "one and keep it in the OS keyring (`keyring:gateway.token`); `${VAR}` and "
            "`keyring:<name>` values are accepted."
        ),
    )
    password: str | None = Field(
        default=None,
        description=N_("The password for `password` mode (`keyring:<name>` or `${VAR}` recommended)."),
    )


class GatewayTlsConfig(OpenModel):
    enabled: bool = Field(
        default=False,
        description=N_("Serve HTTPS/WSS instead of plain HTTP/WS. Setting `cert` and `key`, or `autoGenerate`, "
                       "turns TLS on as well."),
    )
    certPath: str | None = Field(default=None, description=N_("PEM certificate file for TLS (OpenClaw key name)."))
    keyPath: str | None = Field(default=None, description=N_("PEM private key file for TLS (OpenClaw key name)."))
    cert: str | None = Field(default=None, description=N_("PEM certificate file for TLS (short for `certPath`)."))
    key: str | None = Field(default=None, description=N_("PEM private key file for TLS (short for `keyPath`)."))
    autoGenerate: bool = Field(
        default=False,
        description=N_(
            "Without a certificate, make a self-signed one on first start (kept in the state dir) and "
            "print its SHA-256 fingerprint, for clients to pin as `tlsFingerprint`."
        ),
    )

    @property
    def cert_file(self) -> str | None:
        return self.certPath or self.cert

    @property
    def key_file(self) -> str | None:
        return self.keyPath or self.key

    @property
    def active(self) -> bool:
        """Whether the gateway serves TLS: enabled, or a certificate or auto-generation is configured."""
        return bool(self.enabled or self.autoGenerate or (self.cert_file and self.key_file))


class ChatCompletionsEndpointConfig(OpenModel):
    enabled: bool = Field(
        default=True,
        description=N_(
            "Serve the OpenAI-compatible `/v1/chat/completions` and `/v1/models` endpoints. "
            "OpenClaw defaults to off; molt_desktop defaults to on because the gateway binds to "
            "loopback and requires the gateway token (Bearer) anyway."
        ),
    )


class HttpEndpointsConfig(OpenModel):
    chatCompletions: ChatCompletionsEndpointConfig = Field(
        default_factory=ChatCompletionsEndpointConfig,
        description=N_("The OpenAI-compatible chat completions endpoint."),
    )


class GatewayHttpConfig(OpenModel):
    endpoints: HttpEndpointsConfig = Field(
        default_factory=HttpEndpointsConfig, description=N_("Optional HTTP endpoints on the gateway port.")
    )


class GatewayConfig(OpenModel):
    port: int = Field(
        default=DEFAULT_PORT, ge=1, le=65535,
        description=N_("TCP port of the gateway (HTTP and WebSocket on one port).")
    )
    bind: str = Field(
        default="loopback",
        description=N_(
            "Where the gateway listens: `loopback` (127.0.0.1, only this computer), `lan` or "
            "`all` (every interface), `auto` (loopback), `custom` (the address in "
            "`gateway.customBindHost`), or an IP address. `tailnet` is read as loopback."
        ),
    )
    customBindHost: str | None = Field(
        default=None, description=N_("The IP address to listen on when `gateway.bind` is `custom`.")
    )
    auth: GatewayAuthConfig = Field(
        default_factory=GatewayAuthConfig, description=N_("How clients authenticate to the gateway.")
    )
    tls: GatewayTlsConfig = Field(default_factory=GatewayTlsConfig, description=N_("TLS for the gateway port."))
    http: GatewayHttpConfig = Field(
        default_factory=GatewayHttpConfig, description=N_("HTTP endpoints served next to the WebSocket.")
    )
    maxPayload: int = Field(
        default=DEFAULT_MAX_PAYLOAD,
        ge=65536,
        description=N_("Largest WebSocket frame accepted after the handshake, in bytes (announced in hello-ok)."),
    )

    @field_validator("bind")
    @classmethod
    def _check_bind(cls, value: str) -> str:
        if value in BIND_KEYWORDS:
            return value
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(
                "expected loopback, lan, all, auto, custom or an IP address such as 192.168.1.10"
            ) from None
        return value

    @model_validator(mode="after")
    def _check_custom_host(self) -> GatewayConfig:
        if self.bind == "custom" and not self.customBindHost:
            raise ValueError('gateway.bind is "custom" but gateway.customBindHost is not set')
        if self.customBindHost:
            try:
                ipaddress.ip_address(self.customBindHost)
            except ValueError:
                raise ValueError(
                    f"gateway.customBindHost must be an IP address, got {self.customBindHost!r}"
                ) from None
        return self

    def bind_host(self) -> str:
        """The address to pass to the listening socket."""
        if self.bind in ("lan", "all"):
            return "0.0.0.0"
        if self.bind == "custom" and self.customBindHost:
            return self.customBindHost
        if self.bind in ("loopback", "auto", "tailnet", "custom"):
            return "127.0.0.1"
        return self.bind

    def is_loopback_only(self) -> bool:
        """True when only this computer can reach the gateway."""
        try:
            return ipaddress.ip_address(self.bind_host()).is_loopback
        except ValueError:
            return False


# --- agents --------------------------------------------------------------------------------


class ModelSelection(OpenModel):
    primary: str | None = Field(
        default=None, description=N_('The model to use, as "provider/modelId" (e.g. "anthropic/claude-sonnet-4-5").')
    )
    fallbacks: list[str] = Field(
        default_factory=list,
        description=N_(
            "Models tried in order when the primary fails with a retryable error "
            "(rate limit, overload, timeout, network)."
        ),
    )


class AgentDefaults(OpenModel):
    model: ModelSelection = Field(
        default_factory=ModelSelection,
        description=N_('The default model and its fallbacks. A plain string is read as `{primary: "<string>"}`.'),
    )
    maxConcurrent: int = Field(
        default=4, ge=1, le=64, description=N_("How many agent runs may talk to model providers at the same time.")
    )
    workspace: str | None = Field(
        default=None, description=N_("The agent's working directory (default: `<state>/workspace`).")
    )
    timeoutSeconds: int = Field(default=600, ge=1, description=N_("A run that takes longer than this is stopped."))

    @field_validator("model", mode="before")
    @classmethod
    def _model_shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"primary": value}
        return value


class AgentsConfig(OpenModel):
    defaults: AgentDefaults = Field(default_factory=AgentDefaults, description=N_("Settings every agent starts from."))


# --- models --------------------------------------------------------------------------------


class ModelCost(OpenModel):
    input: float = Field(default=0, ge=0, description=N_("Price of input tokens, per million tokens."))
    output: float = Field(default=0, ge=0, description=N_("Price of output tokens, per million tokens."))
    cacheRead: float = Field(default=0, ge=0, description=N_("Price of cache-read input tokens, per million tokens."))
    cacheWrite: float = Field(default=0, ge=0, description=N_("Price of cache-write input tokens, per million tokens."))


class ModelDef(OpenModel):
    id: str = Field(..., min_length=1, description=N_("The model id the provider's API expects."))
    name: str | None = Field(default=None, description=N_("A display name for the model."))
    contextWindow: int | None = Field(default=None, ge=1, description=N_("Context window in tokens."))
    maxTokens: int | None = Field(default=None, ge=1, description=N_("Most tokens the model may write in one reply."))
    reasoning: bool = Field(default=False, description=N_("The model supports extended thinking / reasoning."))
    input: list[str] = Field(
        default_factory=lambda: ["text"], description=N_('Input kinds the model accepts: "text", "image".')
    )
    cost: ModelCost = Field(default_factory=ModelCost, description=N_("Prices used to compute the cost of a run."))


class ProviderBudget(OpenModel):
    daily: float | None = Field(
        default=None, ge=0, description=N_("US dollars a day; the budget alert fires when today's cost reaches it.")
    )


class ProviderConfig(OpenModel):
    baseUrl: str | None = Field(
        default=None, description=N_("The API base URL (for Anthropic-compatible endpoints without `/v1`).")
    )
    apiKey: str | None = Field(
        default=None, description=N_("The API key: `keyring:<name>` (recommended), `${VAR}`, or the key itself.")
    )
    api: str | None = Field(
        default=None,
        description=N_('The wire protocol: "anthropic-messages" or "openai-completions" (OpenAI-compatible).'),
    )
    headers: dict[str, str] | None = Field(default=None, description=N_("Extra HTTP headers sent with every request."))
    budget: ProviderBudget | None = Field(
        default=None, description=N_("Spending limit of this provider (molt_desktop; an alert fires when reached).")
    )
    models: list[ModelDef] = Field(default_factory=list, description=N_("The models this provider offers."))


class ModelsConfig(OpenModel):
    mode: Literal["merge", "replace"] = Field(
        default="merge", description=N_("`merge` adds these providers to the built-in ones; `replace` uses only these.")
    )
    providers: dict[str, ProviderConfig] = Field(
        default_factory=dict,
        description=N_("Model providers by name; the name is the `provider` of `provider/modelId`.")
    )


# --- session -------------------------------------------------------------------------------


class SessionResetConfig(OpenModel):
    mode: Literal["daily", "idle"] = Field(
        default="daily",
        description=N_("`daily`: a new session each day at `atHour`; `idle`: after `idleMinutes` without messages."),
    )
    atHour: int = Field(default=4, ge=0, le=23, description=N_("Local hour (0-23) of the daily reset."))
    idleMinutes: int | None = Field(
        default=None, ge=1, description=N_("Start a new session after this many idle minutes.")
    )


class SessionConfig(OpenModel):
    scope: Literal["per-sender", "global"] = Field(
        default="per-sender", description=N_("`per-sender`: one conversation per sender; `global`: one for everyone.")
    )
    dmScope: Literal["main", "per-peer", "per-channel-peer", "per-account-channel-peer"] = Field(
        default="main", description=N_("How direct messages map to sessions (`main` shares the main session).")
    )
    mainKey: str = Field(
        default="main", min_length=1, description=N_("The key of the main session (`agent:<id>:<mainKey>`).")
    )
    reset: SessionResetConfig = Field(
        default_factory=SessionResetConfig, description=N_("When a session starts over with a fresh transcript.")
    )


# --- root ----------------------------------------------------------------------------------


class MoltConfig(OpenModel):
    """The whole `moltbot.json`."""

    gateway: GatewayConfig = Field(default_factory=GatewayConfig, description=N_("The embedded gateway."))
    agents: AgentsConfig = Field(
        default_factory=AgentsConfig, description=N_("Agent defaults: model, concurrency, workspace.")
    )
    models: ModelsConfig = Field(default_factory=ModelsConfig, description=N_("Model providers and their models."))
    session: SessionConfig = Field(default_factory=SessionConfig, description=N_("Session scoping and resets."))
    remotes: list[RemoteConfig] = Field(
        default_factory=list, description=N_("Remote gateways to fail over to, in order of preference.")
    )
    failover: FailoverConfig = Field(default_factory=FailoverConfig, description=N_("When to switch gateways."))
    sync: SyncConfig = Field(default_factory=SyncConfig, description=N_("Sync of session files with a server."))
    alerts: AlertsConfig = Field(default_factory=AlertsConfig, description=N_("Health alerts and where they go."))
    ui: UiConfig = Field(default_factory=UiConfig, description=N_("The desktop app's windows and tray."))

    @field_validator("remotes")
    @classmethod
    def _unique_remote_ids(cls, value: list[RemoteConfig]) -> list[RemoteConfig]:
        seen: set[str] = set()
        for remote in value:
            if remote.id in seen:
                raise ValueError(f'two remotes have the id "{remote.id}"; ids must be unique')
            seen.add(remote.id)
        return value

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data with every default filled in (what `config.get` calls `config`)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def provider(self, name: str) -> ProviderConfig | None:
        return self.models.providers.get(name)


MOLT_SECTIONS: dict[str, type[BaseModel]] = {
    "remotes": RemoteConfig,
    "failover": FailoverConfig,
    "sync": SyncConfig,
    "alerts": AlertsConfig,
    "ui": UiConfig,
}
