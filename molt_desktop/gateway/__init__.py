"""The embedded gateway: aiohttp HTTP + WebSocket server speaking the OpenClaw protocol."""
