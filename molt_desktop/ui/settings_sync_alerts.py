"""The Alerts page (`alerts`): a form over the `alerts` config section.

Each alert channel has a Test button (settings_alert_test.py) that sends a test alert with the
saved settings. The SMTP password and the webhook secret go to the keyring (`alerts.smtp`,
`alerts.webhook`); the config holds the `keyring:` reference. The Sync page lives in
settings_sync.py.
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QLineEdit, QSpinBox, QWidget

from molt_desktop.ui.bridge import GatewayBridge
from molt_desktop.ui.i18n import tr
from molt_desktop.ui.settings_alert_test import ChannelTest
from molt_desktop.ui.settings_common import SecretField, SettingsPage, collect_secret
from molt_desktop.ui.settings_store import ConfigDraft, check_http_url, describe, section_model

WEBHOOK_KINDS = ("dingtalk", "wecom", "feishu", "slack", "json")


class AlertsPage(SettingsPage):
    page_id = "alerts"
    icon_name = "warning"

    def __init__(self, bridge: GatewayBridge, parent: QWidget | None = None) -> None:
        super().__init__(bridge, parent)
        self.groups: dict[str, QGroupBox] = {}
        self.tests: dict[str, ChannelTest] = {}
        desktop = self._group("desktop")
        self.desktop = QCheckBox()
        self.desktop.setObjectName("alertsDesktop")
        self.bind(desktop, "alerts.desktop.enabled", self.desktop, lambda: tr("Desktop notifications"))

        email = self._group("email")
        self.email_enabled = QCheckBox()
        self.bind(email, "alerts.email.enabled", self.email_enabled, lambda: tr("Send e-mails"))
        self.smtp = QLineEdit()
        self.smtp.setPlaceholderText("smtp.example.com:587")
        self.bind(email, "alerts.email.smtp", self.smtp, lambda: tr("SMTP server"))
        self.sender = QLineEdit()
        self.bind(email, "alerts.email.from", self.sender, lambda: tr("From"))
        self.to = QLineEdit()
        self.to.setProperty("listValue", True)
        self.to.setPlaceholderText("ops@example.com, me@example.com")
        self.bind(email, "alerts.email.to", self.to, lambda: tr("To"))
        self.smtp_user = QLineEdit()
        self.bind(email, "alerts.email.username", self.smtp_user, lambda: tr("User name"))
        self.smtp_password = SecretField(bridge)
        self.add_row(email, "alerts.email.password", self.smtp_password, section_model("alerts.email"), "password",
                     lambda: tr("Password"))

        webhook = self._group("webhook")
        self.webhook_enabled = QCheckBox()
        self.bind(webhook, "alerts.webhook.enabled", self.webhook_enabled, lambda: tr("Post to a webhook"))
        self.webhook_url = QLineEdit()
        self.webhook_url.setObjectName("webhookUrl")
        self.webhook_url.setPlaceholderText("https://oapi.dingtalk.com/robot/send?access_token=…")
        self.bind(webhook, "alerts.webhook.url", self.webhook_url, lambda: tr("URL"))
        self.webhook_kind = QComboBox()
        for kind in WEBHOOK_KINDS:
            self.webhook_kind.addItem("", kind)
        self.bind(webhook, "alerts.webhook.kind", self.webhook_kind, lambda: tr("Format"))
        self.webhook_secret = SecretField(bridge)
        self.add_row(webhook, "alerts.webhook.secret", self.webhook_secret, section_model("alerts.webhook"),
                     "secret", lambda: tr("Signing secret"))

        for channel, form in (("desktop", desktop), ("email", email), ("webhook", webhook)):
            self.tests[channel] = ChannelTest(channel, bridge)
            form.addRow("", self.tests[channel])

        thresholds = self._group("thresholds")
        for key, label in (("cpuWarning", lambda: tr("CPU warning")), ("cpuCritical", lambda: tr("CPU critical")),
                           ("memoryCritical", lambda: tr("Memory critical")),
                           ("errorRateCritical", lambda: tr("Model error rate critical"))):
            spin = QDoubleSpinBox()
            spin.setRange(0, 1)
            spin.setDecimals(2)
            spin.setSingleStep(0.05)
            self.bind(thresholds, f"alerts.thresholds.{key}", spin, label)
        interval = QSpinBox()
        interval.setRange(1, 24 * 3600)
        self.bind(thresholds, "alerts.thresholds.checkIntervalSeconds", interval, lambda: tr("Check every (seconds)"))
        self.layout_.addStretch(1)
        self.retranslate()

    def _group(self, key: str) -> QFormLayout:
        group = QGroupBox()
        group.setObjectName(f"alerts-{key}")
        self.groups[key] = group
        self.layout_.addWidget(group)
        return self.form(group)

    def title(self) -> str:
        return tr("Alerts")

    def load(self, draft: ConfigDraft) -> None:
        self.load_bound(draft)
        for test in self.tests.values():
            test.update_from(draft)
        self.smtp_password.load(draft.raw("alerts.email.password"))
        self.webhook_secret.load(draft.raw("alerts.webhook.secret"))

    def collect(self, draft: ConfigDraft) -> None:
        self.collect_bound(draft)
        collect_secret(draft, self.smtp_password, "alerts.email.password", "alerts.smtp")
        collect_secret(draft, self.webhook_secret, "alerts.webhook.secret", "alerts.webhook")
        url = self.webhook_url.text().strip()
        if url and not check_http_url(url):
            draft.add_issue("alerts.webhook.url", tr("Enter an http:// or https:// address."))
        if self.email_enabled.isChecked() and not (self.smtp.text().strip() and self.to.text().strip()):
            draft.add_issue("alerts.email.smtp", tr("E-mail alerts need an SMTP server and at least one recipient."))
        smtp = self.smtp.text().strip()
        if smtp and not smtp.rpartition(":")[2].isdigit():
            draft.add_issue("alerts.email.smtp", tr("Write the server as host:port, e.g. {example}.").format(
                example="smtp.example.com:587"))

    def retranslate(self) -> None:
        super().retranslate()
        titles = {"desktop": tr("Desktop"), "email": tr("E-mail"), "webhook": tr("Webhook"),
                  "thresholds": tr("Thresholds")}
        for key, group in self.groups.items():
            group.setTitle(titles[key])
            group.setToolTip(describe(section_model("alerts"), key))
        names = {"dingtalk": tr("DingTalk"), "wecom": tr("WeCom"), "feishu": tr("Feishu / Lark"), "slack": "Slack",
                 "json": tr("Plain JSON")}
        for index in range(self.webhook_kind.count()):
            self.webhook_kind.setItemText(index, names[str(self.webhook_kind.itemData(index))])
