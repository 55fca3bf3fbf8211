// What a neuron responds to, measured on MNIST's 10,000 test images: the ones that excite it most and
// least, and the average of its top 100 (is it the "edge" or "loop" detector the video hoped for?).

import { grayRgb } from "./palette.js";
import { fmt } from "./numbers.js";
import { element, gridSide, paintCells } from "./cells.js";
import { rovingTabStops } from "./roving.js";

const DIGIT_NAMES = ["0s", "1s", "2s", "3s", "4s", "5s", "6s", "7s", "8s", "9s"];

export class Probe {
  /** root: the box in the inspector; api; edits: the page's LabEdits; onPick(image) feeds a test image. */
  constructor(root, { api, edits, onPick }) {
    this.root = root;
    this.api = api;
    this.edits = edits;
    this.onPick = onPick;
    this.neuron = null;
    this.requestId = 0;
    this.button = element("button", { text: "Which test images excite it?", attributes: { id: "probe-run", type: "button" } });
    this.button.addEventListener("click", () => this.run());
    this.body = element("div", { attributes: { id: "probe-body" } });
    root.append(element("h3", { text: "What does it respond to?" }), this.button, this.body);
  }

  /** The inspector opened `neuron` ({layer, index}, layer >= 1), or null (an input pixel). */
  show(neuron) {
    this.neuron = neuron;
    this.requestId++;
    this.root.hidden = !neuron;
    this.root.dataset.settled = "true";
    this.body.replaceChildren();
  }

  async run() {
    const { layer, index } = this.neuron;
    const id = ++this.requestId;
    this.root.dataset.settled = "false";
    this.body.replaceChildren(element("p", { className: "small muted", text: "ranking the 10,000 test images by this neuron’s z…" }));
    try {
      const probe = await this.api.probe(layer, index, this.edits.list());
      if (id !== this.requestId) return;
      this.render(probe);
    } catch (error) {
      if (id === this.requestId) this.body.replaceChildren(element("p", { className: "message", text: error.message }));
    }
    if (id === this.requestId) this.root.dataset.settled = "true";
  }

  render(probe) {
    const side = gridSide(probe.average_of_top.length);
    const average = element("canvas", { className: "probe-average", attributes: { id: "probe-average", role: "img",
      "aria-label": `The average of the ${probe.average_count} test images that excite it most` } });
    average.width = average.height = side;
    const top = Math.max(...probe.average_of_top) || 1;
    paintCells(average.getContext("2d"), probe.average_of_top, side, side, (v) => grayRgb(v / top));
    const counts = probe.label_counts_of_top.map((n, d) => [n, d]).filter(([n]) => n > 0).sort((x, y) => y[0] - x[0]);
    const mix = counts.slice(0, 3).map(([n, d]) => `${n} ${DIGIT_NAMES[d]}`).join(", ");
    const averageRow = element("div", { className: "probe-average-row" });
    averageRow.append(average, element("p", { className: "small", text:
      `The average of its top ${probe.average_count}: mostly ${mix}. A clean edge or loop would show as one sharp stroke; ` +
      "a blur of whole digits means it is not the tidy detector the video hoped for." }));
    const galleries = element("div", { className: "probe-galleries" });
    for (const [text, images, id] of [["Excite it most (largest z)", probe.most_exciting, "probe-top"],
      ["Excite it least (most negative z)", probe.least_exciting, "probe-bottom"]]) {
      const column = element("div");
      column.append(element("p", { className: "small muted", text }), this.gallery(images, id));
      galleries.append(column);
    }
    this.body.replaceChildren(galleries, averageRow);
  }

  gallery(images, id) {
    const list = element("ul", { className: "probe-images", attributes: { id } });
    list.append(...images.map((image) => {
      const item = element("li");
      const button = element("button", { className: "probe-image", attributes: { type: "button", "data-index": String(image.index),
        "aria-label": `Test image ${image.index}, a ${image.label}: z = ${fmt(image.weighted_sum, 2)}. Feed it to the network.` } });
      button.title = `test image #${image.index} (a ${image.label}): z = ${fmt(image.weighted_sum, 2)}, a = ${fmt(image.activation, 3)}`;
      const side = gridSide(image.pixels.length);
      const canvas = element("canvas");
      canvas.width = canvas.height = side;
      paintCells(canvas.getContext("2d"), image.pixels, side, side, (v) => grayRgb(v / 255));
      button.append(canvas);
      button.addEventListener("click", () => this.onPick(image));
      item.append(button);
      return item;
    }));
    rovingTabStops(list);
    return list;
  }
}
