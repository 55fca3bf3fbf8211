"""A bounded load test of the explorer: N people drawing digits at once, on loopback.

Starts the real server (`python -m digitnet.cli serve --port P` on a free loopback port), or uses
the one at --url. Then --clients simulated users (threads, each with its own keep-alive connection,
like a browser tab) draw for --seconds:

  * a user draws one digit-like stroke at a time, point by point; after each new point the growing
    280x280 canvas (opaque black RGBA, white round pen 280/12 wide, as static/draw.js draws it) is
    sent as a PNG data URL to POST /api/predict, exactly as the page does: one request at a time,
    the next one --throttle-ms (default 70, the page's THROTTLE_MS) after the previous answer
    arrived; --throttle-ms 0 sends as fast as the server answers;
  * after each digit the user sometimes clicks a neuron (GET /api/neuron, 1 in 2), opens the matrix
    view (GET /api/layer, 1 in 5) or asks for more MNIST examples (GET /api/examples, 1 in 10).

Canvases are never blank (a blank drawing's 422 is intended, so none is sent); any other answer
than 2xx, and any connection error, counts as an error. Prints a markdown table of requests,
requests/s and latency percentiles (measured by the client, from sending to the whole answer read)
per endpoint; the server's resident memory (VmRSS from /proc/PID/status) at start, after warm-up (one
call to each endpoint, which makes the server read MNIST for /api/examples, then --warmup seconds of
load) and at the end; and the CPU both sides used. Exits 1 if there were errors or the memory grew after
warm-up by more than --max-growth-mb.

The client and the server share this machine's cores: on a small machine the figures are those of
both together (the CPU line says how much each took).

    python benchmarks/load_test.py                           # 20 users for 60 s, a server of its own
    python benchmarks/load_test.py --clients 5 --seconds 10
    python benchmarks/load_test.py --url http://127.0.0.1:8000 --pid 12345   # a running server
"""

from __future__ import annotations

import argparse
import base64
import io
import math
import os
import random
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from PIL import Image, ImageDraw

from drawing import digit_like_strokes  # benchmarks/drawing.py: python puts this script's folder on the path

SOURCE = Path(__file__).resolve().parents[1] / "src"
CANVAS = 280  # the page's drawing pad, in canvas pixels
PEN = CANVAS / 12  # draw.js: STROKE_FRACTION
ENDPOINTS = ("predict", "neuron", "layer", "examples")
CLICKS = (("neuron", 0.5), ("layer", 0.2), ("examples", 0.1))  # what a user does after a digit, how often


# ---- a user drawing --------------------------------------------------------------------------------

def canvas_data_url(strokes) -> str:
    """The pad as `canvas.toDataURL("image/png")` gives it: opaque black, white round-capped strokes."""
    canvas = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 255))
    pen = ImageDraw.Draw(canvas)
    width = round(PEN)
    for stroke in strokes:
        if len(stroke) > 1:
            pen.line(stroke, fill="white", width=width, joint="curve")
        for x, y in (stroke[0], stroke[-1]):
            pen.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill="white")
    buffer = io.BytesIO()
    canvas.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def growing_canvases(strokes):
    """Every state of the canvas while the strokes are drawn, a point at a time (from 2 points on)."""
    for s, stroke in enumerate(strokes):
        for n in range(2, len(stroke) + 1):
            yield strokes[:s] + [stroke[:n]]


@dataclass
class Record:
    latencies: dict = field(default_factory=lambda: defaultdict(list))  # endpoint -> [seconds]
    errors: dict = field(default_factory=lambda: defaultdict(int))  # endpoint -> count
    examples_of_errors: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, endpoint: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies[endpoint].append(seconds)
            if error:
                self.errors[endpoint] += 1
                if len(self.examples_of_errors) < 5:
                    self.examples_of_errors.append(f"{endpoint}: {error}")


