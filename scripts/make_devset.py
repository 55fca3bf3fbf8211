"""Make tests/devset/: digits drawn in the real explorer page, in many styles, sizes and pens.

    python scripts/make_devset.py [--out tests/devset] [--per-digit 12] [--seed 0]

Starts `digitnet serve` on a free port, opens the page in headless Chromium (/usr/bin/chromium) and
draws each digit with the mouse on the drawing pad, as a person would: one of several ways of writing
it (a 7 with or without its bar, a 4 open or closed, ...), at a random size (small digits meet the
pad's fixed pen), place, slant and turn, with a wobbly hand. It saves the pad's own PNG (its data URL).
Then the same strokes are drawn again by the browser's canvas with other pens (a fine pen 2 pixels
wide, a marker of 40) and as dark ink on white paper: a second source, rendered by Chromium too.
Writes NNN.png and labels.csv (file,digit,source,pen). Not MNIST: a development set for real handwriting.
"""

from __future__ import annotations

import argparse
import base64
import csv
import math
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def arc(cx, cy, rx, ry, start, stop, n=14):
    """Points on an ellipse from angle `start` to `stop` (degrees, 0 = right, 90 = down)."""
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(start, stop, n)]


# Ways of writing each digit: lists of strokes, each a polyline in a unit box (x right, y down).
STYLES = {
    0: [[arc(0.5, 0.5, 0.3, 0.45, -90, 270, 24)],
        [arc(0.5, 0.5, 0.22, 0.45, -100, 265, 24)],
        [arc(0.5, 0.5, 0.33, 0.42, -80, 290, 24) + [(0.62, 0.2)]]],
    1: [[[(0.5, 0.05), (0.5, 0.95)]],
        [[(0.3, 0.25), (0.55, 0.05), (0.55, 0.95)]],
        [[(0.3, 0.25), (0.55, 0.05), (0.55, 0.95)], [(0.35, 0.95), (0.75, 0.95)]],
        [[(0.6, 0.05), (0.4, 0.95)]]],
    2: [[arc(0.5, 0.3, 0.3, 0.25, 190, 360, 10) + [(0.75, 0.45), (0.2, 0.95), (0.85, 0.95)]],
        [arc(0.5, 0.3, 0.3, 0.25, 180, 380, 12) + [(0.15, 0.95), (0.3, 0.85), (0.5, 0.9), (0.85, 0.92)]],
        [arc(0.5, 0.3, 0.32, 0.25, 200, 370, 10) + [(0.2, 0.95), (0.9, 0.95)]]],
    3: [[arc(0.5, 0.28, 0.3, 0.23, 200, 450, 12) + arc(0.5, 0.72, 0.33, 0.23, -90, 160, 12)],
        [[(0.2, 0.08), (0.8, 0.08), (0.45, 0.45)] + arc(0.5, 0.7, 0.32, 0.25, -80, 160, 12)]],
    4: [[[(0.65, 0.95), (0.65, 0.05), (0.15, 0.65), (0.85, 0.65)]],
        [[(0.3, 0.05), (0.2, 0.55), (0.85, 0.55)], [(0.65, 0.25), (0.65, 0.95)]],
        [[(0.35, 0.05), (0.25, 0.5), (0.75, 0.5)], [(0.75, 0.05), (0.7, 0.95)]]],
    5: [[[(0.8, 0.05), (0.3, 0.05), (0.25, 0.45)] + arc(0.5, 0.68, 0.3, 0.27, -120, 150, 12)],
        [[(0.3, 0.05), (0.25, 0.45)] + arc(0.5, 0.68, 0.3, 0.27, -120, 150, 12), [(0.3, 0.05), (0.8, 0.05)]]],
    6: [[[(0.7, 0.05), (0.4, 0.3)] + arc(0.5, 0.68, 0.28, 0.27, 190, 540, 16)],
        [arc(0.75, 0.55, 0.5, 0.5, 240, 180, 6) + arc(0.5, 0.7, 0.26, 0.25, 180, 530, 14)]],
    7: [[[(0.15, 0.08), (0.85, 0.08), (0.4, 0.95)]],
        [[(0.15, 0.08), (0.85, 0.08), (0.4, 0.95)], [(0.35, 0.5), (0.75, 0.5)]],
        [[(0.15, 0.2), (0.25, 0.08), (0.85, 0.08), (0.55, 0.5), (0.5, 0.95)]]],
    8: [[arc(0.5, 0.27, 0.25, 0.22, 90, 450, 14) + arc(0.5, 0.71, 0.3, 0.24, -90, 270, 14)],
        [[(0.7, 0.12), (0.5, 0.05), (0.3, 0.15), (0.35, 0.35), (0.7, 0.6), (0.72, 0.85), (0.5, 0.95),
          (0.28, 0.85), (0.3, 0.6), (0.65, 0.35), (0.7, 0.12)]]],
    9: [[arc(0.5, 0.3, 0.27, 0.25, 0, 360, 16) + [(0.77, 0.3), (0.72, 0.95)]],
        [arc(0.5, 0.3, 0.27, 0.25, 20, 380, 16) + [(0.75, 0.4), (0.55, 0.95)]],
        [arc(0.5, 0.3, 0.27, 0.25, 0, 360, 16) + [(0.77, 0.3), (0.75, 0.7)] + arc(0.5, 0.7, 0.25, 0.25, 0, 130, 6)]],
}


