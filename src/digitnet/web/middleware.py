"""ASGI middleware of the explorer: limits applied before any route sees a request."""

from __future__ import annotations

from fastapi.responses import JSONResponse

MAX_BODY_BYTES = 2 * 1024 * 1024  # a 280x280 canvas PNG is ~10 kB; 2 MB leaves room for a photo


class BodySizeLimit:
    """ASGI middleware: refuse a request body over `max_bytes` with 413, before anything parses it.

    The declared Content-Length is checked first; the body is then read (counting, for chunked
    uploads that declare none) and handed on to the app.
    """

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._refuse(scope, receive, send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                return await self._refuse(scope, receive, send)
            if not message.get("more_body", False):
                break
        body, delivered = b"".join(chunks), False

        async def replay():
            nonlocal delivered
            if delivered:
                return await receive()  # nothing more to read: this waits for the disconnect
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope, receive, send):
        limit = f"{self.max_bytes // (1024 * 1024)} MB"
        response = JSONResponse({"detail": f"the request body is too large (limit {limit}); send a smaller image"},
                                status_code=413, headers={"Connection": "close"})
        await response(scope, receive, send)
