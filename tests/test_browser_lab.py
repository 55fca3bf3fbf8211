"""End to end: the lab (the explorer's Train panel) in a real headless Chromium, against a real uvicorn
server training in its real worker process, saving into a temporary models folder.

A small network (784-8-10) is trained for a few epochs, as a person would: choose it in the form, press
Train, watch. Screenshots go to test-artifacts/ (look at them).
"""

from __future__ import annotations

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
expect, sync_playwright = sync_api.expect, sync_api.sync_playwright

from browser_helpers import CHROMIUM, CHROMIUM_ARGS, PHONE, SEVEN, LiveServer, draw, open_page, screenshot

from digitnet.web import create_app

pytestmark = pytest.mark.browser
expect.set_options(timeout=30_000)  # training shares 2 busy cores: wait longer for what follows from it

YELLOW, BLUE = (247, 217, 111), (88, 196, 221)  # colors.js: the loss curve, the validation accuracy
TILE_PIXELS = """() => [...document.querySelectorAll('#lab-pictures canvas')].map(
    (c) => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data))"""
COLOUR_COUNT = """([id, [r, g, b]]) => {
    const c = document.getElementById(id);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] > 200 && Math.abs(d[i] - r) < 40 && Math.abs(d[i + 1] - g) < 40 && Math.abs(d[i + 2] - b) < 40) n++;
    }
    return n;
}"""


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def server(models):
    pytest.importorskip("uvicorn")
    live = LiveServer(create_app(models_dir=models))
    yield live
    live.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_lab(browser, server, **options):
    page = open_page(browser, server.url, **options)
    page.set_default_timeout(60_000)
    page.wait_for_selector("#lab[data-ready=true]")
    if page.get_attribute("#lab-toggle", "aria-expanded") == "false":
        page.click("#lab-toggle")
    return page


def choose_small_network(page, epochs, batch_size=32, name=""):
    page.select_option("#lab-hidden-count", "1")
    page.fill("#lab-size-1", "8")
    page.fill("#lab-epochs", str(epochs))
    page.fill("#lab-batch-size", str(batch_size))
    page.fill("#lab-name", name)
    expect(page.locator("#lab-structure")).to_contain_text("784 → 8 → 10 · 6,370 weights and biases")


def test_the_form_starts_at_digitnet_trains_defaults_and_every_control_has_a_label(browser, server):
    page = open_lab(browser, server)
    try:
        lab = server.json("/api/lab")
        assert page.input_value("#lab-hidden-count") == "2"
        assert [page.input_value("#lab-size-1"), page.input_value("#lab-size-2")] == ["16", "16"]
        for field, key in [("activation", "activation"), ("output", "output"), ("cost", "cost"),
                           ("optimizer", "optimizer"), ("schedule", "schedule")]:
            assert page.input_value(f"#lab-{field}") == lab["defaults"][key]
        for field, key in [("learning-rate", "learning_rate"), ("epochs", "epochs"), ("batch-size", "batch_size"),
                           ("weight-decay", "weight_decay"), ("shift-pixels", "shift_pixels"), ("seed", "seed")]:
            assert float(page.input_value(f"#lab-{field}")) == lab["defaults"][key]
        expect(page.locator("#lab-structure")).to_contain_text("784 → 16 → 16 → 10 · 13,002 weights and biases")
        # Presets: one click each.
        page.click("button.lab-preset:text('bigger: 100 hidden')")
        expect(page.locator("#lab-structure")).to_contain_text("784 → 100 → 10")
        page.click("button.lab-preset:text('ReLU')")
        assert page.input_value("#lab-activation") == "relu" and page.input_value("#lab-hidden-count") == "2"
        page.click("button.lab-preset:text(\"the video's network\")")
        assert page.input_value("#lab-activation") == "sigmoid"
        page.select_option("#lab-optimizer", "momentum")  # momentum's field shows only when it matters
        expect(page.locator("#lab-momentum")).to_be_visible()
        page.select_option("#lab-hidden-count", "4")
        assert page.locator("#lab-sizes input").count() == 4
        page.fill("#lab-size-1", "1024")
        page.fill("#lab-size-2", "1024")  # 784-1024-1024-16-16-10: 1.87 million, still within the limit
        expect(page.locator("#lab-structure")).not_to_have_class("lab-structure small over")
        page.fill("#lab-size-3", "1024")
        expect(page.locator("#lab-structure")).to_contain_text("over the lab’s limit of 2,000,000")
        page.click("#lab-train")  # the server says so too, in one line
        expect(page.locator("#lab-message")).to_contain_text("2,919,610 weights and biases is over the lab's limit")
        page.click("button.lab-preset:text(\"the video's network\")")
        # Every control of the lab is labelled and reachable with the keyboard.
        unlabelled = page.evaluate("""() => [...document.querySelectorAll('#lab input, #lab select, #lab button')]
            .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute('aria-label') && !c.textContent.trim())
            .map((c) => c.id || c.outerHTML)""")
        assert unlabelled == []
        page.focus("#lab-toggle")
        reached = set()
        for _ in range(60):
            page.keyboard.press("Tab")
            reached.add(page.evaluate("document.activeElement.id"))
        assert {"lab-hidden-count", "lab-size-1", "lab-activation", "lab-learning-rate", "lab-seed", "lab-name",
                "lab-train"} <= reached
        # A bad number is refused in the page, a bad setting by the server: each as one line.
        page.fill("#lab-learning-rate", "")  # a number field holds a number or nothing
        page.click("#lab-train")
        expect(page.locator("#lab-message")).to_have_text("learning rate η: give a number")
        page.fill("#lab-learning-rate", "0")
        page.click("#lab-train")
        expect(page.locator("#lab-message")).to_contain_text("training settings: learning_rate")  # the server names the setting
        assert page.locator("#lab[data-job]").count() == 0
        page.errors = [e for e in page.errors if "422" not in e]  # the refusal, logged by Chromium
        assert page.errors == []
    finally:
        page.close()


