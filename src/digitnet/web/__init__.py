"""The explorer web page: `create_app` builds it (app.py), `serve` runs it (server.py)."""

from .app import create_app
from .server import serve

__all__ = ["create_app", "serve"]