def written(digit: int, rng: np.random.Generator):
    """One way of writing `digit`, placed on the pad's unit square: random style, size, place,
    slant, turn and a wobbly hand. Returns strokes in unit coordinates."""
    strokes = STYLES[digit][rng.integers(len(STYLES[digit]))]
    size = rng.uniform(0.3, 0.8)  # the digit's height as a share of the pad
    aspect = rng.uniform(0.7, 1.1)
    slant, turn = rng.uniform(-0.3, 0.35), math.radians(rng.uniform(-10, 10))
    centre = 0.5 + rng.uniform(-0.5, 0.5, 2) * (1 - size) * 0.8
    wobble = rng.uniform(0.003, 0.012) * size / 0.5  # a steadier hand on a small digit
    placed = []
    for stroke in strokes:
        points = []
        for x, y in stroke:
            x, y = (x - 0.5) * aspect + slant * (0.5 - y), y - 0.5  # slant: the top moves right
            x, y = x * math.cos(turn) - y * math.sin(turn), x * math.sin(turn) + y * math.cos(turn)
            points.append((centre[0] + size * x + rng.normal(0, wobble), centre[1] + size * y + rng.normal(0, wobble)))
        placed.append([(min(max(x, 0.01), 0.99), min(max(y, 0.01), 0.99)) for x, y in points])
    return placed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# The pad's own drawing (draw.js redraw), with a chosen pen and colours, on a fresh canvas.
RENDER = """([strokes, side, pen, ink, paper]) => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = side;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = paper; ctx.fillRect(0, 0, side, side);
  ctx.strokeStyle = ink; ctx.fillStyle = ink; ctx.lineWidth = pen; ctx.lineCap = "round"; ctx.lineJoin = "round";
  for (const unit of strokes) {
    const stroke = unit.map(([x, y]) => [x * side, y * side]);
    ctx.beginPath(); ctx.moveTo(...stroke[0]);
    for (let i = 1; i < stroke.length - 1; i++) {
      const [x, y] = stroke[i]; const [nx, ny] = stroke[i + 1];
      ctx.quadraticCurveTo(x, y, (x + nx) / 2, (y + ny) / 2);
    }
    ctx.lineTo(...stroke[stroke.length - 1]); ctx.stroke();
  }
  return canvas.toDataURL("image/png");
}"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="tests/devset", help="folder to write (default: tests/devset)")
    parser.add_argument("--per-digit", type=int, default=12, help="drawings per digit on the pad (default: 12)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "digitnet.cli", "serve", "--port", str(port)])
    rows = []
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(200):
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(url)
            pad = page.locator("#pad")
            pad.wait_for()
            for round_ in range(args.per_digit):
                for digit in range(10):
                    strokes = written(digit, rng)
                    page.locator("#clear").click()
                    box = pad.bounding_box()
                    for stroke in strokes:
                        page.mouse.move(box["x"] + stroke[0][0] * box["width"], box["y"] + stroke[0][1] * box["height"])
                        page.mouse.down()
                        for x, y in stroke[1:]:
                            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=4)
                        page.mouse.up()
                    name = f"{len(rows):03d}.png"
                    data = page.evaluate("document.querySelector('#pad').toDataURL('image/png')")
                    (out / name).write_bytes(base64.b64decode(data.split(",", 1)[1]))
                    rows.append((name, digit, "page pad, mouse", "pad's pen (1/12 of the pad)"))
                    # The same strokes, other pens: on a 280-pixel canvas, fine pen, marker, ink on paper.
                    if round_ % 2 == 0:
                        pen, ink, paper, kind = 2.5, "#000", "#fff", "fine pen, dark on white"
                    else:
                        pen, ink, paper, kind = 40, "#223", "#f4f1e8", "marker, dark on cream"
                    name = f"{len(rows):03d}.png"
                    data = page.evaluate(RENDER, [strokes, 280, pen, ink, paper])
                    (out / name).write_bytes(base64.b64decode(data.split(",", 1)[1]))
                    rows.append((name, digit, "browser canvas", kind))
                print(f"round {round_ + 1}/{args.per_digit}: {len(rows)} images", file=sys.stderr)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    with open(out / "labels.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["file", "digit", "source", "pen"])
        writer.writerows(rows)
    print(f"wrote {len(rows)} images and labels.csv to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
