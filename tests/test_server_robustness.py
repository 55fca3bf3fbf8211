"""The explorer's server under hostile and heavy use, over real HTTP.

test_web_api.py checks every endpoint's validation in-process (TestClient). This file starts the
real thing, `python -m digitnet.cli serve --port P` on a free loopback port, and sends it what no
browser would: bytes that are not UTF-8, JSON cut short or nested 100,000 deep, numbers beyond
float range, 50 MB bodies (declared or chunked), a PNG decompression bomb and a truncated PNG inside
a data URL, garbage base64, broken HTTP framing; then a property-based run over its own OpenAPI
schema, and eight users drawing at once, each naming one of two models, while more are loaded.

Every answer must be a 4xx with one readable line in {"detail": "..."} (never a 5xx, a hang or a
dead process), and afterwards the server must still read a drawn "1" as a 1. Speed is measured by
benchmarks/load_test.py, not here.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import zlib
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from benchmarks.drawing import digit_like_strokes
from digitnet.modelfile import default_model_path, save_model
from digitnet.network import Network
from digitnet.web.middleware import MAX_BODY_BYTES
from digitnet.web.routes_predictions import MAX_DRAWING_PIXELS

SOURCE = Path(__file__).resolve().parent.parent / "src"
START_SECONDS = 30  # a cold start (imports, model load) takes ~2 s; allow for a busy machine
VIDEO_SIZES = [784, 16, 16, 10]
SMALL_SIZES = [784, 8, 10]
CANVAS = 280  # the page's drawing pad, in canvas pixels
PEN = CANVAS / 12  # the page's stroke width (draw.js: STROKE_FRACTION)
ONE = [[(148, 40), (132, 240)]]  # a "1" the shipped model reads as 1
JSON = {"Content-Type": "application/json"}


# ---- the server ------------------------------------------------------------------------------------

@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def status(self, field: str) -> int:
        """A `VmRSS`-style field of the process's /proc status, in kB."""
        with open(f"/proc/{self.process.pid}/status") as status:
            return int(next(line.split()[1] for line in status if line.startswith(field + ":")))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(models_dir: Path, log: Path) -> Server:
    """`digitnet serve` on a free loopback port, once it answers /api/model (a port taken meanwhile: retry)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SOURCE), os.environ.get("PYTHONPATH")]))}
    for _ in range(3):
        port = free_port()
        with open(log, "ab") as output:
            process = subprocess.Popen([sys.executable, "-m", "digitnet.cli", "serve", "--port", str(port),
                                        "--models-dir", str(models_dir)],
                                       stdout=output, stderr=subprocess.STDOUT, env=env)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_SECONDS
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if httpx.get(url + "/api/model", timeout=2).status_code == 200:
                    return Server(url, process, log)
            except httpx.TransportError:
                time.sleep(0.05)
        process.kill()
        process.wait()
        if "cannot listen" not in log.read_text(errors="replace"):
            break
    pytest.fail(f"digitnet serve did not start:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The real server, with a models folder: the video's network, a smaller 784-8-10 one, a broken file."""
    models = tmp_path_factory.mktemp("models")
    shutil.copy(default_model_path(), models / "video.safetensors")
    save_model(models / "small.safetensors", Network(tuple(SMALL_SIZES), seed=1), {"history": []})
    (models / "broken.safetensors").write_bytes(b"not a model")
    running = start_server(models, tmp_path_factory.mktemp("log") / "serve.log")
    yield running
    running.process.terminate()
    try:
        running.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        running.process.kill()
        running.process.wait()
    log = running.log.read_text(errors="replace")
    # uvicorn logs a request it cannot parse as a warning (the raw-socket tests send some); a crash is a traceback.
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log[-3000:]


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


# ---- drawings and hostile pictures -----------------------------------------------------------------

