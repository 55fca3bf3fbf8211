"""`serve`: run the explorer with uvicorn until Ctrl-C, and say where once it listens."""

from __future__ import annotations

import os
import threading
import time
import webbrowser
from pathlib import Path

from ..errors import DigitnetError
from .app import create_app


def default_models_dir() -> Path:
    """Where the lab saves models without --models-dir: the user's data folder (XDG),
    $XDG_DATA_HOME/digitnet/models, by default ~/.local/share/digitnet/models."""
    data_home = os.environ.get("XDG_DATA_HOME") or ""
    base = Path(data_home) if os.path.isabs(data_home) else Path.home() / ".local" / "share"
    return base / "digitnet" / "models"


def serve(model_path: str | Path | None = None, host: str = "127.0.0.1", port: int = 8000,
          open_browser: bool = False, models_dir: str | Path | None = None, training: bool = True,
          max_jobs: int = 1) -> None:
    """Run the explorer with uvicorn until Ctrl-C.

    Without `models_dir`, the user's default folder (`default_models_dir()`, made when the first job
    starts) holds the models trained in the page. Once it listens, prints its address (and opens it
    in a browser if `open_browser`). A bad model or models folder, or a port it cannot listen on,
    raises DigitnetError.
    """
    import uvicorn

    if not 0 <= port <= 65535:
        raise DigitnetError(f"port {port}: choose a port from 0 to 65535 (8000 is the default)")
    app = create_app(model_path, models_dir if models_dir is not None else default_models_dir(),
                     training=training, max_jobs=max_jobs, create_models_dir=models_dir is None)
    shown_host = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, f"[{host}]" if ":" in host else host)
    url = f"http://{shown_host}:{port}/"
    jobs = app.state.explorer.jobs

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):
            # An open page keeps its job's event stream open, and uvicorn waits for open responses
            # before it shuts down: end the streams first. The app's shutdown then stops the jobs
            # (each saves its best epoch). The 2 s are a bound, should a stream not end.
            jobs.end_streams()
            super().handle_exit(sig, frame)

    server = Server(uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=2))
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
