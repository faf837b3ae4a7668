"""molt_desktop: a desktop tray app running an OpenClaw-compatible AI gateway inside itself."""

from molt_desktop.version import __version__

__all__ = ["__version__"]