def canvas_png(strokes, size=CANVAS) -> bytes:
    """The page's canvas as PNG bytes: opaque black RGBA, white round-capped strokes through the points."""
    canvas = Image.new("RGBA", (size, size), (0, 0, 0, 255))
    pen = ImageDraw.Draw(canvas)
    width = round(PEN * size / CANVAS)
    for stroke in strokes:
        pen.line(stroke, fill="white", width=width, joint="curve")
        for x, y in (stroke[0], stroke[-1]):
            pen.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill="white")
    buffer = io.BytesIO()
    canvas.save(buffer, "PNG")
    return buffer.getvalue()


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int) -> bytes:
    """A grey PNG of `width` x `height` black pixels: a few hundred kB that inflate to width*height bytes.

    Rows of zeros (filter byte 0 + `width` zero bytes) deflate to a block that is repeated rather than
    recompressed; the stream ends with an empty final block and the Adler-32 of everything.
    """
    rows_per_block = 1000
    raw_block = b"\0" * ((width + 1) * rows_per_block)
    compressor = zlib.compressobj(9)
    block = compressor.compress(raw_block) + compressor.flush(zlib.Z_SYNC_FLUSH)  # byte-aligned, not final
    header, body = block[:2], block[2:]
    blocks, adler = height // rows_per_block, 1
    for _ in range(blocks):
        adler = zlib.adler32(raw_block, adler)
    stream = header + body * blocks + b"\x03\x00" + struct.pack(">I", adler)  # 03 00: empty final fixed block
    ihdr = struct.pack(">IIBBBBB", width, blocks * rows_per_block, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", stream) + png_chunk(b"IEND", b"")


def png_with_text_bomb() -> bytes:
    """A good drawing of a 1 carrying a zTXt comment that inflates to 16 MB (Pillow stops at 1 MB)."""
    good = canvas_png(ONE)
    comment = b"Comment\0\0" + zlib.compress(b"\0" * 16_000_000, 9)
    end_of_ihdr = 8 + 25
    return good[:end_of_ihdr] + png_chunk(b"zTXt", comment) + good[end_of_ihdr:]


# ---- what every answer must look like -------------------------------------------------------------

def assert_clear_4xx(response: httpx.Response, status: int | None = None) -> str:
    """A 4xx (or exactly `status`) whose body is {"detail": one line of text}; returns the line."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    if status is not None:
        assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str) and body["detail"].strip(), body
    assert "\n" not in body["detail"]
    return body["detail"]


def assert_still_serving(server: Server) -> None:
    """The process is alive and reads a freshly drawn 1 as a 1, over a new connection."""
    assert server.process.poll() is None, f"the server died:\n{server.log.read_text(errors='replace')[-3000:]}"
    answer = httpx.post(server.url + "/api/predict", json={"image": data_url(canvas_png(ONE))}, timeout=30)
    assert answer.status_code == 200, answer.text[:500]
    assert answer.json()["digit"] == 1


# ---- malformed bodies, through httpx --------------------------------------------------------------

DEPTH = 100_000
PIXELS_AFTER_FIRST = b", 0" * 783 + b"]}"
MALFORMED_BODIES = {
    "invalid UTF-8 inside a string": ("/api/predict", b'{"image": "\xff\xfe\xfd"}'),
    "invalid UTF-8 as the name of a model": ("/api/model/select", b'{"name": "\xc3\x28.safetensors"}'),
    "a lone UTF-16 surrogate escaped": ("/api/model/select", b'{"name": "\\ud800.safetensors"}'),
    "JSON cut off inside the pixels": ("/api/predict", b'{"pixels": [0.1, 0.2'),
    "JSON cut off inside the data URL": ("/api/predict", b'{"image": "data:image/png;base64,iVBORw0K'),
    "JSON cut off after the key": ("/api/model/select", b'{"name": '),
    "a lone opening brace": ("/api/predict", b"{"),
    "arrays nested 100,000 deep as pixels": ("/api/predict", b'{"pixels": ' + b"[" * DEPTH + b"]" * DEPTH + b"}"),
    "objects nested 100,000 deep as image": ("/api/predict",
                                             b'{"image": ' + b'{"a": ' * DEPTH + b"1" + b"}" * DEPTH + b"}"),
    "arrays nested 100,000 deep, unclosed": ("/api/predict", b"[" * DEPTH),
    "arrays nested 100,000 deep as a name": ("/api/model/select", b'{"name": ' + b"[" * DEPTH + b"]" * DEPTH + b"}"),
    "a pixel of 1e400 (infinite as a float)": ("/api/predict", b'{"pixels": [1e400' + PIXELS_AFTER_FIRST),
    "a pixel of -1e400": ("/api/predict", b'{"pixels": [-1e400' + PIXELS_AFTER_FIRST),
    "a pixel of 10**400 as an integer": ("/api/predict", b'{"pixels": [1' + b"0" * 400 + PIXELS_AFTER_FIRST),
    "a pixel of 5000 digits": ("/api/predict", b'{"pixels": [' + b"9" * 5000 + PIXELS_AFTER_FIRST),  # > int limit
    "pixels as strings": ("/api/predict", b'{"pixels": [' + b", ".join([b'"0.5"'] * 784) + b"]}"),
    "a model name as a number": ("/api/model/select", b'{"name": 1e400}'),
    "a JSON string instead of an object": ("/api/model/select", b'"video.safetensors"'),
    "null": ("/api/predict", b"null"),
}


@pytest.mark.parametrize("path, body", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
def test_malformed_json_is_a_clear_4xx_and_the_server_carries_on(server, http, path, body):
    assert_clear_4xx(http.post(path, content=body, headers=JSON))
    assert_still_serving(server)


# FastAPI answers a body that json.loads gives up on before parsing (not UTF-8, nested past Python's
# recursion limit, an integer over 4300 digits) with a bare 400 "There was an error parsing the body",
# unlike every other bad body (422 "the body is not valid JSON (...)"). Fix reported to the lead.
@pytest.mark.parametrize("body", [b'{"image": "\xff\xfe\xfd"}',
                                  b'{"pixels": ' + b"[" * DEPTH + b"]" * DEPTH + b"}",
                                  b'{"pixels": [' + b"9" * 5000 + PIXELS_AFTER_FIRST],
                         ids=["not UTF-8", "nested 100,000 deep", "5000-digit integer"])
def test_unreadable_json_is_explained_like_other_bad_json(http, body):
    assert "not valid JSON" in assert_clear_4xx(http.post("/api/predict", content=body, headers=JSON), 422)


FIFTY_MB = 50 * 1024 * 1024


def test_a_50_mb_body_with_content_length_is_refused_at_once(server, http):
    body = b'{"image": "' + b"A" * FIFTY_MB + b'"}'
    response = http.post("/api/predict", content=body, headers=JSON)
    assert "too large" in assert_clear_4xx(response, 413)
    assert_still_serving(server)


def test_a_50_mb_chunked_body_without_content_length_is_refused_while_reading(server, http):
    sent = 0

    def chunks():  # httpx sends a generator with Transfer-Encoding: chunked and no Content-Length
        nonlocal sent
        yield b'{"image": "'
        for _ in range(50):
            sent += 1
            yield b"A" * (1024 * 1024)

    response = http.post("/api/predict", content=chunks(), headers=JSON)
    assert "too large" in assert_clear_4xx(response, 413)
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert_still_serving(server)


def test_a_body_just_over_the_limit_is_refused_and_one_just_under_is_read(server, http):
    padding = b" " * (MAX_BODY_BYTES - 20_000)  # JSON allows whitespace between tokens
    body = b'{"pixels": [' + b", ".join([b"0"] * 784) + b"]" + padding + b"}"
    assert len(body) <= MAX_BODY_BYTES
    assert http.post("/api/predict", content=body, headers=JSON).status_code == 200
    over = body[:-1] + b" " * (MAX_BODY_BYTES + 1 - len(body)) + b"}"
    assert len(over) == MAX_BODY_BYTES + 1
    assert_clear_4xx(http.post("/api/predict", content=over, headers=JSON), 413)
    assert_still_serving(server)


# ---- hostile pictures inside a data URL -----------------------------------------------------------

def hostile_images():
    good = canvas_png(ONE)
    return {
        # 25 megapixels: over the explorer's 4 MP limit, under Pillow's own bomb limit (89 MP).
        "a bomb of 5000x5000 pixels": data_url(png_bomb(5000, 5000)),
        # 400 megapixels: over twice Pillow's limit, so Pillow itself refuses it on opening.
        "a bomb of 20000x20000 pixels": data_url(png_bomb(20_000, 20_000)),
        "a bomb in a zTXt comment": data_url(png_with_text_bomb()),
        "a PNG cut in half": data_url(good[:len(good) // 2]),
        "a PNG cut after its header": data_url(good[:33]),
        "a PNG with its pixels' checksum broken": data_url(good[:-20] + bytes([good[-20] ^ 0xFF]) + good[-19:]),
        "only the PNG signature": data_url(good[:8]),
        "garbage base64": "data:image/png;base64,!!!@@@###$$$",
        "base64 of random bytes": data_url(random.Random(6).randbytes(3000)),
        "base64 with a stray =": "data:image/png;base64,iVBO=Rw0KGgo=",
        "base64 cut mid-quantum": data_url(good)[:-3],
        "a data URL with nothing after the comma": "data:image/png;base64,",
        "a data URL that is not base64": "data:image/png,%89PNG",
        "an SVG": "data:image/svg+xml;base64," + base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg"/>')
        .decode(),
        "NUL characters": "\0" * 1000,
        "an emoji": "\N{GRINNING FACE}" * 100,
    }


HOSTILE_IMAGES = hostile_images()
# Damaged after the last pixel: reading it (as browsers do) or refusing it are both fine answers.
COMPLETE_BUT_DAMAGED = {"a PNG without its IEND chunk": canvas_png(ONE)[:-12],
                        "a PNG with junk after its IEND chunk": canvas_png(ONE) + b"\0junk" * 1000}


@pytest.mark.parametrize("image", HOSTILE_IMAGES.values(), ids=HOSTILE_IMAGES.keys())
def test_hostile_pictures_are_a_clear_4xx_and_the_server_carries_on(server, http, image):
    started = time.monotonic()
    detail = assert_clear_4xx(http.post("/api/predict", json={"image": image}))
    assert detail.startswith("image")  # says which field was wrong
    assert time.monotonic() - started < 20, "a bomb must be refused, not decoded"
    assert_still_serving(server)


@pytest.mark.parametrize("png", COMPLETE_BUT_DAMAGED.values(), ids=COMPLETE_BUT_DAMAGED.keys())
def test_damage_after_the_pixels_is_read_or_refused_clearly(server, http, png):
    response = http.post("/api/predict", json={"image": data_url(png)})
    if response.status_code == 200:
        assert response.json()["digit"] == 1
    else:
        assert_clear_4xx(response)
    assert_still_serving(server)


# A 400-megapixel bomb is refused by Pillow before the server's own size check sees it, so the user is
# told preprocess's limit (40 MP, 422) instead of the explorer's (16 MP, 413). Fix reported to the lead.
def test_every_oversized_picture_is_told_the_explorers_limit(http):
    limit = f"{MAX_DRAWING_PIXELS // 1_000_000} megapixels"
    for image in (HOSTILE_IMAGES["a bomb of 5000x5000 pixels"], HOSTILE_IMAGES["a bomb of 20000x20000 pixels"]):
        assert limit in assert_clear_4xx(http.post("/api/predict", json={"image": image}), 413)


# ---- broken HTTP, through a raw socket ------------------------------------------------------------

def raw_exchange(server: Server, request: bytes, half_close: bool = False) -> bytes:
    """Send `request` bytes as they are; return what came back before the server closed (or 5 s passed)."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(request)
        if half_close:
            connection.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return answer


def post_head(headers: bytes) -> bytes:
    return b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + headers + b"\r\n"


@pytest.mark.parametrize("request_bytes", [
    post_head(b"Content-Length: abc\r\n") + b"{}",
    post_head(b"Content-Length: -5\r\n") + b"{}",
    post_head(b"Content-Length: 99999999999999999999999\r\n") + b"{}",
    post_head(b"Transfer-Encoding: chunked\r\n") + b"zz\r\nhello\r\n0\r\n\r\n",
    b"\x00\x01\x02 not HTTP at all\r\n\r\n",
    b"GET /api/model HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 200_000 + b"\r\n\r\n",
], ids=["Content-Length abc", "Content-Length -5", "Content-Length 10**23", "a chunk size zz", "not HTTP",
        "a 200 kB header"])
def test_broken_http_framing_is_a_4xx_from_uvicorn(server, request_bytes):
    # uvicorn refuses these before the app runs, as plain text: a 4xx is all one can ask of it.
    answer = raw_exchange(server, request_bytes)
    assert answer.startswith(b"HTTP/1.1 4"), answer[:300]
    assert_still_serving(server)


def test_a_huge_declared_body_is_refused_before_it_is_sent(server):
    answer = raw_exchange(server, post_head(b"Content-Length: %d\r\n" % FIFTY_MB))  # and no body at all
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b'"detail"' in answer
    assert_still_serving(server)


@pytest.mark.parametrize("request_bytes", [
    post_head(b"Content-Length: 100000\r\n") + b'{"pixels": [0.1, 0.2',
    post_head(b"Transfer-Encoding: chunked\r\n") + b'100\r\n{"pix',
], ids=["fewer bytes than declared", "a chunk cut short"])
def test_a_client_that_hangs_up_mid_body_costs_nothing(server, request_bytes):
    raw_exchange(server, request_bytes, half_close=True)  # no answer is owed to a client that left
    assert_still_serving(server)


# ---- property-based: whatever the body or path, never a 5xx ---------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(
        st.sampled_from(["image", "pixels", "name", "label"]) | st.text(max_size=5), inner, max_size=3),
    max_leaves=20)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: json.dumps(value).encode()),  # NaN and Infinity included
    st.builds(lambda fill, index, odd: json.dumps({"pixels": [fill] * index + [odd] + [fill] * (783 - index)}).encode(),
              st.floats(0, 1), st.integers(0, 783), st.floats() | st.integers() | st.text(max_size=3)),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", max_size=200)
    .map(lambda text: json.dumps({"image": "data:image/png;base64," + text}).encode()),
)
path_parts = st.text(min_size=1, max_size=30).map(lambda text: urllib.parse.quote(text, safe=""))
quick = settings(max_examples=150, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                 suppress_health_check=list(HealthCheck))