def test_train_a_small_network_and_watch_it_learn(browser, server, models):
    page = open_lab(browser, server)
    try:
        assert draw(page, SEVEN) == "7"  # the video's trained network, before
        choose_small_network(page, epochs=2, batch_size=8, name="tiny")
        page.click("#lab-train")
        page.wait_for_selector("#lab[data-job]")
        job_id = page.get_attribute("#lab", "data-job")
        assert page.url.endswith(f"#job={job_id}"), "the job has an address"

        # One moment while it learns: the pictures of all 8 neurons, painted from a snapshot.
        page.wait_for_selector("#lab-pictures:not([data-step=''])", timeout=120_000)  # the worker starts in seconds, on a busy machine more
        early_step = page.get_attribute("#lab-pictures", "data-step")
        early = page.evaluate(TILE_PIXELS)
        assert len(early) == 8

        # The explorer's views follow the job's current weights: its guess comes from job:ID.
        page.wait_for_selector("#lab-guess-box:not([hidden])")
        expect(page.locator("#model-line")).to_contain_text("784–8–10")

        page.wait_for_selector("#lab[data-state=finished]", timeout=120_000)
        late_step = page.get_attribute("#lab-pictures", "data-step")
        late = page.evaluate(TILE_PIXELS)
        assert early_step != late_step
        changed = [sum(abs(a - b) for a, b in zip(before, after)) / len(before) for before, after in zip(early, late)]
        assert min(changed) > 5, f"every picture changes as the network learns (mean change per channel {changed})"
        assert any(f"/api/predict?model=job%3A{job_id}" in url for url in page.requests)

        # The curves: the loss (yellow) and the validation accuracy (blue) are drawn.
        assert page.evaluate(COLOUR_COUNT, ["lab-loss", list(YELLOW)]) > 100
        assert page.evaluate(COLOUR_COUNT, ["lab-accuracy", list(BLUE)]) > 30
        expect(page.locator("#lab-epoch")).to_have_text("2 of 2")

        # Saved, in the model menu at once, shown, and its guess for the drawing is the new model's.
        assert (models / "tiny.safetensors").is_file()
        expect(page.locator("#lab-message")).to_contain_text("Saved tiny.safetensors")
        expect(page.locator("#model-line")).to_contain_text("tiny.safetensors · 784–8–10")
        option = page.locator("#model-select option[value='tiny.safetensors']")
        assert option.count() == 1 and not option.is_disabled()
        assert page.input_value("#model-select") == "tiny.safetensors"
        page.wait_for_selector("#guess[data-settled=true][data-source=drawing]")
        drawing = page.evaluate("document.getElementById('pad').toDataURL()")
        answer = server.json("/api/predict?model=tiny.safetensors", {"image": drawing})
        assert page.inner_text("#guess") == str(answer["digit"])
        assert page.inner_text("#confidence") == f"{100 * answer['probabilities'][answer['digit']]:.0f}% sure"

        # Compared with the model the page showed before (the server's own).
        page.wait_for_selector("#lab-compare-table")
        table = page.inner_text("#lab-compare-table")
        job = server.json(f"/api/jobs/{job_id}")
        assert f"{100 * job['test_accuracy']:.1f}%" in table
        assert page.locator("#lab-compare-table tbody tr").count() == 11  # all, and each digit
        page.wait_for_selector("#lab-compare-old canvas")
        assert page.locator("#lab-compare-new canvas").count() == 8
        assert page.locator("#lab-compare-old canvas").count() == 16  # the video's 16 first-layer neurons
        screenshot(page, "lab-1280x800-finished.png", full_page=True)

        # A name that is taken is refused by the server, in its one line; nothing starts.
        page.fill("#lab-name", "tiny")
        page.click("#lab-train")
        expect(page.locator("#lab-message")).to_contain_text("already in the models folder")
        page.errors = [e for e in page.errors if "409" not in e]
        assert page.errors == []
    finally:
        page.close()


