"""End to end: the explorer page in a real headless Chromium, against a real uvicorn server.

Digits are drawn with the mouse, as a person would; screenshots go to test-artifacts/ (look at them).
"""

from __future__ import annotations

import pytest

from browser_helpers import (DESKTOP, ONE, PHONE, SEVEN, ZERO, browser, draw, expect, open_page, page,  # noqa: F401
                             screenshot, server, weight_colours)

pytestmark = pytest.mark.browser


def test_page_loads_everything_from_the_server_and_starts_with_an_example(page, server):
    assert page.inner_text("#guess") in "0123456789"
    assert page.get_attribute("#guess", "data-source") == "example"
    assert page.locator("#examples button").count() == 24
    assert page.locator("#examples button.wrong").count() >= 1
    assert "13,002" in page.inner_text("#model-facts")
    assert all(url.startswith(server) for url in page.requests), "the page must work offline (no CDN)"


@pytest.mark.parametrize("digit, strokes", [("0", ZERO), ("1", ONE), ("7", SEVEN)])
def test_drawn_digits_are_recognized(page, digit, strokes):
    assert draw(page, strokes) == digit
    assert page.get_attribute("#seen", "aria-label").startswith("What the network sees: the 28")
    if digit == "7":
        screenshot(page, "explorer-1280x800-drawn-7.png")


def test_the_guess_updates_while_drawing(page):
    page.click("#clear")
    pad = page.locator("#pad").bounding_box()
    answers = []
    page.on("response", lambda response: "/api/predict" in response.url and answers.append(response.status))
    page.mouse.move(pad["x"] + 0.5 * pad["width"], pad["y"] + 0.15 * pad["height"])
    page.mouse.down()
    for k in range(1, 8):
        # Each move of the pen, with the button down, must bring an answer before the pen lifts: wait
        # for it (the one under way, or the one this move sends), however fast the machine.
        with page.expect_response(lambda response: "/api/predict" in response.url):
            page.mouse.move(pad["x"] + 0.5 * pad["width"], pad["y"] + (0.15 + 0.1 * k) * pad["height"], steps=3)
    answers_before_lifting = len(answers)
    page.mouse.up()
    page.wait_for_selector("#guess[data-settled=true][data-source=drawing]")
    assert answers_before_lifting >= 2 and set(answers) == {200}


def test_undo_and_clear(page):
    draw(page, ONE + [[(0.2, 0.5), (0.8, 0.5)]])
    page.click("#undo")
    page.wait_for_selector("#guess[data-settled=true]")
    assert page.inner_text("#guess") == "1"
    page.click("#clear")
    page.wait_for_selector("#guess[data-settled=true]")
    assert page.inner_text("#guess") == "–"
    assert page.inner_text("#message") == ""


def test_a_hidden_neuron_shows_its_numbers_curve_and_weight_picture(page):
    draw(page, SEVEN)
    page.click(".neuron-button[data-layer='1'][data-index='5']")
    page.wait_for_selector("#inspector[data-neuron='1/5'] #picture-block:not([hidden])")
    assert page.inner_text("#inspector-title") == "Hidden layer 1 · neuron 5"
    for number in ("#n-bias", "#n-z", "#n-a"):
        float(page.inner_text(number).replace("−", "-"))
    page.uncheck("#overlay")  # the weights alone: both signs show
    colours = weight_colours(page)
    assert colours["green"] > 20 and colours["red"] > 20  # green where w > 0, red where w < 0
    page.locator("#weight-picture").hover()
    assert "weight w =" in page.inner_text("#hover-readout")
    screenshot(page, "explorer-1280x800-neuron.png")

    page.click(".neuron-button[data-layer='2'][data-index='3']")
    page.wait_for_selector("#inspector[data-neuron='2/3'] #bars-block:not([hidden])")
    assert page.locator("#weight-bars g.bar").count() == 16
    page.click(".neuron-button[data-layer='3'][data-index='7']")
    page.wait_for_selector("#inspector[data-neuron='3/7']")
    assert page.inner_text("#inspector-title") == "Output neuron “7”"