def test_any_body_to_any_post_endpoint_is_answered_without_a_5xx(server, http):
    @quick
    @given(path=st.sampled_from(["/api/predict", "/api/model/select"]), body=bodies)
    def post(path, body):
        response = http.post(path, content=body, headers=JSON)
        if response.status_code >= 400:
            assert_clear_4xx(response)

    post()
    http.post("/api/model/select", json={"name": "video.safetensors"})  # in case a name hit small.safetensors
    assert_still_serving(server)


def test_any_path_parameters_are_answered_without_a_5xx(server, http):
    @quick
    @given(template=st.sampled_from(["/api/neuron/{}/{}", "/api/layer/{}", "/api/examples?count={}&start={}"]),
           first=path_parts, second=path_parts)
    def get(template, first, second):
        response = http.get(template.format(first, second))
        if response.status_code >= 400:
            assert response.status_code < 500, response.text[:500]
            assert isinstance(response.json().get("detail"), str)

    get()
    assert_still_serving(server)


def test_schemathesis_finds_no_5xx_in_the_servers_own_openapi(server):
    """Positive and negative cases for every documented operation, generated from /openapi.json."""
    schemathesis = pytest.importorskip("schemathesis")
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_url(server.url + "/openapi.json", timeout=10)
    cases = st.one_of(schema.as_strategy(GenerationMode.POSITIVE), schema.as_strategy(GenerationMode.NEGATIVE))
    answered = set()

    @settings(quick, max_examples=150)
    @given(case=cases)
    def call(case):
        response = case.call(base_url=server.url, timeout=30)
        answered.add(case.operation.label)
        assert response.status_code < 500, (case.as_curl_command(), response.status_code, response.text[:500])
        if response.status_code >= 400:
            detail = response.json().get("detail")
            assert isinstance(detail, str) and detail, (case.as_curl_command(), response.text[:500])

    call()
    assert len(answered) >= 5  # most of the six operations were reached
    httpx.post(server.url + "/api/model/select", json={"name": "video.safetensors"}, timeout=30)
    assert_still_serving(server)


