// The lab: choose a structure and settings, press Train, and watch the network learn, live: the loss and
// accuracy curves, every first-layer neuron's weight picture, the epoch, step, speed and time left, and
// (through the explorer's own views, by `?model=job:ID`) the network and the guess for the drawing with
// the weights of now. Pause, resume, stop; the saved model is then in the model menu, and compared with
// the one the page showed before. A reload or a second tab finds the running job (its address: #job=ID).

import { labApi, decodeSnapshot, TERMINAL_STATES } from "./lab-api.js";
import { LabForm } from "./lab-form.js";
import { TrainCharts } from "./train-charts.js";
import { WeightPictures } from "./weight-pictures.js";
import { LabComparison } from "./lab-compare.js";
import { Follower } from "./lab-follow.js";
import { el, duration } from "./lab-dom.js";
import { grayRgb } from "./palette.js";
import { paintCells } from "./cells.js";

const STATE_WORDS = {
  starting: "starting the worker…", running: "learning", paused: "paused", stopping: "stopping: saving the best epoch…",
  finished: "finished", stopped: "stopped", failed: "failed",
};

/**
 * Build the lab in `root` (an empty <section>). hooks, from the explorer (app.js):
 *   ready: a promise, settled once the page shows its first model
 *   shownModel(): the ?model= name the page shows (null: the server's startup model)
 *   follow(name, {weights, facts}): show `job:ID` in every view, or bring the views up to its weights of now
 *   show(name): show a model of the folder (null: the startup model)
 *   showSaved(name, {show}): a file just saved into the folder: list it in the model menu (and show it)
 */
export async function mountLab(root, hooks) {
  const panel = new TrainPanel(root, hooks);
  try {
    await panel.start();
  } catch (error) {
    panel.say(error.message);
  }
  root.dataset.ready = "true";
  return panel;
}

/** A job's settings in a line: "cross-entropy, Adam, η 0.005 (cosine), 30 epochs of mini-batches of 32, ..." */
function describeTraining(t) {
  const optimizer = { adam: "Adam", momentum: `SGD with momentum ${t.momentum}`, sgd: "plain SGD" }[t.optimizer] ?? t.optimizer;
  return `${t.cost.replace("_", "-")} cost, ${optimizer}, learning rate ${t.learning_rate} (${t.schedule}), ` +
    `${t.epochs} epochs of mini-batches of ${t.batch_size}, weight decay ${t.weight_decay}, ` +
    `shifts of up to ${t.shift_pixels} px, seed ${t.seed}`;
}

class TrainPanel {
  constructor(root, hooks) {
    this.root = root;
    this.hooks = hooks;
    this.job = null; // the Job watched (docs/lab-api.md), kept up to date by its stream
    this.source = null; // its EventSource
    this.follower = new Follower(hooks, {
      onLeft: () => {
        this.followBox.checked = false;
        this.guessBox.hidden = true;
      },
      onError: (message) => this.say(message),
    });
    this.build();
  }

  // ---- the page's elements --------------------------------------------------------------------------

