// What the edits do to the whole network: its accuracy on MNIST's 10,000 test images against the
// trained network's, digit by digit, the test images whose answer changed (click to see them), and
// saving the edited network as a new model file (the original file is never changed).

import { element, gridSide, paintCells, bringIntoView } from "./cells.js";
import { grayRgb } from "./palette.js";
import { percent, pointChange } from "./numbers.js";

const SHOWN_CHANGES = 100; // pictures fetched for the "changed their answer" panel

export class LabResults {
  /**
   * root: the box in the inspector; panel: the page's "changed their answer" section. api: the page's API;
   * edits: its LabEdits; onPick(example) feeds a changed test image to the network; onSaved(answer) after a save.
   */
  constructor(root, panel, { api, edits, onPick, onSaved }) {
    this.root = root;
    this.panel = panel;
    this.api = api;
    this.edits = edits;
    this.onPick = onPick;
    this.onSaved = onSaved;
    this.requestId = 0;
    this.evaluation = null;
    this.build();
    panel.querySelector("#changed-close").addEventListener("click", () => { panel.hidden = true; });
  }

  build() {
    this.summary = element("p", { className: "lab-accuracy", attributes: { id: "lab-accuracy", "aria-live": "polite" } });
    this.perDigit = element("ol", { className: "per-digit", attributes: { id: "per-digit", "aria-label": "Test accuracy per digit: the change" } });
    this.changedButton = element("button", { className: "changed-button", attributes: { id: "changed-button", type: "button" } });
    this.changedButton.addEventListener("click", () => this.showChanged());
    const form = element("form", { className: "save-row", attributes: { id: "save-form" } });
    const label = element("label", { text: "Save as", attributes: { for: "save-name" } });
    this.name = element("input", { attributes: { id: "save-name", type: "text", maxlength: "100", spellcheck: "false", autocomplete: "off" } });
    const save = element("button", { text: "Save as a new model", attributes: { id: "save", type: "submit" } });
    form.append(label, this.name, save);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    this.message = element("p", { className: "message", attributes: { id: "save-message", role: "status", "aria-live": "polite" } });
    this.clearButton = element("button", { text: "Undo every edit", attributes: { id: "lab-clear", type: "button" } });
    this.root.append(element("h3", { text: "The edited network on the 10,000 test images" }), this.summary, this.perDigit,
      this.changedButton, form, this.message, this.clearButton);
  }

  /** The model is `modelName`: a name for its edited copy. */
  setModel(modelName) {
    const stem = (modelName || "model").replace(/\.safetensors$/, "");
    this.name.value = `${stem}-edited.safetensors`;
    this.message.textContent = "";
    this.update();
  }

  /** Evaluate the current edits (the latest call wins); show nothing when there are none. */
  async update() {
    const id = ++this.requestId;
    this.root.hidden = this.edits.size === 0;
    this.root.dataset.settled = "false";
    if (this.edits.size === 0) {
      this.evaluation = null;
      this.panel.hidden = true;
      this.root.dataset.settled = "true";
      return;
    }
    this.summary.textContent = "measuring the edited network on the 10,000 test images…";
    try {
      const evaluation = await this.api.evaluate(this.edits.list());
      if (id !== this.requestId) return;
      this.evaluation = evaluation;
      this.render(evaluation);
    } catch (error) {
      if (id === this.requestId) this.summary.textContent = `Could not measure it: ${error.message}`;
    }
    if (id === this.requestId) this.root.dataset.settled = "true";
  }

  render(e) {
    const change = e.accuracy - e.original_accuracy;
    this.summary.replaceChildren(
      "Test accuracy ", element("strong", { text: percent(e.accuracy, 2), attributes: { id: "lab-accuracy-value" } }),
      ` (trained: ${percent(e.original_accuracy, 2)}, `,
      element("span", { className: change < 0 ? "worse" : change > 0 ? "better" : "", text: pointChange(change) }), ")");
    this.perDigit.replaceChildren(...e.per_digit.map((d) => {
      const item = element("li", { className: d.change < -0.0005 ? "worse" : d.change > 0.0005 ? "better" : "" });
      item.dataset.digit = d.digit;
      item.title = `${d.digit}: ${percent(d.accuracy, 1)} of ${d.count} (trained ${percent(d.original_accuracy, 1)})`;
      item.append(element("span", { className: "digit", text: String(d.digit) }), element("span", { text: pointChange(d.change, 1).replace(" pt", "") }));
      return item;
    }));
    const n = e.changed_count;
    this.changedButton.hidden = false;
    this.changedButton.disabled = n === 0;
    this.changedButton.textContent = n === 0 ? "No test image changed its answer"
      : `These ${n.toLocaleString("en-US")} test images changed their answer (${e.fixed_count} now right, ${e.broken_count} now wrong): show them`;
  }

  async showChanged() {
    const e = this.evaluation;
    if (!e || e.changed.length === 0) return;
    const shown = e.changed.slice(0, SHOWN_CHANGES);
    const list = this.panel.querySelector("#changed-list");
    this.panel.hidden = false;
    this.panel.querySelector("#changed-summary").textContent = `${e.changed_count.toLocaleString("en-US")} changed` +
      (e.changed_count > shown.length ? `; the first ${shown.length} shown` : "") + ". Label: old guess → new guess. Click one to feed it to the network.";
    try {
      const { images } = await this.api.testImages(shown.map((c) => c.index));
      const byIndex = new Map(images.map((image) => [image.index, image]));
      list.replaceChildren(...shown.map((c) => this.item(c, byIndex.get(c.index))));
    } catch (error) {
      list.replaceChildren(element("li", { className: "message", text: error.message }));
    }
    bringIntoView(this.panel.querySelector("#changed-title"), list);
  }

  item(change, image) {
    const li = element("li");
    const right = change.new_guess === change.label;
    const button = element("button", { className: `example${right ? "" : " wrong"}`, attributes: { type: "button", "data-index": String(change.index) } });
    button.setAttribute("aria-label", `Test image ${change.index}, a ${change.label}: was ${change.old_guess}, now ${change.new_guess}`);
    const side = gridSide(image.pixels.length);
    const canvas = element("canvas");
    canvas.width = canvas.height = side;
    paintCells(canvas.getContext("2d"), image.pixels, side, side, (v) => grayRgb(v / 255));
    button.append(canvas, element("span", { className: "example-caption", text: `${change.label}: ${change.old_guess} → ${change.new_guess}` }));
    button.addEventListener("click", () => this.onPick({ index: change.index, label: change.label, pixels: image.pixels }));
    li.append(button);
    return li;
  }

  async save() {
    this.message.dataset.kind = "info";
    this.message.textContent = "saving…";
    try {
      const answer = await this.api.save(this.name.value.trim(), this.edits.list());
      this.message.textContent = `Saved as ${answer.name} in the models folder (test accuracy ${percent(answer.test_accuracy, 2)}); ` +
        "choose it under “The model” to open it. The original file is unchanged.";
      this.onSaved(answer);
    } catch (error) {
      this.message.dataset.kind = "error";
      this.message.textContent = `Not saved: ${error.message}`;
    }
  }
}
