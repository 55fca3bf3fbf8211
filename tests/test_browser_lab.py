"""End to end: the lab (the explorer's Train panel) in a real headless Chromium, against a real uvicorn
server training in its real worker process, saving into a temporary models folder.

A small network (784-8-10) is trained for a few epochs, as a person would: choose it in the form, press
Train, watch. Screenshots go to test-artifacts/ (look at them).
"""

from __future__ import annotations

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
expect = sync_api.expect

from browser_helpers import PHONE, SEVEN, LiveServer, browser, draw, open_page, screenshot  # noqa: F401

from digitnet.web import create_app

pytestmark = pytest.mark.browser
expect.set_options(timeout=30_000)  # training shares 2 busy cores: wait longer for what follows from it

YELLOW, BLUE = (247, 217, 111), (88, 196, 221)  # colors.js: the loss curve, the validation accuracy
TILE_PIXELS = """() => [...document.querySelectorAll('#train-pictures canvas')].map(
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


def open_lab(browser, server, **options):
    page = open_page(browser, server.url, **options)
    page.set_default_timeout(60_000)
    page.wait_for_selector("#train-lab[data-ready=true]")
    if page.get_attribute("#train-toggle", "aria-expanded") == "false":
        page.click("#train-toggle")
    return page


def choose_small_network(page, epochs, batch_size=32, name=""):
    page.select_option("#train-hidden-count", "1")
    page.fill("#train-size-1", "8")
    page.fill("#train-epochs", str(epochs))
    page.fill("#train-batch-size", str(batch_size))
    page.fill("#train-name", name)
    expect(page.locator("#train-structure")).to_contain_text("784 → 8 → 10 · 6,370 weights and biases")


def test_the_form_starts_at_digitnet_trains_defaults_and_every_control_has_a_label(browser, server):
    page = open_lab(browser, server)
    try:
        lab = server.json("/api/lab")
        assert page.input_value("#train-hidden-count") == "2"
        assert [page.input_value("#train-size-1"), page.input_value("#train-size-2")] == ["16", "16"]
        for field, key in [("activation", "activation"), ("output", "output"), ("cost", "cost"),
                           ("optimizer", "optimizer"), ("schedule", "schedule")]:
            assert page.input_value(f"#train-{field}") == lab["defaults"][key]
        for field, key in [("learning-rate", "learning_rate"), ("epochs", "epochs"), ("batch-size", "batch_size"),
                           ("weight-decay", "weight_decay"), ("shift-pixels", "shift_pixels"), ("seed", "seed")]:
            assert float(page.input_value(f"#train-{field}")) == lab["defaults"][key]
        expect(page.locator("#train-structure")).to_contain_text("784 → 16 → 16 → 10 · 13,002 weights and biases")
        # Presets: one click each.
        page.click("button.train-preset:text('bigger: 100 hidden')")
        expect(page.locator("#train-structure")).to_contain_text("784 → 100 → 10")
        page.click("button.train-preset:text('ReLU')")
        assert page.input_value("#train-activation") == "relu" and page.input_value("#train-hidden-count") == "2"
        page.click("button.train-preset:text(\"the video's network\")")
        assert page.input_value("#train-activation") == "sigmoid"
        page.select_option("#train-optimizer", "momentum")  # momentum's field shows only when it matters
        expect(page.locator("#train-momentum")).to_be_visible()
        page.select_option("#train-hidden-count", "4")
        assert page.locator("#train-sizes input").count() == 4
        page.fill("#train-size-1", "1024")
        page.fill("#train-size-2", "1024")  # 784-1024-1024-16-16-10: 1.87 million, still within the limit
        expect(page.locator("#train-structure")).not_to_have_class("train-structure small over")
        page.fill("#train-size-3", "1024")
        expect(page.locator("#train-structure")).to_contain_text("over the lab’s limit of 2,000,000")
        page.click("#train-train")  # the server says so too, in one line
        expect(page.locator("#train-message")).to_contain_text("2,919,610 weights and biases is over the lab's limit")
        page.click("button.train-preset:text(\"the video's network\")")
        # Every control of the lab is labelled and reachable with the keyboard.
        unlabelled = page.evaluate("""() => [...document.querySelectorAll('#train-lab input, #train-lab select, #train-lab button')]
            .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute('aria-label') && !c.textContent.trim())
            .map((c) => c.id || c.outerHTML)""")
        assert unlabelled == []
        page.focus("#train-toggle")
        reached = set()
        for _ in range(60):
            page.keyboard.press("Tab")
            reached.add(page.evaluate("document.activeElement.id"))
        assert {"train-hidden-count", "train-size-1", "train-activation", "train-learning-rate", "train-seed", "train-name",
                "train-train"} <= reached
        # A bad number is refused in the page, a bad setting by the server: each as one line.
        page.fill("#train-learning-rate", "")  # a number field holds a number or nothing
        page.click("#train-train")
        expect(page.locator("#train-message")).to_have_text("learning rate η: give a number")
        page.fill("#train-learning-rate", "0")
        page.click("#train-train")
        expect(page.locator("#train-message")).to_contain_text("training settings: learning_rate")  # the server names the setting
        assert page.locator("#train-lab[data-job]").count() == 0
        page.errors = [e for e in page.errors if "422" not in e]  # the refusal, logged by Chromium
        assert page.errors == []
    finally:
        page.close()


def test_train_a_small_network_and_watch_it_learn(browser, server, models):
    page = open_lab(browser, server)
    try:
        assert draw(page, SEVEN) == "7"  # the video's trained network, before
        choose_small_network(page, epochs=2, batch_size=8, name="tiny")
        page.click("#train-train")
        page.wait_for_selector("#train-lab[data-job]")
        job_id = page.get_attribute("#train-lab", "data-job")
        assert page.url.endswith(f"#job={job_id}"), "the job has an address"
        # Paused at once (its two epochs take well under a second), it stops after its first mini-batches
        # and shows the weights it stopped at: the moment in the middle of learning, held still.
        assert server.json(f"/api/jobs/{job_id}/pause", {})["state"] == "paused"

        # One moment while it learns: the pictures of all 8 neurons, painted from a snapshot.
        page.wait_for_selector("#train-pictures:not([data-step=''])", timeout=120_000)  # the worker starts in seconds, on a busy machine more
        early_step = page.get_attribute("#train-pictures", "data-step")
        early = page.evaluate(TILE_PIXELS)
        assert len(early) == 8

        # The explorer's views follow the job's current weights: its guess comes from job:ID.
        page.wait_for_selector("#train-guess-box:not([hidden])")
        expect(page.locator("#model-line")).to_contain_text("784–8–10")
        assert server.json(f"/api/jobs/{job_id}/resume", {})["state"] in ("running", "starting")

        page.wait_for_selector("#train-lab[data-state=finished]", timeout=120_000)
        late_step = page.get_attribute("#train-pictures", "data-step")
        late = page.evaluate(TILE_PIXELS)
        assert early_step != late_step
        changed = [sum(abs(a - b) for a, b in zip(before, after)) / len(before) for before, after in zip(early, late)]
        assert min(changed) > 5, f"every picture changes as the network learns (mean change per channel {changed})"
        assert any(f"/api/predict?model=job%3A{job_id}" in url for url in page.requests)

        # The curves: the loss (yellow) and the validation accuracy (blue) are drawn.
        assert page.evaluate(COLOUR_COUNT, ["train-loss", list(YELLOW)]) > 100
        assert page.evaluate(COLOUR_COUNT, ["train-accuracy", list(BLUE)]) > 30
        expect(page.locator("#train-epoch")).to_have_text("2 of 2")

        # Saved, in the model menu at once, shown, and its guess for the drawing is the new model's.
        assert (models / "tiny.safetensors").is_file()
        expect(page.locator("#train-message")).to_contain_text("Saved tiny.safetensors")
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
        page.wait_for_selector("#train-compare-table")
        table = page.inner_text("#train-compare-table")
        job = server.json(f"/api/jobs/{job_id}")
        assert f"{100 * job['test_accuracy']:.1f}%" in table
        assert page.locator("#train-compare-table tbody tr").count() == 11  # all, and each digit
        page.wait_for_selector("#train-compare-old canvas")
        assert page.locator("#train-compare-new canvas").count() == 8
        assert page.locator("#train-compare-old canvas").count() == 16  # the video's 16 first-layer neurons
        screenshot(page, "train-1280x800-finished.png", full_page=True)

        # A name that is taken is refused by the server, in its one line; nothing starts.
        page.fill("#train-name", "tiny")
        page.click("#train-train")
        expect(page.locator("#train-message")).to_contain_text("already in the models folder")
        page.errors = [e for e in page.errors if "409" not in e]
        assert page.errors == []
    finally:
        page.close()


def test_pause_resume_stop_and_a_second_tab_sees_the_job(browser, server, models):
    page = open_lab(browser, server)
    phone = None
    try:
        assert draw(page, SEVEN) == "7"
        page.click("button.train-preset:text(\"the video's network\")")
        page.fill("#train-epochs", "100")  # mini-batches of 1 for 100 epochs: ~50 s even on the compiled steps,
        page.fill("#train-batch-size", "1")  # so there is time for all that follows before the stop
        page.fill("#train-name", "paused")
        page.click("#train-train")
        page.wait_for_selector("#train-lab[data-state=running]")
        job_id = page.get_attribute("#train-lab", "data-job")
        page.wait_for_selector("#train-pictures:not([data-step=''])", timeout=120_000)  # the worker starts in seconds, on a busy machine more
        page.wait_for_selector("#train-epoch:text-matches('^[3-9] of')")  # curves to show
        page.wait_for_selector("#train-guess-box:not([hidden])")
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, "train-1280x800-training.png")

        # A second tab (a phone) finds the running job by itself, with the progress so far.
        phone = open_lab(browser, server, viewport=PHONE, scale=2)
        phone.wait_for_selector(f"#train-lab[data-job='{job_id}']")
        phone.wait_for_selector("#train-pictures:not([data-step=''])")
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"
        screenshot(phone, "train-390x844-training.png")
        screenshot(phone, "train-390x844-training-full-page.png", full_page=True)
        expect(phone.locator("#model-line")).to_contain_text("paused.safetensors")  # it follows the job too...
        phone.uncheck("#train-follow")  # ... until told not to: back to the model it showed
        expect(phone.locator("#model-line")).to_contain_text("default.safetensors")

        # Pause: the worker stops stepping (checked on the server across the time a reload takes).
        page.click("#train-pause")
        page.wait_for_selector("#train-lab[data-state=paused]")
        expect(page.locator("#train-pause")).to_have_text("Resume")
        phone.wait_for_selector("#train-lab[data-state=paused]")  # the other tab is told too
        page.reload()  # a reload shows the job as it is: paused, with its curves so far
        page.wait_for_selector(f"#train-lab[data-job='{job_id}'][data-state=paused]")
        assert page.evaluate(COLOUR_COUNT, ["train-accuracy", list(BLUE)]) > 10
        before = server.json(f"/api/jobs/{job_id}")["progress"]["images_done"]  # (a report sent as it paused has landed)
        third = open_lab(browser, server)  # the time a third tab takes to show the job, the worker stands still
        third.wait_for_selector(f"#train-lab[data-job='{job_id}'][data-state=paused]")
        third.close()
        assert server.json(f"/api/jobs/{job_id}")["progress"]["images_done"] == before

        page.click("#train-pause")  # now "Resume"
        page.wait_for_selector("#train-lab[data-state=running]")
        step = page.inner_text("#train-step")
        expect(page.locator("#train-step")).not_to_have_text(step)

        page.click("#train-stop")
        page.wait_for_selector("#train-lab[data-state=stopped]", timeout=60_000)
        phone.wait_for_selector("#train-lab[data-state=stopped]", timeout=60_000)
        job = server.json(f"/api/jobs/{job_id}")
        assert job["state"] == "stopped" and job["saved"] == "paused.safetensors"
        assert len(job["history"]) < 100 and job["best_epoch"] >= 1
        assert (models / "paused.safetensors").is_file()
        expect(page.locator("#train-message")).to_contain_text("Saved paused.safetensors")
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
        assert page.locator("#train-neurons").is_hidden()  # 16 neurons: all of them are shown
        page.click("button.train-preset:text('bigger: 100 hidden')")
        page.fill("#train-neurons", "0-3, 50")
        page.fill("#train-epochs", "1")
        page.fill("#train-batch-size", "4")
        page.click("#train-train")
        page.wait_for_selector("#train-lab[data-job]")
        # Paused at once (the compiled steps take its 12,500 steps in well under a second): it shows the
        # weights it stopped at, and the stop below surely comes before the epoch ends.
        assert server.json(f"/api/jobs/{page.get_attribute('#train-lab', 'data-job')}/pause", {})["state"] == "paused"
        page.wait_for_selector("#train-pictures:not([data-step=''])", timeout=120_000)  # the worker starts in seconds, on a busy machine more
        assert page.eval_on_selector_all("#train-pictures canvas", "(cs) => cs.map((c) => c.dataset.neuron)") == ["0", "1", "2", "3", "50"]
        expect(page.locator("#train-pictures-title")).to_have_text("What 5 of the 100 first-layer neurons look for")
        expect(page.locator("#model-line")).to_contain_text("784–100–10")  # the views follow the job
        page.click("#train-stop")
        page.wait_for_selector("#train-lab[data-state=stopped]", timeout=60_000)
        expect(page.locator("#train-message")).to_have_text("Stopped before the first epoch ended: nothing was saved.")
        expect(page.locator("#model-line")).to_contain_text("784–16–16–10")  # back to the model shown before
        assert not list(models.glob("train-100-*"))
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
        page.select_option("#train-optimizer", "sgd")
        page.fill("#train-learning-rate", "1000000")  # the cost becomes NaN within the first epoch
        page.click("#train-train")
        page.wait_for_selector("#train-lab[data-state=failed]", timeout=120_000)
        expect(page.locator("#train-message")).to_contain_text("Training failed: training diverged at epoch 1")
        expect(page.locator("#train-message")).to_contain_text("try a smaller learning rate")
        expect(page.locator("#train-state")).to_contain_text("failed: training diverged")
        expect(page.locator("#train-train")).to_be_enabled()
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
        page.wait_for_selector("#train-lab[data-ready=true]")
        expect(page.locator("#train-lab")).to_contain_text("Training is turned off on this server")
        assert page.locator("#train-toggle").is_hidden()
        assert page.errors == []
        page.close()
    finally:
        live.close()