  build() {
    const $ = (tag, attributes, ...children) => el(tag, attributes, ...children);
    this.toggle = $("button", { type: "button", id: "train-toggle", class: "train-toggle", "aria-expanded": "false",
      "aria-controls": "train-body", onclick: () => this.open(this.body.hidden) }, "Open the lab");
    this.formHost = $("div", { class: "train-form" });
    this.settings = $("details", { id: "train-settings", class: "train-settings", open: true },
      $("summary", {}, "Structure and settings"), this.formHost);
    this.summary = $("p", { class: "train-summary small muted", id: "train-summary" }, "");
    this.nameInput = $("input", { id: "train-name", type: "text", autocomplete: "off", spellcheck: "false",
      "aria-describedby": "train-folder" });
    this.trainButton = $("button", { type: "submit", id: "train-train", class: "train-train" }, "Train");
    this.folderLine = $("span", { id: "train-folder", class: "small muted" });
    this.message = $("p", { id: "train-message", class: "message", role: "status", "aria-live": "polite" });
    this.setup = $("form", { class: "train-setup", "aria-label": "What to train", novalidate: true,
      onsubmit: (event) => { event.preventDefault(); this.train(); } },
      this.settings, this.summary,
      $("div", { class: "train-save-row" },
        $("label", { for: "train-name" }, "save as"), this.nameInput, this.trainButton),
      this.folderLine, this.message);
    this.seen = $("canvas", { id: "train-seen", width: "28", height: "28", role: "img", "aria-label": "What the network sees" });
    this.guessDigit = $("output", { id: "train-guess", "aria-live": "polite" }, "–");
    this.guessConfidence = $("span", { class: "confidence", id: "train-confidence" }, "");
    this.guessBox = $("div", { class: "train-guess-box", id: "train-guess-box", hidden: true },
      this.seen,
      $("div", {},
        $("span", { class: "guess-label" }, "The guess for your drawing, with the weights of now"),
        $("div", { class: "train-guess-line" }, this.guessDigit, this.guessConfidence),
        $("span", { class: "small muted" }, "draw on the pad above and watch it change")));
    this.setup.append(this.guessBox);

    this.stateBadge = $("output", { id: "train-state", class: "train-state", "data-state": "" }, "");
    this.stats = Object.fromEntries(["epoch", "step", "speed", "left"].map((key) => [key, $("dd", { id: `train-${key}` }, "–")]));
    this.progressBar = $("progress", { id: "train-progress", max: "1", value: "0", "aria-label": "Training progress" });
    this.pauseButton = $("button", { type: "button", id: "train-pause", disabled: true, onclick: () => this.pauseOrResume() }, "Pause");
    this.stopButton = $("button", { type: "button", id: "train-stop", disabled: true, onclick: () => this.command("stop") }, "Stop");
    this.followBox = $("input", { type: "checkbox", id: "train-follow", checked: true, onchange: () => this.followChanged() });
    this.jobTitle = $("h3", { id: "train-job-title", class: "train-job-title", tabindex: "-1" }, "");
    this.lossCanvas = $("canvas", { id: "train-loss", class: "train-chart", role: "img", "aria-label": "Loss curve" });
    this.accuracyCanvas = $("canvas", { id: "train-accuracy", class: "train-chart", role: "img", "aria-label": "Accuracy curve" });
    this.picturesHost = $("div", { id: "train-pictures", class: "weight-tiles", "data-step": "" });
    this.picturesTitle = $("h3", { id: "train-pictures-title" }, "What each first-layer neuron looks for");
    this.live = $("div", { id: "train-live", class: "train-live", hidden: true },
      $("div", { class: "train-live-head" }, this.jobTitle, this.stateBadge),
      $("dl", { class: "train-stats" },
        ...[["epoch", "epoch"], ["step", "step"], ["speed", "images/s"], ["left", "time left"]].map(([key, term]) =>
          $("div", {}, $("dt", {}, term), this.stats[key]))),
      this.progressBar,
      $("div", { class: "train-controls" }, this.pauseButton, this.stopButton,
        $("label", { class: "check", for: "train-follow" }, this.followBox, "show it learning in the network and the guess")),
      $("div", { class: "train-live-main" },
        $("div", { class: "train-charts" }, this.lossCanvas, this.accuracyCanvas),
        $("div", { class: "train-pictures" }, this.picturesTitle, this.picturesHost,
          $("p", { class: "small muted train-pictures-note" },
            "Each picture is one neuron’s 784 incoming weights, as in the video: green where a bright pixel " +
            "pushes the neuron up, red where it pushes it down."))));
    this.compareHost = $("div", { id: "train-compare", class: "train-compare", hidden: true });
    this.body = $("div", { id: "train-body", class: "train-body", hidden: true },
      $("div", { class: "train-columns" }, this.setup, this.live), this.compareHost);
    this.root.append(
      $("div", { class: "train-head" },
        $("h2", { id: "train-title" }, "Train a network"),
        $("p", { class: "small muted train-intro" }, "Choose a structure, press Train, and watch it learn: the weights, the curves, the guess for your drawing."),
        this.toggle),
      this.body);
    this.charts = new TrainCharts(this.lossCanvas, this.accuracyCanvas);
    this.pictures = new WeightPictures(this.picturesHost);
    this.comparison = new LabComparison(this.compareHost, { onShow: (name) => this.hooks.show(name) });
  }

  open(opened) {
    this.body.hidden = !opened;
    this.toggle.setAttribute("aria-expanded", String(opened));
    this.toggle.textContent = opened ? "Hide the lab" : "Open the lab";
    if (opened) this.charts.draw(); // a canvas hidden while drawn has no size
  }

  /** An empty name lets the server choose a free one from the structure; the placeholder shows its likely stem. */
  suggestName() {
    const layers = this.form.layerSizes().slice(1, -1);
    this.nameInput.placeholder = `train-${layers.join("-") || "no-hidden"}-${this.form.selects.activation.value}.safetensors`;
  }

  /** One line under the Train button: a refusal or failure (red), or, with ok, news (plain). */
  /** Where models go, and (while nothing runs) how a name is chosen. */
  showFolder(active) {
    const dir = this.lab.models_dir;
    this.folderLine.textContent = !dir ? "This server has no models folder to save into (digitnet serve --models-dir DIR)."
      : active ? `Models are saved into ${dir}.` : `Models are saved into ${dir}; leave the name empty for one made from the structure.`;
  }

  say(text, { ok = false } = {}) {
    this.message.textContent = text;
    this.message.classList.toggle("train-ok", ok);
  }

