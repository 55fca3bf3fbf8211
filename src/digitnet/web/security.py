"""Who may talk to the explorer: the names it answers to, the pages that may drive it, a token off loopback.

A server on 127.0.0.1 is reachable by every web page the user opens, through their browser:
- *DNS rebinding*: a site whose name is made to resolve to 127.0.0.1 reads and drives the API as a
  same-origin page. Refused by checking `Host` against the names the server is really reached by
  (as Jupyter's `local_hostnames` and Vite's `server.allowedHosts` do). Starlette's
  TrustedHostMiddleware cannot be used: it splits `[::1]:8000` at the first colon.
- *Cross-site requests*: a form or fetch from another site can POST without reading the answer.
  Every request that changes state or starts work must come from the server's own origin (or from
  no page at all: curl and scripts send no `Origin`).
- *Framing*: no other page may frame the explorer (clickjacking), on any response.
- *Beyond loopback* (a teacher serving a classroom): anyone on the network could drive it, so a
  token is required, given once in the printed address (`?token=`) and kept in a cookie, as
  Jupyter does.
Every refusal is a 403 with one line `{"detail": "..."}`.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from urllib.parse import parse_qs

from fastapi.responses import JSONResponse

LOCAL_HOSTNAMES = ("localhost", "127.0.0.1", "::1")
SAFE_METHODS = {b"GET", b"HEAD", b"OPTIONS"}
TOKEN_COOKIE = "digitnet_token"
# On every response, API included: no framing, no content sniffing, no address leaked to other sites.
SECURITY_HEADERS = [(b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer")]
FRAME_ANCESTORS = b"frame-ancestors 'none'"


def is_loopback(host: str) -> bool:
    """True for an address or name that only this computer reaches (127.0.0.0/8, ::1, localhost)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(24)


def host_name(header: str) -> str:
    """A Host header's name without its port, lower case: `[::1]:8000` -> `::1`, `Localhost:80` -> `localhost`."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else ""
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class AccessControl:
    """ASGI middleware applying the rules of the module docstring.

    allowed_hosts: the names (no ports) a request's Host may carry; token: required on every request
    when not None (from `?token=`, the cookie, or `Authorization: token ...`).
    """

    def __init__(self, app, allowed_hosts, token: str | None = None):
        self.app = app
        self.allowed_hosts = {name.strip("[]").lower() for name in allowed_hosts}
        self.token = token

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])  # header names arrive lower case
        host = headers.get(b"host", b"").decode("latin-1")
        if host_name(host) not in self.allowed_hosts:
            shown = host_name(host)[:60].encode("ascii", "backslashreplace").decode() or "(none)"
            return await _refuse(scope, receive, send, f"this server does not answer to the name {shown!r}; "
                                 "open it by the address it printed (add a name with digitnet serve --allow-host NAME)")
        origin = headers.get(b"origin")
        if scope["method"].encode() not in SAFE_METHODS and origin is not None and not _same_origin(origin, host):
            return await _refuse(scope, receive, send, "requests from another web site are refused: "
                                 "use the explorer page this server serves")
        set_cookie = False
        if self.token is not None:
            given = _token_of(scope, headers)
            if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
                return await _refuse(scope, receive, send, "this server needs its token: open the address with "
                                     "?token=... that digitnet serve printed when it started")
            set_cookie = given is not None and TOKEN_COOKIE.encode() + b"=" not in headers.get(b"cookie", b"")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = dict(message)
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [pair for pair in SECURITY_HEADERS if pair[0] not in names]
                if b"content-security-policy" not in names:
                    extra.append((b"content-security-policy", FRAME_ANCESTORS))
                if set_cookie:
                    extra.append((b"set-cookie", f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; "
                                                 "SameSite=Strict".encode()))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _same_origin(origin: bytes, host: str) -> bool:
    """An Origin header is the server's own when it is http(s)://<the Host the request came to>."""
    origin = origin.decode("latin-1").strip().lower()
    return origin in (f"http://{host.strip().lower()}", f"https://{host.strip().lower()}")


def _token_of(scope, headers) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return query["token"][0]
    authorization = headers.get(b"authorization", b"").decode("latin-1")
    if authorization.lower().startswith("token "):
        return authorization[6:].strip()
    for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
        name, _, value = part.strip().partition("=")
        if name == TOKEN_COOKIE:
            return value
    return None


async def _refuse(scope, receive, send, detail: str):
    headers = {name.decode(): value.decode() for name, value in SECURITY_HEADERS}
    headers["content-security-policy"] = FRAME_ANCESTORS.decode()
    await JSONResponse({"detail": detail}, status_code=403, headers=headers)(scope, receive, send)
