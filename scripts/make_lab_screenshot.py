#!/usr/bin/env python3
"""Take the README's picture of the lab: the video's network learning, a drawn 3 guessed with its weights of now.

    python scripts/make_lab_screenshot.py                    # docs/lab.png at 1280x800
    python scripts/make_lab_screenshot.py --size 390x844 --out test-artifacts/lab-phone.png

Starts a real explorer (a temporary models folder) and Debian's Chromium through Playwright, draws a 3 with
the mouse, presses Train with `digitnet train`'s defaults and shoots once a few epochs have passed.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
THREE = [[(0.30, 0.20), (0.50, 0.14), (0.68, 0.24), (0.64, 0.40), (0.46, 0.50)],
         [(0.46, 0.50), (0.68, 0.58), (0.70, 0.74), (0.52, 0.86), (0.30, 0.80)]]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="1280x800", help="the browser window, WIDTHxHEIGHT (default: 1280x800)")
    parser.add_argument("--out", default=str(REPO / "docs" / "lab.png"), help="the PNG to write (default: docs/lab.png)")
    parser.add_argument("--after-epoch", type=int, default=6, help="shoot once this epoch is under way (default: 6)")
    args = parser.parse_args(argv)
    width, height = (int(n) for n in args.size.split("x"))

    import uvicorn
    from playwright.sync_api import sync_playwright

    from digitnet.web import create_app

    with tempfile.TemporaryDirectory() as models, socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        server = uvicorn.Server(uvicorn.Config(create_app(models_dir=models), host="127.0.0.1", port=port,
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                                     args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": width, "height": height})
                page.set_default_timeout(120_000)
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_selector("body[data-ready=true] #train-lab[data-ready=true]")
                pad = page.locator("#pad")
                pad.scroll_into_view_if_needed()
                box = pad.bounding_box()
                for stroke in THREE:
                    points = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]
                    page.mouse.move(*points[0])
                    page.mouse.down()
                    for point in points[1:]:
                        page.mouse.move(*point, steps=6)
                    page.mouse.up()
                page.wait_for_selector("#guess[data-settled=true][data-source=drawing]")
                page.click("#train-toggle")
                page.click("#train-train")
                page.wait_for_selector(f"#train-epoch:text-matches('^{args.after_epoch} of')")
                page.wait_for_selector("#train-guess-box:not([hidden])")
                page.evaluate("window.scrollTo(0, 0)")
                page.screenshot(path=args.out)
                page.click("#train-stop")
                page.wait_for_selector("#train-lab[data-state=stopped]")
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=30)
    print(args.out)


if __name__ == "__main__":
    main()