def user(number: int, url: str, stop_at: float, throttle: float, layers: list[int], record: Record, seed: int):
    """One person at the page: draws digits until `stop_at`, clicking around between them."""
    rng = random.Random(seed * 1000 + number)

    def call(endpoint: str, method: str, path: str, **kwargs):
        started = time.perf_counter()
        try:
            response = client.request(method, path, **kwargs)
            answer = response.content
            error = None if response.is_success else f"{response.status_code} {answer[:200]!r}"
            if error is None and endpoint == "predict" and b'"digit"' not in answer:
                error = f"no digit in {answer[:200]!r}"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"
        record.add(endpoint, time.perf_counter() - started, error)

    with httpx.Client(base_url=url, timeout=60) as client:
        time.sleep(rng.uniform(0, 0.5))  # people do not all start on the same millisecond
        while time.monotonic() < stop_at:
            for canvas in growing_canvases(digit_like_strokes(rng)):
                if time.monotonic() >= stop_at:
                    return
                call("predict", "POST", "/api/predict", json={"image": canvas_data_url(canvas)})
                time.sleep(throttle)  # the page waits THROTTLE_MS after an answer before sending the next
            for endpoint, chance in CLICKS:
                if rng.random() < chance and time.monotonic() < stop_at:
                    layer = rng.choice(layers)
                    path = {"neuron": f"/api/neuron/{layer[0]}/{rng.randrange(layer[1])}",
                            "layer": f"/api/layer/{layer[0]}",
                            "examples": f"/api/examples?count=24&start={rng.randrange(10_000)}"}[endpoint]
                    call(endpoint, "GET", path)


# ---- the server and its memory ---------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server() -> tuple[subprocess.Popen, str, list[str]]:
    port = free_port()
    command = [sys.executable, "-m", "digitnet.cli", "serve", "--port", str(port)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SOURCE), os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.get(url + "/api/model", timeout=2).raise_for_status()
            return process, url, command
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    sys.exit(f"load_test: the server did not start: {process.communicate()[1].decode(errors='replace')[-2000:]}")


def memory_mb(pid: int | None, field_name: str = "VmRSS") -> float | None:
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith(field_name + ":")) / 1024
    except (OSError, StopIteration):
        return None


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time the process has used (from /proc/PID/stat)."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


# ---- the report ------------------------------------------------------------------------------------

