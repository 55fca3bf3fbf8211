// The explorer's own views (the network, the open neuron, the matrix, the guess for the drawing) on a
// training job's weights while it learns: the page's hooks show `?model=job:ID`, and bring the views up
// to its weights of now a few times a second, one request at a time.

import { TERMINAL_STATES } from "./lab-api.js";

const FOLLOW_EVERY_MS = 250; // the guess for the drawing is brought up to the job's weights at most this often
// ... and the network view, neuron and matrix (whole layers of numbers, hundreds of kB of JSON for a big
// network) at most every this many ms per 20,000 weights and biases, and at least every 500 ms: the video's
// network twice a second, 100 hidden neurons every 2 s, so the page does not take the cores training needs.
const WEIGHTS_EVERY_MS_PER_20K = 500;

export class Follower {
  /**
   * hooks: the explorer's (see train-panel.js); onLeft(): the user chose another model in the menu, so the
   * views no longer follow; onError(message): a view could not be brought up to date.
   */
  constructor(hooks, { onLeft, onError }) {
    this.hooks = hooks;
    this.onLeft = onLeft;
    this.onError = onError;
    this.home = undefined; // the model the page showed before it followed (undefined: not following)
    this.job = null;
    this.busy = false;
    this.again = false; // asked again while busy or waiting
    this.timer = null;
    this.last = 0; // when the views were last brought up to date (performance.now())
    this.lastWeights = -Infinity; // ... and their weights
    this.epochs = 0; // how many epochs the model panel's history showed
    this.shownName = null; // the job:ID the views were last brought to
    this.promise = Promise.resolve(); // the update under way
  }

  get following() {
    return this.home !== undefined;
  }

  /** Follow from now on, remembering `home` (a ?model= name, null: the startup model) to go back to. */
  begin(home) {
    this.home = home;
  }

  /** Bring the views up to `job`'s weights (a Job): now, or as soon as the update under way is done. */
  request(job) {
    this.job = job;
    if (TERMINAL_STATES.has(job.state)) return;
    if (this.busy || this.timer !== null) {
      this.again = true;
      return;
    }
    const wait = this.last + FOLLOW_EVERY_MS - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.request(this.job);
      }, wait);
      return;
    }
    const shown = this.hooks.shownModel();
    if (this.shownName === job.model && shown !== job.model) { // the user chose another model: leave it shown
      this.forget();
      this.onLeft();
      return;
    }
    if (!this.following) this.home = shown;
    this.busy = true;
    this.again = false;
    this.last = performance.now();
    const sizes = job.layer_sizes;
    const parameters = sizes.slice(1).reduce((sum, n, l) => sum + n * (sizes[l] + 1), 0);
    const weights = this.last - this.lastWeights >= WEIGHTS_EVERY_MS_PER_20K * Math.max(1, parameters / 20_000);
    if (weights) this.lastWeights = this.last;
    const epochs = job.history?.length ?? 0;
    const facts = epochs !== this.epochs;
    this.epochs = epochs;
    this.promise = this.hooks.follow(job.model, { weights, facts })
      .then(() => (this.shownName = job.model))
      .catch((error) => {
        if (!TERMINAL_STATES.has(this.job.state)) this.onError(error.message);
      })
      .finally(() => {
        this.busy = false;
        if (this.again && this.job.id === job.id) this.request(this.job);
      });
  }

  /** Ask for no more updates, and wait for the one under way to land. */
  async settle() {
    clearTimeout(this.timer);
    this.timer = null;
    this.again = false;
    await this.promise;
  }

  /** Stop following without touching the views (they show something else now). */
  forget() {
    this.home = undefined;
    this.shownName = null;
  }

  /** Stop following and show the page's model from before again. */
  async stop() {
    const { home, following } = this;
    this.forget();
    await this.settle();
    if (following) await this.hooks.show(home);
  }
}
