// "Inside a neuron": its bias b, weighted sum z, activation σ(z) on the curve of its squish, and the
// weights coming into it, as a picture (first hidden layer: 784 = 28x28 weights) or as bars (deeper
// layers). An input pixel shows its brightness and the weights going out of it.

import { signedRgb } from "./palette.js";
import { fmt, absQuantile } from "./numbers.js";
import { paintCells, cellAt, gridSide, element } from "./cells.js";
import { drawCurve, SQUISHES } from "./activation-curve.js";
import { drawBars } from "./weight-bars.js";

export class Inspector {
  /** onSelect({layer, index}) runs when a bar (a neuron of the layer before) is clicked. */
  constructor(root, { onSelect }) {
    this.$ = (id) => root.querySelector(`#${id}`);
    this.root = root;
    this.onSelect = onSelect;
    this.neuron = null; // {layer, index, squish, bias, weights} from the API, or an input pixel
    this.prediction = null;
    this.cursor = null; // pixel under the mouse or keyboard cursor of the weight picture
    this.pictureListeners = [];
    const picture = this.$("weight-picture");
    picture.addEventListener("mousemove", (event) => {
      if (!this.side) return;
      const [row, col] = cellAt(picture, event, this.side, this.side);
      this.describePixel(row * this.side + col);
    });
    picture.addEventListener("mouseleave", () => this.readout(""));
    picture.addEventListener("keydown", (event) => this.keyPicture(event));
    this.$("overlay").addEventListener("change", () => this.render());
  }

  /** neuron: the API's {layer, index, squish, bias, weights}; or {layer: 0, index, outgoing} for a pixel. */
  show(neuron, { layerSizes, layerNames }) {
    this.neuron = neuron;
    this.layerSizes = layerSizes;
    this.layerNames = layerNames;
    this.side = gridSide(layerSizes[0]);
    this.cursor = null;
    this.$("inspector-hint").hidden = true;
    this.$("inspector-body").hidden = false;
    this.readout("");
    this.render();
  }

  /** The same neuron, changed (the lab's edits): redraw it, keeping the cursor and the readout. */
  update(neuron) {
    this.neuron = neuron;
    this.render();
  }

  clear() {
    this.neuron = null;
    this.$("inspector-hint").hidden = false;
    this.$("inspector-body").hidden = true;
    this.$("inspector-title").textContent = "Inside a neuron";
  }

  setPrediction(prediction) {
    this.prediction = prediction;
    if (this.neuron) this.render();
  }

  render() {
    const n = this.neuron;
    if (!n) return;
    const p = this.prediction;
    const last = this.layerSizes.length - 1;
    if (n.layer === 0) return this.renderPixel(n, p);
    this.$("inspector-title").textContent =
      (n.layer === last ? `Output neuron “${n.index}”` : `${this.layerNames[n.layer]} · neuron ${n.index}`) + (n.edited ? " (edited)" : "");
    this.$("n-bias").textContent = fmt(n.bias);
    const z = p ? p.weighted_sums[n.layer - 1][n.index] : null;
    const a = p ? p.activations[n.layer][n.index] : null;
    this.$("n-z").textContent = p ? fmt(z) : "no input yet";
    this.$("n-a").textContent = p ? fmt(a) : "no input yet";
    const symbol = n.squish === "softmax" ? "softmax" : SQUISHES[n.squish]?.symbol ?? n.squish;
    this.$("n-a-label").replaceChildren("activation ", element("var", { text: "a" }), ` = ${symbol}(`,
      element("var", { text: "z" }), ")");
    for (const id of ["n-bias", "n-z"]) this.$(id).parentElement.hidden = false;
    this.$("curve").parentElement.hidden = false;
    this.$("curve-caption").textContent = drawCurve(this.$("curve"), n, z, a, p);
    const nIn = n.weights.length;
    const isPicture = n.layer === 1 && this.side !== null;
    this.$("weights-title").textContent = `Incoming weights: ${nIn} from ${n.layer === 1 ? "the input pixels" : this.layerNames[n.layer - 1].toLowerCase()}`;
    this.$("picture-block").hidden = !isPicture;
    this.$("bars-block").hidden = isPicture;
    if (isPicture) {
      this.paintPicture(n.weights, p ? p.input : null);
      return;
    }
    const before = this.layerNames[n.layer - 1].toLowerCase();
    const activations = p ? p.activations[n.layer - 1] : null;
    this.$("bars-caption").textContent = `Bars: the weight from each neuron of ${before} into this one (green > 0, red < 0)` +
      (activations ? ". Dots under them: that neuron’s activation now (black 0, white 1)." : ".");
    drawBars(this.$("weight-bars"), n.weights, activations, {
      describe: (j, w, act) => `from ${before} neuron ${j}: w = ${fmt(w)}` + (act !== null ? `, a = ${fmt(act)}, w·a = ${fmt(w * act)}` : ""),
      onPick: (j) => this.onSelect({ layer: n.layer - 1, index: j }),
      onHover: (text) => this.readout(text),
    });
  }

