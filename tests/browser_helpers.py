"""What the browser tests share: a real uvicorn server with a models folder, a real headless Chromium,
a page opened and ready, drawing with the mouse, screenshots to look at.

Imported by the tests/test_browser*.py modules (pytest puts tests/ on the path).
"""

from __future__ import annotations

import json
import math
import shutil
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
expect, sync_playwright = sync_api.expect, sync_api.sync_playwright

from digitnet.modelfile import default_model_path, save_model
from digitnet.network import Network
from digitnet.web import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# Digits as strokes in the pad's unit square (x right, y down): large and clear, like MNIST's.
ZERO = [[(0.5 + 0.25 * math.sin(2 * math.pi * k / 20), 0.5 - 0.34 * math.cos(2 * math.pi * k / 20)) for k in range(21)]]
ONE = [[(0.53, 0.14), (0.47, 0.86)]]
SEVEN = [[(0.24, 0.18), (0.76, 0.18), (0.58, 0.5), (0.44, 0.86)]]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real uvicorn on a free loopback port, with a models folder holding two good models and a broken one."""
    uvicorn = pytest.importorskip("uvicorn")
    models = tmp_path_factory.mktemp("models")
    shutil.copy(default_model_path(), models / "video.safetensors")
    (models / "broken.safetensors").write_bytes(b"not a model")
    save_model(models / "small.safetensors", Network((784, 8, 10), seed=1), {"history": []})  # untrained
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(models_dir=models), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # a condition, not a timing: generous for a machine shared by many
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the explorer server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


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


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_page(browser, server, viewport=DESKTOP, scale=1, path: str = "/"):
    """A fresh page, loaded and ready; records requests and JavaScript errors to check later."""
    page = browser.new_page(viewport=viewport, device_scale_factor=scale)
    page.set_default_timeout(20_000)
    page.errors = []
    page.requests = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.on("request", lambda request: page.requests.append(request.url))
    page.goto(server + path)
    # The first answer of a fresh server also reads the training digits once (familiarity): on a busy
    # machine that takes a while, so the page gets longer to become ready than later steps.
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    return page


@pytest.fixture
def page(browser, server):
    page = open_page(browser, server)
    yield page
    errors = page.errors
    page.close()
    assert errors == []


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


def in_viewport(page, selector):
    """Whether the whole of the element is inside the viewport (its bounding box, in CSS pixels)."""
    return page.evaluate("""(selector) => {
        const box = document.querySelector(selector).getBoundingClientRect();
        return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight
            && box.left >= 0 && box.right <= window.innerWidth;
    }""", selector)


def eight(x0, y0, size):
    """An 8 as two loops, in a box of side `size` (fraction of the pad) with its top-left at (x0, y0)."""
    def loop(cy, r):
        return [(x0 + size / 2 + r * 0.9 * math.sin(2 * math.pi * k / 16), y0 + cy + r * math.cos(2 * math.pi * k / 16))
                for k in range(17)]
    return [loop(size * 0.27, size * 0.25), loop(size * 0.73, size * 0.27)]


def weight_colours(page):
    """How many cells of the weight picture are green (w > 0) and red (w < 0), with the input overlay off."""
    return page.evaluate("""() => {
        const data = document.getElementById('weight-picture').getContext('2d').getImageData(0, 0, 28, 28).data;
        let green = 0, red = 0;
        for (let i = 0; i < data.length; i += 4) {
            if (data[i + 1] > Math.max(data[i], 40)) green++;
            if (data[i] > Math.max(data[i + 1], 40)) red++;
        }
        return {green, red};
    }""")
