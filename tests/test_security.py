"""Who may talk to a real `digitnet serve`: names it answers to (DNS rebinding), pages that may drive it
(cross-site requests), framing headers on every response, the token beyond loopback, slow clients.

Each rule is tested as a class: every route of the server's own OpenAPI description, plus the page,
its static files and /docs, is tried with each kind of request the rule refuses.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from digitnet.web.security import host_name, is_loopback

SOURCE = Path(__file__).resolve().parent.parent / "src"
START_SECONDS = 30
PIXELS = {"pixels": [0.0] * 392 + [1.0] * 392}


def free_port(family=socket.AF_INET, address="127.0.0.1") -> int:
    with socket.socket(family) as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


class Serve:
    """`digitnet serve ARGS...` in a subprocess, until it answers on `probe_url`."""

    def __init__(self, tmp_path: Path, *args: str, address="127.0.0.1", family=socket.AF_INET, probe_host=None):
        self.port = free_port(family, address)
        self.log = tmp_path / f"serve-{self.port}.log"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SOURCE), os.environ.get("PYTHONPATH")]))}
        with open(self.log, "wb") as output:
            self.process = subprocess.Popen([sys.executable, "-m", "digitnet.cli", "serve", "--port", str(self.port),
                                             *args], stdout=output, stderr=subprocess.STDOUT, env=env)
        shown = f"[{address}]" if ":" in address else address
        self.url = f"http://{shown}:{self.port}"
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and self.process.poll() is None:
            if "digitnet explorer: http" in self.log.read_text(errors="replace"):
                return
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"digitnet serve did not start:\n{self.log.read_text(errors='replace')[-2000:]}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = Serve(tmp_path_factory.mktemp("serve"))
    yield running
    running.stop()
    assert "Traceback" not in running.output()


@pytest.fixture(scope="module")
def routes(server):
    """(method, path, json body) for every operation the server describes, plus the page's own files."""
    schema = httpx.get(server.url + "/openapi.json").json()
    found = [("GET", "/", None), ("GET", "/docs", None), ("GET", "/static/app.js", None), ("GET", "/openapi.json", None)]
    for path, operations in schema["paths"].items():
        concrete = path.replace("{layer}", "1").replace("{index}", "0")
        for method in operations:
            body = PIXELS if concrete == "/api/predict" else {"name": "x.safetensors"} if method == "post" else None
            found.append((method.upper(), concrete, body))
    assert len(found) >= 10
    return found


def request(url, method, path, body=None, **headers):
    return httpx.request(method, url + path, json=body, headers=headers, timeout=30)


def assert_one_line_refusal(response, status=403):
    assert response.status_code == status, (response.status_code, response.text[:300])
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and 10 < len(detail) < 300
    return detail


# ---- DNS rebinding: the Host header ---------------------------------------------------------------

@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost.evil",
                                  "[::2]", "10.0.0.1", "", "attacker\u00e9.example"])
def test_a_foreign_host_name_is_refused_on_every_route(server, routes, host):
    for method, path, body in routes:
        response = request(server.url, method, path, body, Host=host.encode("utf-8"))
        detail = assert_one_line_refusal(response)
        assert "name" in detail


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST", "[::1]", "[::1]:{port}", "127.0.0.1:{port}",
                                  "localhost:{port}"])
def test_the_names_of_this_computer_are_answered(server, host):
    response = request(server.url, "GET", "/api/model", Host=host.format(port=server.port))
    assert response.status_code == 200, response.text


def test_host_names_are_parsed_with_ipv6_brackets_and_ports():
    assert host_name("[::1]:8000") == "::1" and host_name("[::1]") == "::1"
    assert host_name("LocalHost:80") == "localhost" and host_name("127.0.0.1") == "127.0.0.1"
    assert host_name("::1") == "::1"  # a bare IPv6 address has more than one colon: no port to strip
    assert is_loopback("127.0.0.2") and is_loopback("[::1]") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2") and not is_loopback("example.org")


def test_a_name_added_with_allow_host_is_answered(tmp_path):
    running = Serve(tmp_path, "--allow-host", "digits.lan")
    try:
        assert request(running.url, "GET", "/api/model", Host="digits.lan:8000").status_code == 200
        assert_one_line_refusal(request(running.url, "GET", "/api/model", Host="other.lan"))
    finally:
        running.stop()


