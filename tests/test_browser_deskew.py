"""The explorer's shipped models by name, and one that learned on deskewed digits (the record), in a
real Chromium: the menu offers video, record and strong with no models folder, and for the record
"what the network sees" is the digit with its slant taken out, and the page says so."""

from __future__ import annotations

import numpy as np
import pytest

from browser_helpers import LiveServer, browser, draw, expect, open_page, screenshot  # noqa: F401 (fixture)
from digitnet.deskew import slants
from digitnet.web import create_app

LEANING_ONE = [[(0.36, 0.16), (0.64, 0.84)]]  # a 1 written with a strong slant


@pytest.fixture(scope="module")
def server():
    """`digitnet serve` as it starts with no models folder: the shipped models are still in the menu."""
    live = LiveServer(create_app())
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
    page = open_page(browser, server)
    try:
        options = page.locator("#model-select option")
        assert options.all_inner_texts() == ["default.safetensors", "video (shipped)", "record (shipped)",
                                             "strong (shipped)"]
        page.select_option("#model-select", "record")  # the record, by name, without any models folder
        expect(page.locator("#model-message")).to_contain_text("now showing record")
        expect(page.locator("#model-line")).to_contain_text("record")
        assert "model=record" in page.url
        expect(page.locator("#seen-deskewed")).to_be_visible()
        expect(page.locator("#model-facts")).to_contain_text("deskewed: each digit’s slant is taken out")
        assert draw(page, LEANING_ONE) == "1"
        upright = seen_pixels(page)
        screenshot(page, "deskewed-record-leaning-one.png")
        page.select_option("#model-select", "video")  # the video's network: the drawing as it is
        expect(page.locator("#model-message")).to_contain_text("now showing video")
        expect(page.locator("#seen-deskewed")).to_be_hidden()
        expect(page.locator("#model-facts")).not_to_contain_text("deskewed")
        assert draw(page, LEANING_ONE) == "1"
        as_drawn = seen_pixels(page)
        (slant_upright,), _, _ = slants(upright[np.newaxis])
        (slant_drawn,), _, _ = slants(as_drawn[np.newaxis])
        assert abs(slant_drawn) > 0.25  # the pad's 1 leans ...
        assert abs(slant_upright) < 0.05  # ... and the record's input stands upright
        page.reload()  # the address keeps the shipped model's name
        page.wait_for_selector("body[data-ready=true]")
        expect(page.locator("#model-line")).to_contain_text("video")
        page.select_option("#model-select", "strong")
        expect(page.locator("#model-line")).to_contain_text("784–800–10")
        assert page.errors == []
    finally:
        page.close()
