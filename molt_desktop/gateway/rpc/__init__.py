"""RPC method handlers of the gateway, one module per method family."""