def test_pause_resume_stop_and_a_second_tab_sees_the_job(browser, server, models):
    page = open_lab(browser, server)
    phone = None
    try:
        assert draw(page, SEVEN) == "7"
        page.click("button.lab-preset:text(\"the video's network\")")
        page.fill("#lab-epochs", "100")  # mini-batches of 8 for 100 epochs: minutes even on a fast idle machine,
        page.fill("#lab-batch-size", "8")  # so there is time for all that follows before the stop
        page.fill("#lab-name", "paused")
        page.click("#lab-train")
        page.wait_for_selector("#lab[data-state=running]")
        job_id = page.get_attribute("#lab", "data-job")
        page.wait_for_selector("#lab-pictures:not([data-step=''])", timeout=120_000)  # the worker starts in seconds, on a busy machine more
        page.wait_for_selector("#lab-epoch:text-matches('^[3-9] of')")  # curves to show
        page.wait_for_selector("#lab-guess-box:not([hidden])")
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, "lab-1280x800-training.png")

        # A second tab (a phone) finds the running job by itself, with the progress so far.
        phone = open_lab(browser, server, viewport=PHONE, scale=2)
        phone.wait_for_selector(f"#lab[data-job='{job_id}']")
        phone.wait_for_selector("#lab-pictures:not([data-step=''])")
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"
        screenshot(phone, "lab-390x844-training.png")
        screenshot(phone, "lab-390x844-training-full-page.png", full_page=True)
        expect(phone.locator("#model-line")).to_contain_text("paused.safetensors")  # it follows the job too...
        phone.uncheck("#lab-follow")  # ... until told not to: back to the model it showed
        expect(phone.locator("#model-line")).to_contain_text("default.safetensors")

        # Pause: the worker stops stepping (checked on the server across the time a reload takes).
        page.click("#lab-pause")
        page.wait_for_selector("#lab[data-state=paused]")
        expect(page.locator("#lab-pause")).to_have_text("Resume")
        phone.wait_for_selector("#lab[data-state=paused]")  # the other tab is told too
        page.reload()  # a reload shows the job as it is: paused, with its curves so far
        page.wait_for_selector(f"#lab[data-job='{job_id}'][data-state=paused]")
        assert page.evaluate(COLOUR_COUNT, ["lab-accuracy", list(BLUE)]) > 10
        before = server.json(f"/api/jobs/{job_id}")["progress"]["images_done"]  # (a report sent as it paused has landed)
        third = open_lab(browser, server)  # the time a third tab takes to show the job, the worker stands still
        third.wait_for_selector(f"#lab[data-job='{job_id}'][data-state=paused]")
        third.close()
        assert server.json(f"/api/jobs/{job_id}")["progress"]["images_done"] == before

        page.click("#lab-pause")  # now "Resume"
        page.wait_for_selector("#lab[data-state=running]")
        step = page.inner_text("#lab-step")
        expect(page.locator("#lab-step")).not_to_have_text(step)

        page.click("#lab-stop")
        page.wait_for_selector("#lab[data-state=stopped]", timeout=60_000)
        phone.wait_for_selector("#lab[data-state=stopped]", timeout=60_000)
        job = server.json(f"/api/jobs/{job_id}")
        assert job["state"] == "stopped" and job["saved"] == "paused.safetensors"
        assert len(job["history"]) < 100 and job["best_epoch"] >= 1
        assert (models / "paused.safetensors").is_file()
        expect(page.locator("#lab-message")).to_contain_text("Saved paused.safetensors")
        expect(page.locator("#model-select option[value='paused.safetensors']")).to_have_count(1)
        expect(phone.locator("#model-select option[value='paused.safetensors']")).to_have_count(1)  # listed,
        expect(phone.locator("#model-line")).to_contain_text("default.safetensors")  # not forced on the tab
        for tab in (page, phone):
            assert tab.errors == []
    finally:
        page.close()
        if phone is not None:
            phone.close()


