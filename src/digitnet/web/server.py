"""`serve`: run the explorer with uvicorn until Ctrl-C, and say where once it listens.

Slow and greedy clients: a connection that has not sent a whole request within REQUEST_TIMEOUT
seconds of opening (or of its last answer) is closed (slowloris: 200 connections trickling headers
would otherwise stay open for ever), idle keep-alive connections close after KEEP_ALIVE seconds,
and beyond MAX_CONNECTIONS at once new requests get 503 instead of memory.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import webbrowser
from pathlib import Path

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..errors import DigitnetError
from .app import create_app
from .security import LOCAL_HOSTNAMES, is_loopback, new_token

REQUEST_TIMEOUT = 10.0  # seconds to send a whole request (headers and body); a drawing takes milliseconds
KEEP_ALIVE = 5.0  # seconds an idle connection is kept for the page's next request
MAX_CONNECTIONS = 64  # a classroom of 30 pages, each with a request or two in flight


class GuardedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for receiving each request.

    uvicorn's keep-alive timer is cancelled by any byte received, and nothing times a new
    connection's first request, so a client sending one byte every few seconds would hold a
    connection for ever. Here each request must have arrived whole (h11's `their_state` past
    SEND_BODY) within REQUEST_TIMEOUT; a request being answered (a long event stream) is not
    limited."""

    _request_deadline = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm_request_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_request_deadline()

    def connection_lost(self, exc) -> None:
        if self._request_deadline is not None:
            self._request_deadline.cancel()
        super().connection_lost(exc)

    def _arm_request_deadline(self) -> None:
        if self._request_deadline is not None:
            self._request_deadline.cancel()
        self._request_deadline = self.loop.call_later(REQUEST_TIMEOUT, self._request_deadline_passed)

    def _request_deadline_passed(self) -> None:
        if not self.transport.is_closing() and self.conn.their_state in (h11.IDLE, h11.SEND_BODY):
            self.transport.close()


def default_models_dir() -> Path:
    """Where the lab saves models without --models-dir: the user's data folder (XDG),
    $XDG_DATA_HOME/digitnet/models, by default ~/.local/share/digitnet/models."""
    data_home = os.environ.get("XDG_DATA_HOME") or ""
    base = Path(data_home) if os.path.isabs(data_home) else Path.home() / ".local" / "share"
    return base / "digitnet" / "models"


def serve(model_path: str | Path | None = None, host: str = "127.0.0.1", port: int = 8000,
          open_browser: bool = False, models_dir: str | Path | None = None,
          allow_hosts: tuple[str, ...] = (), token: str | None = None, training: bool = True,
          max_jobs: int = 1, sweeps: tuple[str, ...] = ()) -> None:
    """Run the explorer with uvicorn until Ctrl-C.

    Without `models_dir`, the user's default folder (`default_models_dir()`, made when the first job
    starts) holds the models trained in the page. Once it listens, prints its address (and opens it
    in a browser if `open_browser`). A bad model or models folder, or a port it cannot listen on,
    raises DigitnetError.
    sweeps: sweep databases for the page's Sweeps panel (their first's models folder is the models
    folder when `models_dir` is not given).
    allow_hosts: more names the server may be reached by (besides loopback's and `host`).
    token: required of every request when `host` is not loopback (made up when not given); printed
    in the address.
    """
    import uvicorn

    if not 0 <= port <= 65535:
        raise DigitnetError(f"port {port}: choose a port from 0 to 65535 (8000 is the default)")
    allowed = {*LOCAL_HOSTNAMES, *allow_hosts, host}
    if host in ("0.0.0.0", "::"):  # every address of this machine
        allowed |= _machine_names()
    if is_loopback(host):
        token = None
    elif token is None:
        token = new_token()
    if models_dir is None and sweeps:  # the first sweep's saved models, so its table's links open them
        from ..sweep.runner import models_folder
        if models_folder(Path(sweeps[0])).is_dir():
            models_dir = models_folder(Path(sweeps[0]))
    app = create_app(model_path, models_dir if models_dir is not None else default_models_dir(),
                     allowed_hosts=allowed, token=token, training=training, max_jobs=max_jobs,
                     create_models_dir=models_dir is None, sweeps=sweeps)
    app.state.explorer.prepare_in_background()  # MNIST's test set and training digits, while the page loads
    shown_host = {"0.0.0.0": socket.gethostname(), "::": socket.gethostname()}.get(
        host, f"[{host}]" if ":" in host else host)
    url = f"http://{shown_host}:{port}/" + (f"?token={token}" if token else "")
    jobs = app.state.explorer.jobs

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):
            # An open page keeps its job's event stream open, and uvicorn waits for open responses
            # before it shuts down: end the streams first. The app's shutdown then stops the jobs
            # (each saves its best epoch). The 2 s are a bound, should a stream not end.
            jobs.end_streams()
            super().handle_exit(sig, frame)

    server = Server(uvicorn.Config(app, host=host, port=port, log_level="warning", http=GuardedH11Protocol,
                                   timeout_keep_alive=KEEP_ALIVE, limit_concurrency=MAX_CONNECTIONS,
                                   timeout_graceful_shutdown=2))
    if token:
        print(f"digitnet explorer: serving beyond this computer on {host}: anyone on the network who has the "
              "address below (with its token) can use it", flush=True)
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


def _machine_names() -> set[str]:
    """This machine's host names and addresses: what a server on 0.0.0.0 is reached by."""
    names = {socket.gethostname(), socket.getfqdn()}
    try:
        names |= {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)}
    except OSError:
        pass
    return {name.lower() for name in names}
