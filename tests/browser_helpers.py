"""Helpers for driving the explorer in a real headless Chromium against a real uvicorn server.

The same launch as tests/test_browser.py (Debian's /usr/bin/chromium through Playwright); digits are drawn
with the mouse, as a person would. Screenshots go to test-artifacts/ (look at them).
"""

from __future__ import annotations

import json
import math
import socket
import threading
import time
import urllib.request
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# Digits as strokes in the pad's unit square (x right, y down): large and clear, like MNIST's.
ZERO = [[(0.5 + 0.25 * math.sin(2 * math.pi * k / 20), 0.5 - 0.34 * math.cos(2 * math.pi * k / 20)) for k in range(21)]]
SEVEN = [[(0.24, 0.18), (0.76, 0.18), (0.58, 0.5), (0.44, 0.86)]]


class LiveServer:
    """A real uvicorn serving `app` on a free loopback port, in a thread; `url` once it listens."""

    def __init__(self, app, start_timeout: float = 20):
        import uvicorn
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + start_timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the explorer server did not start")
            time.sleep(0.05)

    def json(self, path: str, body: dict | None = None) -> dict:
        """GET (or POST `body` to) `path`; the answer's JSON."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data,
                                         headers={"Content-Type": "application/json"} if data else {})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def close(self):
        self.server.should_exit = True
        self.thread.join(timeout=30)


def open_page(browser, url: str, viewport=DESKTOP, scale=1, path: str = "/"):
    """A fresh page, loaded and ready; records requests and JavaScript errors to check later."""
    page = browser.new_page(viewport=viewport, device_scale_factor=scale)
    page.set_default_timeout(20_000)
    page.errors = []
    page.requests = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.on("request", lambda request: page.requests.append(request.url))
    page.goto(url + path)
    page.wait_for_selector("body[data-ready=true]")
    return page


def draw(page, strokes):
    """Clear the pad, draw `strokes` with the mouse, and wait for the network's answer to the drawing."""
    page.click("#clear")
    pad = page.locator("#pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    for stroke in strokes:
        points = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=6)
        page.mouse.up()
    page.wait_for_selector("#guess[data-settled=true][data-source=drawing]")
    return page.inner_text("#guess")


def screenshot(page, name, full_page=False):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)
