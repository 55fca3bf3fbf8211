"""`serve`: run the explorer with uvicorn until Ctrl-C, and say where once it listens."""

from __future__ import annotations

import threading
import time
import webbrowser
from pathlib import Path

from ..errors import DigitnetError
from .app import create_app


def serve(model_path: str | Path | None = None, host: str = "127.0.0.1", port: int = 8000,
          open_browser: bool = False, models_dir: str | Path | None = None) -> None:
    """Run the explorer with uvicorn until Ctrl-C.

    Once it listens, prints its address (and opens it in a browser if `open_browser`). A bad model
    or models folder, or a port it cannot listen on, raises DigitnetError.
    """
    import uvicorn

    if not 0 <= port <= 65535:
        raise DigitnetError(f"port {port}: choose a port from 0 to 65535 (8000 is the default)")
    app = create_app(model_path, models_dir)
    shown_host = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, f"[{host}]" if ":" in host else host)
    url = f"http://{shown_host}:{port}/"
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    threading.Thread(target=_announce, args=(server, url, open_browser), daemon=True).start()
    try:
        server.run()
    except SystemExit:  # uvicorn exits this way when it cannot listen
        raise DigitnetError(f"cannot listen on {host}:{port} (is the port in use? try another --port)") from None


def _announce(server, url: str, open_browser: bool) -> None:
    """Wait (up to a minute) for the server to listen, then say where; a failed start says nothing."""
    for _ in range(600):
        if server.started:
            print(f"digitnet explorer: {url}  (Ctrl-C to stop)", flush=True)
            if open_browser:
                webbrowser.open(url)
            return
        if server.should_exit:
            return
        time.sleep(0.1)
