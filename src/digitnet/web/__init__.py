"""The explorer web page: `create_app` builds it, `serve` runs it (see server.py)."""

from .server import create_app, serve

__all__ = ["create_app", "serve"]