def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def table(record: Record, seconds: float) -> list[str]:
    lines = ["| endpoint | requests | requests/s | p50 ms | p90 ms | p99 ms | max ms | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    rows = [(name, record.latencies.get(name, []), record.errors.get(name, 0)) for name in ENDPOINTS]
    rows.append(("**all**", [x for name in ENDPOINTS for x in record.latencies.get(name, [])],
                 sum(record.errors.values())))
    for name, latencies, errors in rows:
        if not latencies:
            lines.append(f"| {name} | 0 | 0 | - | - | - | - | {errors} |")
            continue
        ordered = sorted(latencies)
        ms = [1000 * percentile(ordered, q) for q in (0.5, 0.9, 0.99)] + [1000 * ordered[-1]]
        lines.append(f"| {name} | {len(ordered)} | {len(ordered) / seconds:.1f} | "
                     + " | ".join(f"{value:.0f}" for value in ms) + f" | {errors} |")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--clients", type=int, default=20, help="users drawing at once (one thread each)")
    parser.add_argument("--seconds", type=float, default=60, help="how long they draw")
    parser.add_argument("--url", help="a running explorer to load (None: start one on a free loopback port)")
    parser.add_argument("--pid", type=int, help="with --url: the server's process id, to read its memory")
    parser.add_argument("--throttle-ms", type=float, default=70,
                        help="pause after each answer before the next drawing is sent (the page's THROTTLE_MS; "
                             "0 = as fast as the server answers)")
    parser.add_argument("--warmup", type=float, default=10, help="seconds after which 'after warm-up' memory is read")
    parser.add_argument("--max-growth-mb", type=float, default=20,
                        help="fail if the server's memory grows more than this from warm-up to the end")
    parser.add_argument("--seed", type=int, default=0, help="seed of the users' random drawings")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0 or args.throttle_ms < 0:
        parser.error("--clients must be >= 1, --seconds > 0 and --throttle-ms >= 0")
    warmup = min(args.warmup, args.seconds / 3)

    process = None
    if args.url:
        url, pid, server_command = args.url.rstrip("/"), args.pid, None
    else:
        process, url, server_command = start_server()
        pid = process.pid
    try:
        info = httpx.get(url + "/api/model", timeout=10).json()
        sizes = info["layer_sizes"]
        layers = [(layer, sizes[layer]) for layer in range(1, len(sizes))]  # (layer, neurons in it)
        record = Record()
        rss = {"start": memory_mb(pid)}
        # Warm-up: every endpoint once (the first /api/examples reads MNIST and keeps it), then --warmup s of load.
        for path in ("/api/neuron/1/0", "/api/layer/1", "/api/examples?count=24"):
            httpx.get(url + path, timeout=60).raise_for_status()
        server_cpu_before, client_cpu_before = cpu_seconds(pid), sum(os.times()[:2])
        began = time.monotonic()
        stop_at = began + args.seconds
        users = [threading.Thread(target=user, args=(n, url, stop_at, args.throttle_ms / 1000, layers, record,
                                                     args.seed), daemon=True) for n in range(args.clients)]
        for thread in users:
            thread.start()
        time.sleep(warmup)
        rss["after warm-up"] = memory_mb(pid)
        trend = [(time.monotonic() - began, rss["after warm-up"])]  # (s, VmRSS MB): flat, or growing?
        while time.monotonic() < stop_at:
            time.sleep(min(args.seconds / 10, stop_at - time.monotonic()))
            trend.append((time.monotonic() - began, memory_mb(pid)))
        for thread in users:
            thread.join()
        elapsed = time.monotonic() - began
        rss["end"] = memory_mb(pid)
        peak = memory_mb(pid, "VmHWM")
        server_cpu = None if server_cpu_before is None else cpu_seconds(pid) - server_cpu_before
        client_cpu = sum(os.times()[:2]) - client_cpu_before
        alive = process is None or process.poll() is None
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()

    errors = sum(record.errors.values())
    this_command = " ".join(["python", "benchmarks/load_test.py"] + [shlex.quote(a) for a in (argv or sys.argv[1:])])
    print(f"## digitnet explorer under load: {args.clients} users drawing for {args.seconds:g} s\n")
    print(f"command: `{this_command}`")
    if server_command:
        print(f"server: `{' '.join(shlex.quote(part) for part in server_command)}` (pid {pid}), on loopback")
    else:
        print(f"server: {url}" + (f" (pid {pid})" if pid else " (no --pid: memory not measured)"))
    pace = (f"one request at a time, {args.throttle_ms:g} ms after each answer (the page's throttle)"
            if args.throttle_ms else "one request at a time, as fast as answers come")
    print(f"each user: {pace}; {os.cpu_count()} CPU cores shared by the client and the server\n")
    print("\n".join(table(record, elapsed)))
    print(f"\nwall time {elapsed:.1f} s; model {info.get('name')} {sizes}")
    cores = os.cpu_count() or 1
    if server_cpu is not None:
        print(f"CPU: server {server_cpu:.1f} s ({server_cpu / elapsed:.2f} cores), "
              f"client {client_cpu:.1f} s ({client_cpu / elapsed:.2f} cores), of {cores} cores")
    grew = None
    if None not in rss.values():
        grew = rss["end"] - rss["after warm-up"]
        print("\n| server memory (VmRSS) | MB |\n|---|---:|")
        for moment, value in rss.items():
            print(f"| {moment} | {value:.1f} |")
        print(f"| change after warm-up | {grew:+.1f} |")
        if peak is not None:
            print(f"| peak (VmHWM) | {peak:.1f} |")
        print("\nVmRSS during the run: " + ", ".join(f"{at:.0f} s {mb:.1f}" for at, mb in trend if mb is not None))
    print(f"\nserver alive at the end: {'yes' if alive else 'NO'}")
    for example in record.examples_of_errors:
        print(f"error: {example}")
    failed = errors > 0 or not alive or (grew is not None and grew > args.max_growth_mb)
    print(f"verdict: {'FAIL' if failed else 'ok'} ({errors} errors; memory "
          f"{'not measured' if grew is None else f'{grew:+.1f} MB after warm-up, limit {args.max_growth_mb:g}'})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