# ---- eight users at once ---------------------------------------------------------------------------

BURST_SECONDS = 4
DRAWERS = 7  # each naming one of two models (or none) per drawing, plus one thread loading models


def check_prediction(answer: dict, expected_sizes: list[int]) -> None:
    """Self-consistent, and from the model asked for: its shapes throughout, probabilities, the guess."""
    sizes = [len(a) for a in answer["activations"]]
    assert sizes == expected_sizes, sizes
    assert [len(z) for z in answer["weighted_sums"]] == sizes[1:]
    assert math.isclose(sum(answer["probabilities"]), 1, abs_tol=1e-3)
    assert answer["digit"] == max(range(10), key=answer["probabilities"].__getitem__)


def test_eight_users_at_once_on_two_models_each_get_their_own_models_answers(server):
    stop_at = time.monotonic() + BURST_SECONDS
    problems, predictions = [], [0] * DRAWERS

    def recording_failures(user):  # an exception in a thread would otherwise only be printed
        def run(*args):
            try:
                user(*args)
            except Exception as error:
                problems.append((user.__name__, repr(error)))
        return run

    @recording_failures
    def drawer(number):
        rng = random.Random(number)
        with httpx.Client(base_url=server.url, timeout=60) as client:
            while time.monotonic() < stop_at:
                name, sizes = rng.choice([(None, VIDEO_SIZES), ("small.safetensors", SMALL_SIZES),
                                          ("video.safetensors", VIDEO_SIZES)])
                model = {} if name is None else {"model": name}
                strokes = digit_like_strokes(rng)
                for stroke_count in range(1, len(strokes) + 1):  # the canvas grows stroke by stroke
                    drawn = strokes[:stroke_count]
                    response = client.post("/api/predict", params=model, json={"image": data_url(canvas_png(drawn))})
                    if response.status_code != 200:
                        problems.append(("predict", response.status_code, response.text[:300]))
                        continue
                    try:
                        check_prediction(response.json(), sizes)
                    except AssertionError as error:
                        problems.append(("predict", name, repr(error)))
                    predictions[number] += 1
                # A click on a neuron, the matrix view, the example strip of the same model.
                for path in (f"/api/neuron/1/{rng.randrange(8)}", f"/api/layer/{rng.choice([1, 2])}",
                             "/api/examples?count=4")[:rng.randint(1, 3)]:
                    response = client.get(path, params=model)
                    if response.status_code != 200:
                        problems.append((path, response.status_code, response.text[:300]))

    @recording_failures
    def loader():  # pages opening with another model, all the while
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for turn in range(10_000):
                if time.monotonic() >= stop_at:
                    break
                name, sizes = [("small.safetensors", SMALL_SIZES), ("video.safetensors", VIDEO_SIZES)][turn % 2]
                response = client.post("/api/model/select", json={"name": name})
                if response.status_code != 200 or response.json()["layer_sizes"] != sizes:
                    problems.append(("select", name, response.status_code, response.text[:300]))
                time.sleep(0.2)
            client.post("/api/model/select", json={"name": "video.safetensors"})

    threads = [threading.Thread(target=drawer, args=(n,)) for n in range(DRAWERS)]
    threads.append(threading.Thread(target=loader))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=BURST_SECONDS + 60)
    assert not any(thread.is_alive() for thread in threads), "a client is still waiting for an answer"
    assert problems == []
    assert all(count >= 1 for count in predictions), predictions  # every user got answers
    assert_still_serving(server)


