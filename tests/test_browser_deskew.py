"""The explorer with a model that learned on deskewed digits (the shipped record), in a real Chromium:
what the page shows as "what the network sees" is the digit with its slant taken out, and it says so."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from browser_helpers import LiveServer, browser, draw, expect, open_page, screenshot  # noqa: F401 (fixture)
from digitnet.deskew import slants
from digitnet.modelfile import default_model_path, shipped_models
from digitnet.web import create_app

LEANING_ONE = [[(0.36, 0.16), (0.64, 0.84)]]  # a 1 written with a strong slant


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    shutil.copy(shipped_models()["record"], models / "record.safetensors")
    shutil.copy(default_model_path(), models / "video.safetensors")
    live = LiveServer(create_app(models_dir=models))
    yield live.url
    live.close()


def seen_pixels(page) -> np.ndarray:
    """The "what the network sees" canvas, read back from the page: brightness `(784,)` in [0, 1]."""
    rgba = page.evaluate("""() => {
        const canvas = document.querySelector('#seen');
        return Array.from(canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data);
    }""")
    return np.array(rgba, dtype=np.float64).reshape(-1, 4)[:, 0] / 255


def test_the_page_shows_a_deskewing_model_the_digit_upright(browser, server):
    page = open_page(browser, server, path="/?model=record.safetensors")
    try:
        expect(page.locator("#model-line")).to_contain_text("record.safetensors")
        expect(page.locator("#seen-deskewed")).to_be_visible()
        assert draw(page, LEANING_ONE) == "1"
        upright = seen_pixels(page)
        screenshot(page, "deskewed-record-leaning-one.png")
        page.select_option("#model-select", "video.safetensors")  # the video's network: the drawing as it is
        expect(page.locator("#model-message")).to_contain_text("now showing video.safetensors")
        expect(page.locator("#seen-deskewed")).to_be_hidden()
        assert draw(page, LEANING_ONE) == "1"
        as_drawn = seen_pixels(page)
        (slant_upright,), _, _ = slants(upright[np.newaxis])
        (slant_drawn,), _, _ = slants(as_drawn[np.newaxis])
        assert abs(slant_drawn) > 0.25  # the pad's 1 leans ...
        assert abs(slant_upright) < 0.05  # ... and the record's input stands upright
        assert page.errors == []
    finally:
        page.close()
