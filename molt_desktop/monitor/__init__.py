"""Health monitoring and alerts: probes, rules, alert states, and the channels that deliver them."""
