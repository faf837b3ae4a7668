"""Where alerts go: desktop notifications, e-mail, webhooks (one module each)."""
