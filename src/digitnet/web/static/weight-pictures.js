// The first hidden layer's neurons as the video draws them: each neuron's 784 incoming weights as a 28x28
// picture, green where a bright pixel pushes it up, red where it pushes it down (the inspector's colours).
// Used live while a network learns, and side by side when two models are compared.

import { signedRgb } from "./palette.js";
import { maxAbs } from "./numbers.js";
import { paintCells } from "./cells.js";

/**
 * The scale at which a neuron's picture reaches full brightness: the 98th percentile of |w| (as the
 * inspector does), so a few large weights do not leave the rest of the picture black.
 * weights: (784,) numbers.
 */
export function pictureScale(weights) {
  const sorted = Array.from(weights, Math.abs).sort((x, y) => x - y);
  return sorted[Math.floor(0.98 * (sorted.length - 1))] || maxAbs(weights);
}

/** "0-7, 12, 30-31" -> [0..7, 12, 30, 31] within 0..count-1 (at most `limit`); null if it does not parse. */
export function parseNeuronList(text, count, limit) {
  const chosen = new Set();
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const match = /^(\d+)(?:\s*[-–]\s*(\d+))?$/.exec(part);
    if (!match) return null;
    const low = +match[1];
    const high = match[2] === undefined ? low : +match[2];
    if (high < low || high >= count) return null;
    for (let i = low; i <= high && chosen.size < limit; i++) chosen.add(i);
  }
  return chosen.size ? [...chosen].sort((x, y) => x - y) : null;
}

export class WeightPictures {
  /** host: an element to fill with one small figure per neuron; side: the picture's side (28). */
  constructor(host, { side = 28, label = "first hidden layer" } = {}) {
    this.host = host;
    this.side = side;
    this.label = label;
    this.indices = [];
    this.canvases = new Map(); // neuron index -> its canvas
  }

  /** Show these neurons (indices into the first hidden layer), in this order; clears the pictures. */
  setNeurons(indices) {
    this.indices = indices;
    this.canvases.clear();
    this.host.replaceChildren(...indices.map((index) => {
      const figure = document.createElement("figure");
      figure.className = "weight-tile";
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = this.side;
      canvas.dataset.neuron = String(index);
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", `${this.label}, neuron ${index}: its ${this.side * this.side} incoming weights`);
      const caption = document.createElement("figcaption");
      caption.textContent = String(index);
      figure.append(canvas, caption);
      this.canvases.set(index, canvas);
      return figure;
    }));
  }

  /** rowOf(index) -> that neuron's (784,) weights, or undefined to leave its picture as it is. */
  paint(rowOf) {
    for (const [index, canvas] of this.canvases) {
      const weights = rowOf(index);
      if (!weights) continue;
      const scale = pictureScale(weights);
      paintCells(canvas.getContext("2d"), weights, this.side, this.side, (w) => signedRgb(w, scale));
    }
  }
}