  renderPixel(n, p) {
    const side = this.side || 1;
    this.$("inspector-title").textContent = this.side
      ? `Input pixel · row ${Math.floor(n.index / side)}, column ${n.index % side}` : `Input ${n.index}`;
    for (const id of ["n-bias", "n-z"]) this.$(id).parentElement.hidden = true;
    this.$("n-a-label").textContent = "brightness a (0 black … 1 white)";
    this.$("n-a").textContent = p ? fmt(p.input[n.index]) : "no input yet";
    this.$("curve").parentElement.hidden = true;
    const next = this.layerNames[1].toLowerCase();
    this.$("weights-title").textContent = `Outgoing weights: into the ${this.layerSizes[1]} neurons of ${next}`;
    this.$("picture-block").hidden = true;
    this.$("bars-block").hidden = false;
    this.$("bars-caption").textContent = `Bars: the weight from this pixel into each neuron of ${next} (green > 0, red < 0). ` +
      "Click a bar to open that neuron.";
    const value = p ? p.input[n.index] : null;
    drawBars(this.$("weight-bars"), n.outgoing, null, {
      describe: (j, w) => `into ${next} neuron ${j}: w = ${fmt(w)}` + (value !== null ? `, pixel a = ${fmt(value)}, w·a = ${fmt(w * value)}` : ""),
      onPick: (j) => this.onSelect({ layer: 1, index: j }),
      onHover: (text) => this.readout(text),
    });
  }

  // ---- first hidden layer: the weights as a picture --------------------------------------------------

  paintPicture(weights, input) {
    const canvas = this.$("weight-picture");
    const side = this.side;
    canvas.width = canvas.height = side;
    // Full brightness at the 98th percentile of |w|, so a few large weights do not leave the rest black.
    const scale = absQuantile(weights, 0.98);
    const overlay = this.$("overlay").checked && input;
    paintCells(canvas.getContext("2d"), weights, side, side, (w, i) => {
      const colour = signedRgb(w, scale);
      if (!overlay) return colour;
      const alpha = 0.35 * input[i]; // the ink shows as a white veil over the weights beneath it
      return colour.map((c) => c * (1 - alpha) + 255 * alpha);
    });
    this.$("scale-neg").textContent = fmt(-scale, 2);
    this.$("scale-pos").textContent = `+${fmt(scale, 2)}`;
    canvas.setAttribute("aria-label", `The neuron's ${weights.length} incoming weights as a ${side} by ${side} picture, ` +
      `from ${fmt(Math.min(...weights), 2)} to ${fmt(Math.max(...weights), 2)}. Arrow keys read single pixels.`);
    if (this.cursor !== null) this.describePixel(this.cursor);
  }

  keyPicture(event) {
    const side = this.side;
    const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
    if (!(event.key in moves) || !side) return;
    event.preventDefault();
    const here = this.cursor ?? Math.floor(side / 2) * side + Math.floor(side / 2);
    const row = Math.min(side - 1, Math.max(0, Math.floor(here / side) + moves[event.key][0]));
    const col = Math.min(side - 1, Math.max(0, (here % side) + moves[event.key][1]));
    this.describePixel(row * side + col);
  }

  describePixel(j) {
    this.cursor = j;
    const w = this.neuron.weights[j];
    const a = this.prediction ? this.prediction.input[j] : null;
    const tail = a === null ? "" : `, input a = ${fmt(a)}, w·a = ${fmt(w * a)}`;
    this.readout(`pixel row ${Math.floor(j / this.side)}, column ${j % this.side}: weight w = ${fmt(w)}${tail}`);
  }

  readout(text) {
    this.$("hover-readout").textContent = text;
  }
}