def test_neurons_are_reachable_by_keyboard(page):
    page.locator(".neuron-button[tabindex='0']").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_selector("#inspector[data-neuron='1/2']")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.wait_for_selector("#inspector[data-neuron^='2/']")
    label = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert label.startswith("Hidden layer 2, neuron") and "activation" in label


def test_clicking_a_test_image_feeds_it_to_the_network(page):
    wrong = page.locator("#examples button.wrong").first
    caption = wrong.inner_text()  # "9 → 4": the label, then the network's wrong guess
    wrong.click()
    page.wait_for_selector("#guess[data-settled=true][data-source=example]")
    assert page.inner_text("#guess") == caption.split("→")[1].strip()
    assert wrong.get_attribute("aria-pressed") == "true"
    assert page.inner_text("#pad-hint").startswith("showing test image #")
    first = page.get_attribute("#examples button >> nth=0", "data-index")
    page.click("#more-examples")
    expect(page.locator("#examples button").first).not_to_have_attribute("data-index", first)
    assert page.locator("#examples button").count() == 24


def test_matrix_view_reads_out_real_numbers(page):
    page.select_option("#matrix-layer", "2")
    matrix = page.locator("#m-w")
    matrix.scroll_into_view_if_needed()
    matrix.hover(position={"x": 5, "y": 5})
    assert page.inner_text("#matrix-readout").startswith("W[0, 0] = ")
    page.locator("#m-z").hover()
    assert "z[" in page.inner_text("#matrix-readout")
    matrix.focus()
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#matrix-readout").startswith("W[0, 1] = ")
    screenshot(page, "explorer-1280x800-full-page.png", full_page=True)


def test_a_broken_model_file_is_reported_and_the_page_keeps_working(page):
    page.select_option("#model-select", "broken.safetensors")
    expect(page.locator("#model-message")).to_contain_text("Could not switch")
    assert "broken.safetensors" in page.inner_text("#model-message")
    assert page.input_value("#model-select") == "default.safetensors"
    page.select_option("#model-select", "video.safetensors")
    expect(page.locator("#model-message")).to_contain_text("now showing video.safetensors")
    assert draw(page, ONE) == "1"
    page.errors.remove("Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)")


def test_each_page_keeps_its_own_model(browser, server):
    # A teacher's two tabs: switching models in one must not change what the other shows or is told.
    first, second = open_page(browser, server), open_page(browser, server)
    try:
        first.select_option("#model-select", "small.safetensors")
        expect(first.locator("#model-message")).to_contain_text("now showing small.safetensors")
        expect(first.locator("#model-line")).to_contain_text("784–8–10")
        assert "model=small.safetensors" in first.url
        assert draw(second, SEVEN) == "7"  # still the trained 784-16-16-10 network, on the server too
        expect(second.locator("#model-line")).to_contain_text("784–16–16–10")
        second.locator("#neurons [data-layer='2'][data-index='15']").click()  # a neuron the small model lacks
        second.wait_for_selector("#inspector[data-neuron='2/15']")
        expect(second.locator("#inspector")).to_contain_text("Hidden layer 2")
        first.reload()  # the address keeps the page's model
        first.wait_for_selector("body[data-ready=true]")
        expect(first.locator("#model-line")).to_contain_text("784–8–10")
        first.select_option("#model-select", "default.safetensors")  # and back to the server's own
        expect(first.locator("#model-message")).to_contain_text("now showing default.safetensors")
        assert "model=" not in first.url
        assert first.errors == [] and second.errors == []
    finally:
        first.close()
        second.close()


def test_phone_layout(browser, server):
    page = open_page(browser, server, viewport=PHONE, scale=2)
    try:
        assert draw(page, SEVEN) == "7"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"
        screenshot(page, "explorer-390x844-phone.png")
        screenshot(page, "explorer-390x844-phone-full-page.png", full_page=True)
        assert page.errors == []
    finally:
        page.close()
