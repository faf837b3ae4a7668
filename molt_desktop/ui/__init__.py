"""The Qt desktop app: tray, chat windows, session list, settings, health view.

Everything here is a gateway client: chats, history and session actions go through
`bridge.GatewayBridge` (the endpoint pool of client/failover.py), never into the store or the
agent. Only this package and app.py import Qt. Strings shown to the user go through
`ui.i18n.tr()` and live in the Qt `.ts` catalogs under resources/translations/.
"""
