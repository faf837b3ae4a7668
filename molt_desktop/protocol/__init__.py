"""The OpenClaw wire protocol: frames, error codes, methods and scopes, device identity.

Imports nothing else of molt_desktop.
"""
