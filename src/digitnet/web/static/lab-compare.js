// After training: the new model against the one the page showed when Train was pressed, on MNIST's
// 10,000 test images: accuracy, accuracy per digit, and the first layer's weight pictures side by side.

import { labApi } from "./lab-api.js";
import { WeightPictures } from "./weight-pictures.js";
import { el } from "./lab-dom.js";
import { percent } from "./numbers.js";

const MAX_PICTURES = 32;

export class LabComparison {
  /** onShow(model): show that model (a ?model= value, null: the startup model) in the explorer. */
  constructor(host, { onShow }) {
    this.host = host;
    this.onShow = onShow;
  }

  /** job: the ended Job; comparison: GET /api/jobs/{id}/compare's {new, old}. */
  async show(job, comparison) {
    const { new: fresh, old } = comparison;
    const oldModel = old.model; // null: the startup model
    const table = el("table", { class: "train-compare-table", id: "train-compare-table" },
      el("caption", { class: "small muted" }, `Accuracy on MNIST’s 10,000 test images: new is ${fresh.name}, before is ${old.name}`),
      el("thead", {}, el("tr", {},
        el("th", { scope: "col" }, "digit"),
        el("th", { scope: "col" }, "new"),
        el("th", { scope: "col" }, "before"),
        el("th", { scope: "col" }, "change"))),
      el("tbody", {},
        row("all", fresh.accuracy, old.accuracy, true),
        ...fresh.per_digit_accuracy.map((accuracy, digit) => row(String(digit), accuracy, old.per_digit_accuracy[digit]))));
    const newPictures = el("div", { class: "weight-tiles", id: "train-compare-new", "data-columns": "8" });
    const oldPictures = el("div", { class: "weight-tiles", id: "train-compare-old", "data-columns": "8" });
    this.host.replaceChildren(
      el("h3", {}, "The new model against the one it started from"),
      el("div", { class: "train-compare-grid" },
        table,
        el("div", { class: "train-compare-pictures" },
          el("h4", {}, `new: ${fresh.name} (${fresh.layer_sizes.join("–")})`), newPictures,
          el("h4", {}, `before: ${old.name} (${old.layer_sizes.join("–")})`), oldPictures)),
      el("div", { class: "train-controls" },
        el("button", { type: "button", id: "train-show-new", onclick: () => this.onShow(job.saved) }, `Show ${fresh.name}`),
        el("button", { type: "button", id: "train-show-old", onclick: () => this.onShow(oldModel) }, `Show ${old.name}`)));
    this.host.hidden = false;
    const [newLayer, oldLayer] = await Promise.all([labApi.layer(fresh.model, 1), labApi.layer(oldModel, 1)]);
    picture(newPictures, newLayer, job.neurons, fresh.name);
    picture(oldPictures, oldLayer, oldLayer.weights.slice(0, MAX_PICTURES).map((_, i) => i), old.name);
  }
}

function row(label, fresh, old, strong = false) {
  const change = fresh - old;
  const cell = (tag, text, attributes = {}) => el(tag, attributes, text);
  return el("tr", { class: strong ? "train-compare-all" : null },
    cell("th", label, { scope: "row" }),
    cell("td", percent(fresh, 1)),
    cell("td", percent(old, 1)),
    cell("td", `${change >= 0 ? "+" : "−"}${Math.abs(100 * change).toFixed(1)}`, {
      class: Math.abs(change) < 0.0005 ? "same" : change > 0 ? "better" : "worse" }));
}

/** Paint `indices` of a /api/layer/1 answer's rows into `host` (only a first layer fed by 784 pixels is a picture). */
function picture(host, layer, indices, name) {
  if (layer.weights[0]?.length !== 784) {
    host.replaceChildren(el("p", { class: "small muted" }, "its first layer is not fed by the 784 pixels"));
    return;
  }
  const pictures = new WeightPictures(host, { label: name });
  pictures.setNeurons(indices);
  pictures.paint((index) => layer.weights[index]);
}
