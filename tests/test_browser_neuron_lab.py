"""The neuron lab in a real browser: paint a first-layer neuron's weights and watch the guess, the
activations and the test accuracy change; a preset; switch a neuron off; edits that stay in their
page; the edited network saved as a new model file and opened."""

from __future__ import annotations

import pytest

from browser_helpers import SEVEN, browser, draw, expect, open_page, page, screenshot, server, weight_colours  # noqa: F401

pytestmark = pytest.mark.browser


def number(page, selector):
    return float(page.inner_text(selector).replace("−", "-").rstrip("%"))


def open_neuron(page, layer, index):
    page.click(f".neuron-button[data-layer='{layer}'][data-index='{index}']")
    page.wait_for_selector(f"#inspector[data-neuron='{layer}/{index}']")


def settled(page):
    page.wait_for_selector("#lab-results[data-settled=true]", state="attached")  # (hidden when nothing is edited)
    page.wait_for_selector("#guess[data-settled=true]")


def test_paint_a_neuron_and_see_the_guess_and_the_test_accuracy_change(page):
    assert draw(page, SEVEN) == "7"
    open_neuron(page, 1, 5)
    assert page.is_hidden("#lab-results"), "nothing is edited yet"
    activation = number(page, "#n-a")
    page.uncheck("#overlay")
    page.check("#tool-minus", force=True)
    page.locator("#brush-size").fill("4")  # the largest brush
    picture = page.locator("#weight-picture")
    box = picture.bounding_box()
    for row in (0.2, 0.35, 0.5, 0.65, 0.8):  # a few strokes of negative weight over the middle of the picture
        page.mouse.move(box["x"] + 0.15 * box["width"], box["y"] + row * box["height"])
        page.mouse.down()
        page.mouse.move(box["x"] + 0.85 * box["width"], box["y"] + row * box["height"], steps=8)
        page.mouse.up()
    settled(page)
    assert weight_colours(page)["red"] > 300, "the painted weights show in red"
    assert number(page, "#n-a") < activation - 0.1, "the neuron's activation for the 7 fell at once"
    accuracy = number(page, "#lab-accuracy-value")
    assert "trained: 96.38%" in page.inner_text("#lab-accuracy") and accuracy != 96.38
    assert page.locator("#per-digit li").count() == 10
    assert page.inner_text("#inspector-title").endswith("(edited)")
    # Bias of −10 on the output neuron for 7: the 7 is no longer read as a 7.
    open_neuron(page, 3, 7)
    page.click("#preset-bias")
    settled(page)
    assert page.input_value("#lab-bias-number") == "-10"
    assert page.inner_text("#guess") != "7"
    assert page.inner_text("#lab-guess") == "The edited network; the trained one says 7."
    assert "worse" in page.get_attribute("#per-digit li[data-digit='7']", "class")
    assert number(page, "#lab-accuracy-value") < accuracy - 5
    screenshot(page, "lab-1280x800-painted.png")
    # The test images whose answer changed: shown, and one click feeds one to the network.
    changed = page.inner_text("#changed-button")
    assert changed.startswith("These ") and "changed their answer" in changed
    page.click("#changed-button")
    page.wait_for_selector("#changed-list button")
    first = page.locator("#changed-list button").first
    assert "→" in first.inner_text()
    first.click()
    page.wait_for_selector("#guess[data-settled=true][data-source=example]")
    # Undo and reset: back to the trained network, and the results box goes away.
    page.click("#lab-undo")
    settled(page)
    assert page.input_value("#lab-bias-number") != "-10"
    page.click("#lab-clear")
    expect(page.locator("#lab-results")).to_be_hidden()


def test_presets_keyboard_painting_and_switching_off(page):
    open_neuron(page, 1, 3)
    page.uncheck("#overlay")
    page.check("#tool-plus", force=True)  # painting by keyboard: arrow keys move the cursor, Space paints
    page.focus("#weight-picture")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    settled(page)
    assert "weights painted" in page.inner_text("#lab-status")
    page.click("#lab-reset")
    settled(page)
    assert page.inner_text("#lab-status") == "This neuron is as trained."
    page.click("#preset-edge")
    settled(page)
    colours = weight_colours(page)
    assert colours["green"] >= 30 and colours["red"] >= 60  # a positive stroke with negative bands around it
    assert "weights painted" in page.inner_text("#lab-status")
    page.click("#preset-region")
    settled(page)
    assert weight_colours(page)["red"] == 0, "all zero except a (positive) region"
    open_neuron(page, 2, 4)
    page.check("#lab-off")
    settled(page)
    assert number(page, "#n-a") == 0.0
    assert "switched off" in page.inner_text("#lab-status")
    open_neuron(page, 2, 5)  # the scale field: its weights times 0 leave only the bias
    page.fill("#lab-scale-number", "0")
    page.press("#lab-scale-number", "Enter")
    settled(page)
    assert number(page, "#n-z") == pytest.approx(number(page, "#n-bias"), abs=2e-3)


def test_edits_belong_to_their_page_until_saved_as_a_new_model(browser, server):
    first, second = open_page(browser, server), open_page(browser, server)
    try:
        open_neuron(first, 3, 0)
        first.fill("#lab-bias-number", "-10")
        first.press("#lab-bias-number", "Enter")
        settled(first)
        edited = number(first, "#lab-accuracy-value")
        second.reload()
        second.wait_for_selector("body[data-ready=true]")
        assert second.is_hidden("#lab-results") and "edited" not in second.inner_text("#inspector-title")
        first.fill("#save-name", "no-zeros")
        first.click("#save")
        expect(first.locator("#save-message")).to_contain_text("Saved as no-zeros.safetensors")
        first.click("#save")  # the same name again: never overwritten
        expect(first.locator("#save-message")).to_contain_text("Not saved")
        first.fill("#save-name", "../outside.safetensors")
        first.click("#save")
        expect(first.locator("#save-message")).to_contain_text("Not saved")
        first.select_option("#model-select", "no-zeros.safetensors")
        expect(first.locator("#model-message")).to_contain_text("now showing no-zeros.safetensors")
        assert first.is_hidden("#lab-results"), "the saved model is the edited one: nothing left to edit"
        assert f"{edited:.2f}%" in first.inner_text("#model-facts")
        for tab in (first, second):
            tab.errors[:] = [e for e in tab.errors if "status of 409" not in e and "status of 422" not in e]
        assert first.errors == [] and second.errors == []
    finally:
        first.close()
        second.close()
