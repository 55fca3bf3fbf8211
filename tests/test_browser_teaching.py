"""Teaching mode in a real browser: presentation mode's type and sizes measured at 1920x1080, and the
guided tour's steps, each pointing at its part of the page, by buttons and by keyboard."""

from __future__ import annotations

import pytest

from browser_helpers import SEVEN, browser, draw, expect, in_viewport, open_page, screenshot, server  # noqa: F401

pytestmark = pytest.mark.browser

FULL_HD = {"width": 1920, "height": 1080}

SMALLEST_TEXT = """() => {
    // The smallest font of any visible element that holds text of its own.
    let smallest = Infinity, where = "";
    for (const el of document.querySelectorAll("body *")) {
        if (el.closest("[hidden], .skip-link, svg, canvas, option")) continue;
        const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
        const box = el.getBoundingClientRect();
        if (!own || box.width === 0 || box.height === 0) continue;
        const size = parseFloat(getComputedStyle(el).fontSize);
        if (size < smallest) { smallest = size; where = el.id || el.className || el.tagName; }
    }
    return [smallest, String(where)];
}"""


@pytest.fixture(scope="module")
def big_page(browser, server):
    page = open_page(browser, server, viewport=FULL_HD)
    yield page
    errors = page.errors
    page.close()
    assert errors == []


def test_presentation_mode_is_readable_from_the_back_of_a_room(big_page):
    page = big_page
    assert page.evaluate(SMALLEST_TEXT)[0] < 24  # the everyday page has small print
    page.keyboard.press("p")
    page.wait_for_selector("body.presenting")
    assert page.get_attribute("#present", "aria-pressed") == "true"
    assert draw(page, SEVEN) == "7"
    smallest, where = page.evaluate(SMALLEST_TEXT)
    assert smallest >= 24, f"body text of {smallest}px in {where}"
    assert int(page.get_attribute("#net", "data-smallest-label")) >= 18, "the network's labels"
    pad = page.locator("#pad").bounding_box()
    net = page.locator("#net-wrap").bounding_box()
    assert pad["width"] >= 400 and net["width"] >= 1100 and net["height"] >= 700
    page.evaluate("window.scrollTo(0, 0)")
    assert in_viewport(page, "#net-wrap") and in_viewport(page, "#pad") and in_viewport(page, "#guess"), "all on one screen"
    screenshot(page, "presentation-1920x1080.png")
    page.click("#present")  # and back
    page.wait_for_selector("body:not(.presenting)")
    assert int(page.get_attribute("#net", "data-smallest-label")) < 18


def test_the_guided_tour_follows_the_video(big_page):
    page = big_page
    page.reload()  # a fresh page, out of full screen
    page.wait_for_selector("body[data-ready=true]")
    page.click("#tour-start")
    tour = page.locator("#tour")
    expect(tour).to_be_visible()
    count = int(page.inner_text("#tour-count").split(" of ")[1])
    assert 8 <= count <= 12
    titles = []
    for k in range(1, count + 1):
        expect(tour).to_have_attribute("data-step", str(k))
        assert page.inner_text("#tour-count") == f"Step {k} of {count}"
        titles.append(page.inner_text("#tour-title"))
        assert page.locator(".tour-target").count() == 1
        top = page.evaluate("document.querySelector('.tour-target').getBoundingClientRect().top")
        assert 0 <= top < FULL_HD["height"] - 100, f"step {k}: the part it talks about is in view"
        if k == 2:
            page.keyboard.press("ArrowLeft")  # Back, by keyboard
            expect(tour).to_have_attribute("data-step", "1")
            page.click("#tour-next")
            expect(tour).to_have_attribute("data-step", "2")
        if k < count:
            page.keyboard.press("ArrowRight")
    assert titles[0] == "A picture is 784 numbers" and titles[-2] == "13,002 numbers to learn"
    assert [t for t in titles if "sigmoid" in t.lower()] and [t for t in titles if "matri" in t.lower()]
    page.keyboard.press("Escape")
    expect(tour).to_be_hidden()
    assert page.locator(".tour-target").count() == 0