  // ---- start: the lab's settings, and a job already running --------------------------------------

  async start() {
    this.lab = await labApi.lab();
    if (!this.lab.enabled) {
      this.toggle.hidden = true;
      this.root.querySelector(".train-intro").textContent =
        "Training is turned off on this server (digitnet serve --no-training).";
      return;
    }
    this.form = new LabForm(this.formHost, this.lab);
    this.nameInput.maxLength = this.lab.limits.name_length;
    this.formHost.addEventListener("input", () => this.suggestName());
    this.formHost.addEventListener("change", () => this.suggestName());
    this.suggestName();
    this.showFolder(false);
    this.hooks.watchPredictions((prediction) => this.showGuess(prediction));
    await this.hooks.ready;
    const wanted = new URLSearchParams(window.location.hash.slice(1)).get("job");
    let job = null;
    if (wanted) {
      try {
        job = await labApi.job(wanted);
      } catch (error) {
        this.say(`Job ${wanted}: ${error.message}`);
      }
    }
    if (!job) job = (await labApi.jobs()).jobs.find((j) => !TERMINAL_STATES.has(j.state)) ?? null;
    if (job) {
      this.open(true);
      this.watch(job);
    }
  }

  // ---- train, pause, resume, stop --------------------------------------------------------------------

  async train() {
    this.say("");
    let request;
    try {
      request = this.form.values();
    } catch (error) {
      this.say(error.message);
      return;
    }
    const home = this.follower.following ? this.follower.home : this.hooks.shownModel();
    const name = this.nameInput.value.trim();
    if (name) request.name = name; // else the server names it from the structure, never over another file
    request.started_from = home;
    this.trainButton.disabled = true;
    try {
      const job = await labApi.start(request);
      this.follower.begin(home);
      this.watch(job);
      this.root.scrollIntoView({ block: "start", behavior: "smooth" }); // the form folds away: keep the live view in sight
      this.jobTitle.focus({ preventScroll: true }); // the Train button is disabled now: keyboard users go on from here
    } catch (error) {
      this.say(error.message);
      this.trainButton.disabled = false;
    }
  }

  pauseOrResume() {
    return this.command(this.job?.state === "paused" ? "resume" : "pause");
  }

  async command(verb) {
    if (!this.job) return;
    try {
      this.showJob(await labApi[verb](this.job.id));
    } catch (error) {
      this.say(error.message);
    }
  }

  // ---- watching a job --------------------------------------------------------------------------------

  /** Watch `job` (a Job): its stream first replays the job so far, then everything as it happens. */
  watch(job) {
    this.source?.close();
    this.job = null;
    this.compareHost.hidden = true;
    this.showJob(job);
    const url = new URL(window.location.href);
    url.hash = `job=${job.id}`;
    window.history.replaceState(null, "", url);
    const source = labApi.events(job.id);
    this.source = source;
    const lost = "Lost the connection to the server; trying again…";
    const on = (name, handle) => source.addEventListener(name, (event) => {
      if (this.source !== source) return;
      if (this.message.textContent === lost) this.say("");
      handle(JSON.parse(event.data));
    });
    on("job", (data) => this.showJob(data));
    on("progress", (progress) => this.showProgress(progress));
    on("weights", (snapshot) => this.showWeights(snapshot));
    on("epoch", (record) => {
      this.charts.addEpoch(record);
      this.charts.draw();
    });
    // EventSource retries by itself after a dropped connection; it gives up on an answer that is not a
    // stream (a server started anew no longer knows the job).
    source.addEventListener("error", () => {
      if (this.source !== source) return;
      this.say(source.readyState === EventSource.CLOSED
        ? `The server no longer has job ${job.id} (was it restarted?); reload the page.` : lost);
    });
  }