def test_a_wide_layer_shows_the_neurons_chosen_and_a_stop_before_an_epoch_saves_nothing(browser, server, models):
    page = open_lab(browser, server)
    refused = []
    page.on("response", lambda response: response.status >= 400 and refused.append(response.url))
    try:
        expect(page.locator("#model-line")).to_contain_text("784–16–16–10")
        assert page.locator("#lab-neurons").is_hidden()  # 16 neurons: all of them are shown
        page.click("button.lab-preset:text('bigger: 100 hidden')")
        page.fill("#lab-neurons", "0-3, 50")
        page.fill("#lab-epochs", "1")
        page.fill("#lab-batch-size", "4")  # 12,500 steps, seconds: the stop comes long before the epoch ends
        page.click("#lab-train")
        page.wait_for_selector("#lab-pictures:not([data-step=''])", timeout=120_000)  # the worker starts in seconds, on a busy machine more
        assert page.eval_on_selector_all("#lab-pictures canvas", "(cs) => cs.map((c) => c.dataset.neuron)") == ["0", "1", "2", "3", "50"]
        expect(page.locator("#lab-pictures-title")).to_have_text("What 5 of the 100 first-layer neurons look for")
        expect(page.locator("#model-line")).to_contain_text("784–100–10")  # the views follow the job
        page.click("#lab-stop")
        page.wait_for_selector("#lab[data-state=stopped]", timeout=60_000)
        expect(page.locator("#lab-message")).to_have_text("Stopped before the first epoch ended: nothing was saved.")
        expect(page.locator("#model-line")).to_contain_text("784–16–16–10")  # back to the model shown before
        assert not list(models.glob("lab-100-*"))
        # A view's request on its way as the job ended is told 404 (job:ID saved nothing); nothing else fails.
        assert all("model=job%3A" in url for url in refused)
        assert [e for e in page.errors if "404" not in e] == []
    finally:
        page.close()


def test_a_job_that_fails_says_why_in_one_line(browser, server, models):
    page = open_lab(browser, server)
    refused = []
    page.on("response", lambda response: response.status >= 400 and refused.append(response.url))
    try:
        choose_small_network(page, epochs=1, name="diverged")
        page.select_option("#lab-optimizer", "sgd")
        page.fill("#lab-learning-rate", "1000000")  # the cost becomes NaN within the first epoch
        page.click("#lab-train")
        page.wait_for_selector("#lab[data-state=failed]", timeout=120_000)
        expect(page.locator("#lab-message")).to_contain_text("Training failed: training diverged at epoch 1")
        expect(page.locator("#lab-message")).to_contain_text("try a smaller learning rate")
        expect(page.locator("#lab-state")).to_contain_text("failed: training diverged")
        expect(page.locator("#lab-train")).to_be_enabled()
        expect(page.locator("#model-line")).to_contain_text("default.safetensors")  # back to the model before
        assert not (models / "diverged.safetensors").exists()
        assert all("model=job%3A" in url for url in refused)
        assert [e for e in page.errors if "404" not in e] == []
    finally:
        page.close()


def test_without_training_the_lab_says_so(browser, models):
    live = LiveServer(create_app(models_dir=models, training=False))
    try:
        page = open_page(browser, live.url)
        page.wait_for_selector("#lab[data-ready=true]")
        expect(page.locator("#lab")).to_contain_text("Training is turned off on this server")
        assert page.locator("#lab-toggle").is_hidden()
        assert page.errors == []
        page.close()
    finally:
        live.close()
