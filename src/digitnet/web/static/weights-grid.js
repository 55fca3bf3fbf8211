// Every first-layer neuron's incoming weights at once, each as its 28x28 picture (green +, red −):
// the video's "what is each neuron looking for?". Click one to open it in the inspector.

import { signedRgb } from "./palette.js";
import { absQuantile } from "./numbers.js";
import { element, gridSide, paintCells } from "./cells.js";
import { rovingTabStops } from "./roving.js";

/**
 * Draw `layer` (the API's layer 1: weights n_out x 784, biases) into the list `host`; onOpen(i) opens
 * neuron i. edited(i) says whether the lab changed it. A first layer that is not a picture hides the panel.
 */
export function renderWeightsGrid(host, panel, layer, { onOpen, edited }) {
  const side = gridSide(layer.weights[0].length);
  panel.hidden = side === null;
  if (side === null) return;
  // One scale for all, so the pictures can be compared: the 99th percentile of every |w|.
  const scale = absQuantile(layer.weights.flat(), 0.99);
  host.replaceChildren(...layer.weights.map((weights, i) => {
    const item = element("li");
    const button = element("button", { className: `weights-cell${edited(i) ? " edited" : ""}`, attributes: {
      type: "button", "data-index": String(i), "aria-label": `Hidden layer 1, neuron ${i}: its weights${edited(i) ? " (edited)" : ""}. Open it.` } });
    const canvas = element("canvas");
    canvas.width = canvas.height = side;
    paintCells(canvas.getContext("2d"), weights, side, side, (w) => signedRgb(w, scale));
    button.append(canvas, element("span", { className: "example-caption", text: `${i}${edited(i) ? " ✎" : ""}` }));
    button.addEventListener("click", () => onOpen(i));
    item.append(button);
    return item;
  }));
  rovingTabStops(host);
}