# ---- big pictures at once --------------------------------------------------------------------------

BIG_SIDE = 2000  # 4 megapixels, the explorer's limit: a photo, or a hostile client
CONCURRENT_BIG = 16


# An accepted picture takes ~35 bytes per pixel to prepare (4 MP RGBA: ~140 MB); uvicorn's thread pool
# would prepare 40 at once (forty 16 MP pictures once cost +2.3 GB). The server prepares one at a time.
def test_big_pictures_at_once_do_not_multiply_the_servers_memory(server):
    if not os.access(f"/proc/{server.process.pid}/clear_refs", os.W_OK):
        pytest.skip("needs Linux's /proc/PID/clear_refs to measure peak memory")
    picture = Image.new("RGBA", (BIG_SIDE, BIG_SIDE), (0, 0, 0, 255))
    ImageDraw.Draw(picture).line([(BIG_SIDE // 2, BIG_SIDE // 10), (BIG_SIDE // 2, BIG_SIDE * 9 // 10)],
                                 fill="white", width=BIG_SIDE // 12)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    body = {"image": data_url(buffer.getvalue())}
    del picture

    def peak_growth_mb(users: int) -> float:
        with open(f"/proc/{server.process.pid}/clear_refs", "w") as clear:
            clear.write("5")  # resets VmHWM, the peak resident memory, to the current VmRSS
        before = server.status("VmRSS")
        answers = []

        def post():
            answers.append(httpx.post(server.url + "/api/predict", json=body, timeout=120).status_code)

        threads = [threading.Thread(target=post) for _ in range(users)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answers == [200] * users
        return (server.status("VmHWM") - before) / 1024

    one = peak_growth_mb(1)
    many = peak_growth_mb(CONCURRENT_BIG)
    # Bounded: one prepared at a time, so sixteen at once cost about what one does (unbounded: ~16x).
    assert many < max(2.5 * one, 250), f"one picture: +{one:.0f} MB; {CONCURRENT_BIG} at once: +{many:.0f} MB"
    assert_still_serving(server)


def test_a_key_with_a_line_break_is_named_on_one_line(server, http):
    # found by the property above: pydantic names an extra key in its message, and a key is the client's text
    response = http.post("/api/model/select", content=json.dumps({"name": "x", "a\nb\u2028c": 1}).encode(),
                         headers=JSON)
    line = assert_clear_4xx(response)
    assert "a\\nb" in line
