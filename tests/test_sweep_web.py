"""web/routes_sweeps.py and static/sweeps.js: a sweep database opened by a real server and page.

The explorer's app is being restructured elsewhere, so this test mounts the router on an app of
its own (as the explorer will) behind a real uvicorn, and loads sweeps.js in a real Chromium."""

import io
import shutil
import socket
import sqlite3
import threading
import time
import warnings
from importlib import resources
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from PIL import Image

from digitnet.modelfile import load_model
from digitnet.sweep import open_results, parse_spec, run_sweep
from digitnet.sweep.runner import models_folder
from digitnet.web.routes_sweeps import sweeps_router

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
TEST_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>sweeps</title></head>
<body><section id="sweeps"></section>
<script type="module">import { mountSweeps } from "/static/sweeps.js"; mountSweeps(document.getElementById("sweeps"));
</script></body></html>"""


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweeps")
    spec = parse_spec({"name": "web", "seeds": 2, "save_models": True, "data": {"train_images": 500},
                       "grid": {"structures": [{"hidden_layers": [16, 16]}, {"hidden_layers": [6]},
                                               {"hidden_layers": [], "activation": "relu"}], "epochs": 1}})
    with open_results(folder / "web.sqlite") as database:
        run_sweep(spec, database, n_jobs=1)
    sqlite3.connect(folder / "foreign.sqlite").execute("CREATE TABLE invoices (id INTEGER)")
    (folder / "secret.safetensors").write_bytes(b"not for the web")
    return folder


@pytest.fixture(scope="module")
def server(sweep_folder):
    uvicorn = pytest.importorskip("uvicorn")
    app = FastAPI()
    app.include_router(sweeps_router([sweep_folder / "web.sqlite", sweep_folder / "foreign.sqlite"],
                                     models_dir=models_folder(sweep_folder / "web.sqlite")))
    script = (resources.files("digitnet.web") / "static" / "sweeps.js").read_bytes()
    app.get("/")(lambda: HTMLResponse(TEST_PAGE))
    app.get("/static/sweeps.js")(lambda: Response(script, media_type="text/javascript"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_the_api_lists_the_databases_and_reports_a_sweep(server):
    listing = httpx.get(server + "/api/sweeps").json()
    assert [s["name"] for s in listing] == ["web.sqlite", "foreign.sqlite"]
    assert listing[0]["runs"] == 6 and listing[0]["points"] == 3 and listing[0]["error"] is None
    assert "not one of digitnet's" in listing[1]["error"]
    sweep = httpx.get(server + "/api/sweeps/web.sqlite").json()
    means = [p["test_mean"] for p in sweep["points"]]
    assert means == sorted(means, reverse=True) and sweep["points"][0]["pareto"]
    video = [p for p in sweep["points"] if p["video_network"]]
    assert len(video) == 1 and video[0]["parameter_count"] == 13_002
    for point in sweep["points"]:
        assert point["seeds"] == 2 and len(point["runs"]) == 2
        for run in point["runs"]:
            assert run["model"]["open_url"] == f"/?model={run['key']}.safetensors"
            model = httpx.get(server + run["model"]["download_url"])
            assert model.status_code == 200
            assert load_model(_saved(model.content)).network.layer_sizes \
                == tuple(point["layer_sizes"])
    for url in sweep["pictures"]:
        picture = httpx.get(server + url)
        assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
        with Image.open(io.BytesIO(picture.content)) as image:
            assert image.size[0] >= 700


def _saved(content: bytes) -> Path:
    """The downloaded bytes as a file, for load_model."""
    import tempfile
    path = Path(tempfile.mkdtemp()) / "m.safetensors"
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("path, status, problem", [
    ("/api/sweeps/nope.sqlite", 404, "no sweep database"),
    ("/api/sweeps/foreign.sqlite", 422, "not one of digitnet's"),
    ("/api/sweeps/web.sqlite/pictures/weights.png", 404, "no picture"),
    ("/api/sweeps/web.sqlite/models/0000000000000000", 404, "no run"),
])
def test_bad_requests_are_one_line_4xx(server, path, status, problem):
    response = httpx.get(server + path)
    assert response.status_code == status and problem in response.json()["detail"]
    assert "\n" not in response.json()["detail"]


def test_a_database_cannot_make_the_server_hand_out_other_files(server, sweep_folder):
    copy = sweep_folder / "copy"
    copy.mkdir()
    shutil.copy(sweep_folder / "web.sqlite", copy / "web.sqlite")
    with sqlite3.connect(copy / "web.sqlite") as connection:
        key = connection.execute("SELECT key FROM runs LIMIT 1").fetchone()[0]
        connection.execute("UPDATE runs SET model_file = '../secret.safetensors' WHERE key = ?", (key,))
    router = sweeps_router([copy / "web.sqlite"])
    app = FastAPI()
    app.include_router(router)
    with warnings.catch_warnings():  # starlette suggests httpx2 for its TestClient; httpx is what we have
        warnings.filterwarnings("ignore", message=".*httpx2")
        from fastapi.testclient import TestClient
    client = TestClient(app)
    response = client.get(f"/api/sweeps/web.sqlite/models/{key}")
    assert response.status_code == 404 and b"not for the web" not in response.content
    point = next(p for p in client.get("/api/sweeps/web.sqlite").json()["points"] if key in [r["key"] for r in p["runs"]])
    assert next(r for r in point["runs"] if r["key"] == key)["model"] is None


@pytest.mark.browser
def test_the_page_shows_the_table_the_pictures_and_links_to_the_models(server):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(server + "/")
        page.wait_for_selector(".sweep-table tbody tr")
        rows = page.locator(".sweep-table tbody tr")
        assert rows.count() == 3
        assert "(the video's)" in page.locator(".sweep-table").inner_text()
        assert page.locator("#sweep-choice option").all_inner_texts() == ["web.sqlite: 6 runs",
                                                                          "foreign.sqlite (cannot open)"]
        links = page.locator(".sweep-table a")
        assert links.count() == 6 and links.first.get_attribute("href").startswith("/?model=")
        page.wait_for_function("[...document.images].length === 3 && "
                               "[...document.images].every((i) => i.complete && i.naturalWidth > 0)")
        page.select_option("#sweep-choice", "foreign.sqlite")
        page.wait_for_function("document.querySelector('[role=status]').textContent.includes('not one of')")
        assert page.locator(".sweep-table tr").count() == 0
        page.select_option("#sweep-choice", "web.sqlite")
        page.wait_for_selector(".sweep-table tbody tr")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "sweeps.png"), full_page=True)  # looked at by a person
        browser.close()
    assert errors == []


@pytest.mark.browser
def test_the_explorer_shows_a_sweep_given_to_digitnet_serve_and_opens_its_models(sweep_folder, tmp_path):
    """The real explorer (`digitnet serve --sweep FILE`, its models folder the sweep's): the Sweeps
    panel appears with the table, and a run's link opens that model in the explorer itself. Without
    --sweep the panel stays hidden, and a missing database is one line before anything is served."""
    import subprocess
    import sys

    from browser_helpers import CHROMIUM_ARGS, open_page
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from digitnet.web import create_app

    missing = subprocess.run([sys.executable, "-m", "digitnet.cli", "serve", "--sweep", str(tmp_path / "nope.sqlite")],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode != 0 and "nope.sqlite: no such file" in missing.stderr
    assert "Traceback" not in missing.stderr and len(missing.stderr.strip().splitlines()) == 1

    from browser_helpers import LiveServer
    with_sweep = LiveServer(create_app(models_dir=models_folder(sweep_folder / "web.sqlite"),
                                       sweeps=[sweep_folder / "web.sqlite"]))
    without = LiveServer(create_app())
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            page = open_page(browser, with_sweep.url)
            page.wait_for_selector("#sweeps:not([hidden]) .sweep-table tbody tr")
            assert page.locator("#sweeps .sweep-table tbody tr").count() == 3
            link = page.locator("#sweeps .sweep-table a").first
            href = link.get_attribute("href")
            assert href.startswith("/?model=")
            page.goto(with_sweep.url + href)
            page.wait_for_selector("body[data-ready=true]")
            name = href.split("=", 1)[1]
            assert name in page.inner_text("#model-line")
            plain = open_page(browser, without.url)
            assert plain.locator("#sweeps").is_hidden()
            assert page.errors == [] and plain.errors == []
            browser.close()
    finally:
        with_sweep.close()
        without.close()
