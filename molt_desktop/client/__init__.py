"""The gateway client (WebSocket) and, later, the failover endpoint pool."""