def test_the_server_listens_and_answers_on_ipv6_loopback(tmp_path):
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")
    running = Serve(tmp_path, "--host", "::1", address="::1", family=socket.AF_INET6)
    try:
        response = httpx.get(running.url + "/api/model", timeout=30)  # Host: [::1]:port
        assert response.status_code == 200, response.text
        assert "token" not in running.output()  # ::1 is loopback: no token needed
    finally:
        running.stop()


# ---- cross-site requests: the Origin header --------------------------------------------------------

@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1:1", "http://localhost.evil"])
def test_a_write_from_another_site_is_refused(server, routes, origin):
    writes = [(method, path, body) for method, path, body in routes if method not in ("GET", "HEAD")]
    assert writes  # select and predict at least
    for method, path, body in writes:
        detail = assert_one_line_refusal(request(server.url, method, path, body, Origin=origin))
        assert "another web site" in detail


def test_the_servers_own_page_and_scripts_without_a_page_may_write(server):
    own = request(server.url, "POST", "/api/predict", PIXELS, Origin=server.url)
    assert own.status_code == 200 and 0 <= own.json()["digit"] <= 9
    assert request(server.url, "POST", "/api/predict", PIXELS).status_code == 200  # curl sends no Origin
    # Reading is not a write: a GET with a foreign Origin is answered (the browser keeps the answer from the page).
    assert request(server.url, "GET", "/api/model", Origin="https://evil.example").status_code == 200


# ---- headers on every response --------------------------------------------------------------------

def test_every_response_forbids_framing_and_sniffing(server, routes):
    cases = [request(server.url, method, path, body) for method, path, body in routes]
    cases += [request(server.url, "GET", "/api/nowhere"), request(server.url, "POST", "/api/predict", {"pixels": [1]}),
              request(server.url, "GET", "/api/model", Host="evil.example"),
              request(server.url, "POST", "/api/predict", PIXELS, Origin="https://evil.example")]
    statuses = {response.status_code for response in cases}
    assert {200, 403, 404, 422} <= statuses
    for response in cases:
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


# ---- beyond loopback: the token --------------------------------------------------------------------

def test_serving_beyond_loopback_needs_the_printed_token(tmp_path):
    running = Serve(tmp_path, "--host", "0.0.0.0", address="127.0.0.1")
    try:
        printed = running.output()
        assert "anyone on the network" in printed
        token = printed.split("?token=")[1].split()[0]
        assert len(token) >= 24
        base = running.url
        for path in ["/", "/api/model", "/static/app.js"]:
            assert "token" in assert_one_line_refusal(request(base, "GET", path))
            assert_one_line_refusal(request(base, "GET", path + "?token=wrong" + token[5:]))
        with httpx.Client(base_url=base, timeout=30) as browser:  # keeps cookies, as a browser does
            page = browser.get(f"/?token={token}")
            assert page.status_code == 200 and "digitnet" in page.text
            cookie = page.headers["set-cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
            assert browser.get("/api/model").status_code == 200  # the cookie carries the token from now on
            assert browser.post("/api/predict", json=PIXELS).status_code == 200
        assert request(base, "GET", "/api/model", Authorization=f"token {token}").status_code == 200
    finally:
        running.stop()


def test_a_loopback_server_needs_no_token(server):
    assert "token" not in server.output()
    assert request(server.url, "GET", "/").status_code == 200


# ---- slow and greedy clients -----------------------------------------------------------------------

def test_slow_clients_are_disconnected_and_others_are_still_answered(server):
    """200 connections that trickle a request's headers (slowloris) are closed by the server, and a
    normal request is answered meanwhile."""
    slow = []
    for _ in range(200):
        connection = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        connection.sendall(b"GET /api/model HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finishes its headers
        slow.append(connection)
    try:
        assert request(server.url, "GET", "/api/model").status_code in (200, 503)
        deadline = time.monotonic() + 120  # the server's deadline is seconds; allow for a busy machine
        open_ones = list(slow)
        while open_ones and time.monotonic() < deadline:
            still = []
            for connection in open_ones:
                try:
                    connection.sendall(b"X-Slow: 1\r\n")
                    connection.settimeout(0.01)
                    if connection.recv(1) == b"":
                        continue  # closed by the server
                except (BrokenPipeError, ConnectionResetError):
                    continue
                except (TimeoutError, socket.timeout):
                    pass
                still.append(connection)
            open_ones = still
            time.sleep(0.5)
        assert not open_ones, f"{len(open_ones)} of 200 slow connections were still open"
        assert request(server.url, "GET", "/api/model").status_code == 200
    finally:
        for connection in slow:
            connection.close()
