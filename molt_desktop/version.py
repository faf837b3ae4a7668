"""The molt_desktop version (single source for the package metadata and the gateway's hello-ok)."""

__version__ = "0.1.0"