  /** A Job, whole (on connect and at every change of state): everything shown follows from it. */
  showJob(job) {
    const fresh = this.job?.id !== job.id;
    const ended = !TERMINAL_STATES.has(this.job?.state) && TERMINAL_STATES.has(job.state);
    this.job = { ...this.job, ...job };
    this.live.hidden = false;
    this.root.dataset.job = job.id;
    this.root.dataset.state = job.state;
    if (fresh) {
      this.charts.reset(job.settings.epochs);
      this.pictures.setNeurons(job.neurons);
      this.picturesHost.dataset.columns = job.neurons.length <= 8 ? "4" : job.neurons.length <= 10 ? "5" : job.neurons.length <= 16 ? "4" : "8";
      this.picturesTitle.textContent = job.neurons.length < job.layer_sizes[1]
        ? `What ${job.neurons.length} of the ${job.layer_sizes[1]} first-layer neurons look for`
        : `What each of the ${job.layer_sizes[1]} ${job.layer_sizes.length > 2 ? "first-layer" : "output"} neurons looks for`;
      this.jobTitle.textContent = `${job.name}: ${job.layer_sizes.join(" → ")}, ${job.activation}`;
      this.form.set({ ...this.lab.defaults, ...job.settings, layers: job.layer_sizes.slice(1, -1),
        activation: job.activation, output: job.output });
      this.nameInput.value = job.name;
    }
    if (fresh && TERMINAL_STATES.has(job.state)) this.nameInput.value = "";
    for (const record of job.history ?? []) this.charts.addEpoch(record);
    if (job.progress) this.showProgress(job.progress);
    else this.charts.draw();
    if (job.weights) this.showWeights(job.weights);
    const active = !TERMINAL_STATES.has(job.state);
    this.stateBadge.textContent = job.state === "failed" ? `failed: ${job.error}` : STATE_WORDS[job.state] ?? job.state;
    this.stateBadge.dataset.state = job.state;
    this.pauseButton.disabled = !["running", "paused"].includes(job.state);
    this.pauseButton.textContent = job.state === "paused" ? "Resume" : "Pause";
    this.stopButton.disabled = !active || job.state === "stopping";
    this.form.setDisabled(active);
    this.nameInput.disabled = active;
    this.showFolder(active);
    this.summary.textContent = `${job.layer_sizes.join("–")} ${job.activation}, ${job.output} output, ${describeTraining(job.settings)}`;
    this.trainButton.disabled = active;
    this.trainButton.textContent = active ? "Training…" : "Train again";
    if (active) this.settings.open = false;
    if (active && this.followBox.checked) this.follower.request(this.job);
    if (!active) {
      this.source?.close(); // else EventSource would reconnect and be told the end again
      if (ended || fresh) this.ended(job);
    }
  }

  showProgress(p) {
    this.stats.epoch.textContent = `${p.epoch} of ${p.epochs}`;
    this.stats.step.textContent = `${p.step.toLocaleString("en-US")} of ${p.steps.toLocaleString("en-US")}`;
    this.stats.speed.textContent = p.images_per_second ? Math.round(p.images_per_second).toLocaleString("en-US") : "–";
    this.stats.left.textContent = TERMINAL_STATES.has(this.job?.state) ? "done" : duration(p.seconds_left);
    this.progressBar.value = p.images_total ? p.images_done / p.images_total : 0;
    this.charts.addStep(p.epoch - 1 + p.step / p.steps, p.loss);
    this.charts.draw();
    if (this.job && this.followBox.checked) this.follower.request(this.job);
  }

  showWeights(snapshot) {
    const rows = decodeSnapshot(snapshot);
    this.pictures.paint((index) => rows.get(index));
    this.picturesHost.dataset.step = `${snapshot.epoch}:${snapshot.step}`;
  }

  /** The job has ended: show its saved model (or why there is none), and compare it with the page's model before. */
  async ended(job) {
    this.stats.left.textContent = "done";
    this.nameInput.value = ""; // the next job gets a name of its own
    this.settings.open = true; // ready for the next one
    await this.follower.settle(); // the views' last update with the running job's weights lands first
    const wasFollowing = this.follower.following;
    if (job.state === "failed") this.say(`Training failed: ${job.error}`);
    else if (!job.saved) this.say("Stopped before the first epoch ended: nothing was saved.");
    else this.say(`Saved ${job.saved}${job.test_accuracy !== null ? `: ${(100 * job.test_accuracy).toFixed(2)}% of the 10,000 test images right` : ""}.`, { ok: true });
    try {
      if (job.saved) {
        // Shown if the page was showing it learn; listed in the model menu in any case.
        this.follower.forget();
        this.guessBox.hidden = true;
        await this.hooks.showSaved(job.saved, { show: wasFollowing });
        this.comparison.show(job, await labApi.compare(job.id));
      } else {
        this.guessBox.hidden = true;
        await this.follower.stop();
      }
    } catch (error) {
      this.say(error.message);
    }
  }

  // ---- the explorer's views on the job's weights ----------------------------------------------------

  /** The explorer's latest guess (its input and answer), mirrored here while the lab shows a job learning. */
  showGuess(prediction) {
    this.guessBox.hidden = !this.follower.following;
    paintCells(this.seen.getContext("2d"), prediction ? prediction.input : new Array(784).fill(0), 28, 28, grayRgb);
    this.guessDigit.textContent = prediction ? String(prediction.digit) : "–";
    this.guessConfidence.textContent = prediction ? `${(100 * prediction.probabilities[prediction.digit]).toFixed(0)}% sure` : "draw a digit";
  }

  followChanged() {
    if (this.followBox.checked) {
      if (this.job) this.follower.request(this.job);
    } else {
      this.guessBox.hidden = true;
      this.follower.stop().catch((error) => this.say(error.message));
    }
  }
}
