"""Probing in a real browser: the test images a neuron likes most and least and the average of its
top 100, every first-layer weight picture as a grid, dream and explain, the forward pass played
layer by layer, and the honest signal when a drawing is unlike any digit."""

from __future__ import annotations

import math

import pytest

from browser_helpers import browser, draw, expect, in_viewport, open_page, page, screenshot, server  # noqa: F401

pytestmark = pytest.mark.browser

THREE = [[(0.3, 0.2), (0.55, 0.14), (0.7, 0.25), (0.6, 0.42), (0.45, 0.48), (0.62, 0.55), (0.72, 0.7),
          (0.6, 0.84), (0.32, 0.82)]]
X = [[(0.2, 0.2), (0.8, 0.8)], [(0.8, 0.2), (0.2, 0.8)]]
SMILEY = [[(0.5 + 0.38 * math.cos(2 * math.pi * k / 28), 0.5 + 0.38 * math.sin(2 * math.pi * k / 28)) for k in range(29)],
          [(0.36, 0.38), (0.37, 0.4)], [(0.64, 0.38), (0.65, 0.4)],
          [(0.32, 0.6), (0.42, 0.7), (0.58, 0.7), (0.68, 0.6)]]
DOT = [[(0.5, 0.5), (0.51, 0.51)]]


def number(page, selector):
    return float(page.inner_text(selector).replace("−", "-"))


def canvas_colours(page, selector):
    return page.evaluate("""(selector) => {
        const c = document.querySelector(selector);
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let green = 0, red = 0, lit = 0;
        for (let i = 0; i < data.length; i += 4) {
            if (data[i + 1] > Math.max(data[i], 40)) green++;
            if (data[i] > Math.max(data[i + 1], 40)) red++;
            if (data[i] + data[i + 1] + data[i + 2] > 60) lit++;
        }
        return {green, red, lit};
    }""", selector)


def test_the_images_a_neuron_likes_most_and_least(page):
    page.click(".neuron-button[data-layer='1'][data-index='5']")
    page.wait_for_selector("#inspector[data-neuron='1/5']")
    page.click("#probe-run")
    page.wait_for_selector("#probe[data-settled=true] #probe-top button")
    assert page.locator("#probe-top button").count() == 9 and page.locator("#probe-bottom button").count() == 9
    assert canvas_colours(page, "#probe-average")["lit"] > 50, "the average of the top 100 is a picture"
    assert "The average of its top 100: mostly" in page.inner_text("#probe")
    top = page.locator("#probe-top button").first
    z = float(top.get_attribute("title").split("z = ")[1].split(",")[0].replace("−", "-"))
    top.click()
    page.wait_for_selector("#guess[data-settled=true][data-source=example]")
    assert number(page, "#n-z") == pytest.approx(z, abs=0.02), "fed to the network, it gives the z it was ranked by"
    screenshot(page, "probe-1280x800.png")


def test_every_first_layer_weight_picture_as_a_grid(page):
    cells = page.locator("#weights-grid button")
    assert cells.count() == 16
    assert canvas_colours(page, "#weights-grid button[data-index='0'] canvas")["green"] > 20
    cells.nth(7).click()
    page.wait_for_selector("#inspector[data-neuron='1/7']")
    assert page.inner_text("#inspector-title") == "Hidden layer 1 · neuron 7"
    assert page.evaluate("[...document.querySelectorAll('#weights-grid button')].filter(b => b.tabIndex === 0).length") == 1


def test_dream_and_explain(page):
    page.select_option("#dream-digit", "3")
    page.click("#dream")
    page.wait_for_selector("#dream-panel[data-dreamed='3']")
    assert canvas_colours(page, "#dream-picture")["lit"] > 100
    caption = page.inner_text("#dream-caption")
    said = caption.split("reads it as ")[1].split(" ")[0]
    page.click("#dream-feed")
    page.wait_for_selector("#guess[data-settled=true][data-source=example]")
    assert page.inner_text("#guess") == said
    page.locator("#examples button").nth(2).click()
    page.wait_for_selector("#examples button[aria-pressed=true]")
    page.wait_for_selector("#guess[data-settled=true][data-source=example]")
    page.click("#explain")
    expect(page.locator("#dream-panel")).to_have_attribute("data-explained", page.inner_text("#guess"))
    colours = canvas_colours(page, "#explain-picture")
    assert colours["green"] > 10 and colours["red"] > 0, "pixels pushed the answer both up and down"


def layer_brightness(page, layer):
    """The summed brightness of the drawn neurons of `layer`, read from the canvas at each neuron's centre."""
    return page.evaluate("""(layer) => {
        const canvas = document.getElementById('net');
        const box = canvas.getBoundingClientRect();
        const ratio = canvas.width / box.width;
        const ctx = canvas.getContext('2d');
        let sum = 0;
        for (const b of document.querySelectorAll(`.neuron-button[data-layer='${layer}']`)) {
            const r = b.getBoundingClientRect();
            const x = Math.round((r.left + r.width / 2 - box.left) * ratio), y = Math.round((r.top + r.height / 2 - box.top) * ratio);
            const d = ctx.getImageData(x, y, 1, 1).data;
            sum += d[0] + d[1] + d[2];
        }
        return sum;
    }""", layer)


def test_play_lights_the_layers_in_order_and_step_moves_one(page):
    page.evaluate("""() => {
        window.revealed = [];
        new MutationObserver(() => window.revealed.push(document.getElementById('net').dataset.revealed))
            .observe(document.getElementById('net'), {attributes: true, attributeFilter: ['data-revealed']});
    }""")
    page.locator("#play-speed").fill("150")
    page.click("#play")
    expect(page.locator("#net")).to_have_attribute("data-revealed", "all")
    assert page.evaluate("window.revealed") == ["0", "1", "2", "3", "all"]
    page.click("#step")
    assert page.get_attribute("#net", "data-revealed") == "0"
    page.click("#step")
    assert page.get_attribute("#net", "data-revealed") == "1"
    assert "hidden layer 1 lights up" in page.inner_text("#play-status")
    assert layer_brightness(page, 1) > 0 and layer_brightness(page, 2) == 0, "hidden layer 2 waits dark"
    for expected in ("2", "3", "all"):
        page.click("#step")
        assert page.get_attribute("#net", "data-revealed") == expected
    assert layer_brightness(page, 2) > 0


@pytest.mark.parametrize("name, strokes, far", [("X", X, True), ("smiley", SMILEY, True), ("dot", DOT, True),
                                                 ("3", THREE, False)])
def test_the_far_from_digits_signal(page, name, strokes, far):
    draw(page, strokes)
    signal = page.locator("#far-signal")
    assert signal.get_attribute("data-far") == str(far).lower(), name
    if far:
        assert "unlike any digit" in signal.inner_text()
        if name == "X":
            assert in_viewport(page, "#far-signal"), "the warning is seen with the guess, at 1280x800"
            screenshot(page, "far-signal-1280x800-x.png")
    else:
        assert signal.is_hidden() and page.inner_text("#guess") == "3"
