// One layer as the video writes it: z = W a + b, then a′ = σ(z). W is a heatmap (a row per neuron of
// this layer, a column per neuron of the layer before), a runs under W's columns, b, z and σ(z) beside
// its rows. The real numbers appear in a readout on hover, or with the arrow keys on W.

import { signedRgb, grayRgb } from "./palette.js";
import { fmt, maxAbs, absQuantile } from "./numbers.js";
import { paintCells, cellAt } from "./cells.js";

// A touch screen has no hover: a tap reads a cell, and a button opens its neuron.
const TOUCH = window.matchMedia("(hover: none)");

export class MatrixView {
  /** onSelect({layer, index}) runs when a row (a neuron of this layer) is clicked. */
  constructor(root, readout, { onSelect }) {
    this.$ = (id) => root.querySelector(`#${id}`);
    this.root = root;
    this.readoutElement = readout;
    this.onSelect = onSelect;
    this.layer = null;
    this.prediction = null;
    this.cursor = [0, 0];
    this.described = null; // [describe, row, col] of the readout shown, redone when the input changes
    const handlers = {
      "m-w": (row, col) => this.describeWeight(row, col),
      "m-b": (row) => this.describeVector("b", row),
      "m-z": (row) => this.describeVector("z", row),
      "m-s": (row) => this.describeVector("s", row),
      "m-a": (row, col) => this.describeInput(col),
    };
    for (const [id, describe] of Object.entries(handlers)) {
      const canvas = this.$(id);
      const read = (event) => {
        if (!this.layer) return null;
        const [row, col] = cellAt(canvas, event, canvas.width, canvas.height);
        this.describe(describe, row, col);
        if (id === "m-w") this.moveCursor(row, col);
        return row;
      };
      canvas.addEventListener("pointermove", (event) => event.pointerType === "mouse" && read(event));
      canvas.addEventListener("click", (event) => {
        const row = read(event);
        // A tap on a touch screen only reads (a 784-column W gives a finger hairline columns); the
        // readout's button opens the neuron. A mouse click opens it at once.
        if (row === null || id === "m-a") return;
        if (!(TOUCH.matches || event.pointerType === "touch")) {
          this.onSelect({ layer: this.layer.layer, index: row });
          return;
        }
        if (id === "m-w" && this.nIn > 48) {
          // Too many columns for a finger to pick one: the tap reads the whole row (one neuron's weights).
          this.describe(this.describeRow, row, 0);
          this.moveCursor(row, 0, { wholeRow: true });
        }
        this.offerNeuron(row);
      });
    }
    this.readout(TOUCH.matches ? "Tap the matrix (or focus it and use the arrow keys) to read its numbers."
      : "Hover over (or focus and use the arrow keys on) the matrix to read its numbers.");
    this.$("m-w").addEventListener("keydown", (event) => this.onKey(event));
    this.$("m-w").addEventListener("focus", () => this.layer && this.describe(this.describeWeight, ...this.cursor));
  }

  /** layer: the API's {layer, squish, weights (n_out x n_in), biases}; names[l]: "Hidden layer 1", ... */
  setLayer(layer, names, { keepCursor = false } = {}) {
    this.layer = layer;
    this.names = names;
    this.nOut = layer.weights.length;
    this.nIn = layer.weights[0].length;
    this.flat = layer.weights.flat();
    // Contrast: the 99th percentile of |W| is full brightness, so a few large weights do not darken the rest.
    this.wScale = absQuantile(this.flat, 0.99);
    if (!keepCursor) {
      this.cursor = [0, 0];
      this.described = null;
      this.$("m-cursor").hidden = true;
    }
    this.$("m-shape").textContent = `(${this.nOut} × ${this.nIn}: ${this.nOut} neurons of ${names[layer.layer].toLowerCase()}, ` +
      `${this.nIn} of ${names[layer.layer - 1].toLowerCase()})`;
    this.layout();
    this.render();
    if (keepCursor && this.described) this.describe(...this.described);
  }

  setPrediction(prediction) {
    this.prediction = prediction;
    if (!this.layer) return;
    this.render();
    if (this.described) this.describe(...this.described); // the numbers of the new input, not the old
  }

  /** Show describe(row, col) in the readout, and remember it so a new input refreshes it. */
  describe(describe, row, col) {
    this.described = [describe, row, col];
    describe.call(this, row, col);
  }

  layout() {
    const rowHeight = Math.max(8, Math.min(22, Math.floor(320 / this.nOut)));
    const wide = this.nIn > 48;
    const wWidth = wide ? "minmax(0, 1fr)" : `${this.nIn * rowHeight}px`;
    this.root.style.gridTemplateColumns = `${wWidth} repeat(3, 34px)`;
    this.root.style.gridTemplateRows = `auto ${this.nOut * rowHeight}px ${Math.max(12, Math.min(rowHeight, 22))}px auto`;
    this.root.classList.toggle("wide", wide);
    const sizes = { "m-w": [this.nIn, this.nOut], "m-b": [1, this.nOut], "m-z": [1, this.nOut], "m-s": [1, this.nOut], "m-a": [this.nIn, 1] };
    for (const [id, [w, h]] of Object.entries(sizes)) {
      this.$(id).width = w;
      this.$(id).height = h;
    }
  }

  render() {
    const { layer, prediction: p } = this;
    const l = layer.layer;
    paintCells(this.$("m-w").getContext("2d"), this.flat, this.nIn, this.nOut, (w) => signedRgb(w, this.wScale));
    paintCells(this.$("m-b").getContext("2d"), layer.biases, 1, this.nOut, (b) => signedRgb(b, maxAbs(layer.biases)));
    const z = p ? p.weighted_sums[l - 1] : null;
    const a = p ? p.activations[l - 1] : null;
    const s = p ? p.activations[l] : null;
    const blank = () => [24, 26, 32];
    paintCells(this.$("m-z").getContext("2d"), z || [], 1, this.nOut, z ? (v) => signedRgb(v, maxAbs(z)) : blank);
    paintCells(this.$("m-s").getContext("2d"), s || [], 1, this.nOut, s ? grayRgb : blank);
    const aScale = a ? Math.max(1, ...a) : 1;
    paintCells(this.$("m-a").getContext("2d"), a || [], this.nIn, 1, a ? (v) => grayRgb(v / aScale) : blank);
  }

  /** PageUp/PageDown jump a picture row of columns (28 for 784 inputs), or a tenth of them. */
  pageStep() {
    return Math.round(Math.sqrt(this.nIn)) ** 2 === this.nIn ? Math.round(Math.sqrt(this.nIn)) : Math.max(1, Math.round(this.nIn / 10));
  }

  onKey(event) {
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1], PageUp: [0, -this.pageStep()], PageDown: [0, this.pageStep()] };
    if (event.key === "Enter") {
      this.onSelect({ layer: this.layer.layer, index: this.cursor[0] });
      return;
    }
    if (!(event.key in moves) || !this.layer) return;
    event.preventDefault();
    const [dr, dc] = moves[event.key];
    const row = Math.min(this.nOut - 1, Math.max(0, this.cursor[0] + dr));
    const col = Math.min(this.nIn - 1, Math.max(0, this.cursor[1] + dc));
    this.moveCursor(row, col);
    this.describe(this.describeWeight, row, col);
  }

  moveCursor(row, col, { wholeRow = false } = {}) {
    this.cursor = [row, col];
    const canvas = this.$("m-w");
    const box = this.$("m-cursor");
    const cellWidth = canvas.clientWidth / this.nIn;
    const cellHeight = canvas.clientHeight / this.nOut;
    Object.assign(box.style, {
      left: `${wholeRow ? -1 : col * cellWidth - 1}px`, top: `${row * cellHeight - 1}px`,
      width: `${wholeRow ? canvas.clientWidth + 2 : Math.max(3, cellWidth) + 2}px`, height: `${cellHeight + 2}px`,
    });
    box.hidden = false;
  }

  neuronName(layer, index) {
    return `${this.names[layer].toLowerCase()} neuron ${index}`;
  }

  describeWeight(row, col) {
    const l = this.layer.layer;
    const w = this.flat[row * this.nIn + col];
    let text = `W[${row}, ${col}] = ${fmt(w)}: the weight from ${this.neuronName(l - 1, col)} into ${this.neuronName(l, row)}`;
    if (this.prediction) {
      const a = this.prediction.activations[l - 1][col];
      text += `. With a[${col}] = ${fmt(a)} it adds W·a = ${fmt(w * a)} to z[${row}].`;
    }
    this.readout(text);
  }

  describeRow(row) {
    const l = this.layer.layer;
    const weights = this.flat.slice(row * this.nIn, (row + 1) * this.nIn);
    this.readout(`Row ${row} of W: the ${this.nIn} weights into ${this.neuronName(l, row)}, ` +
      `from ${fmt(Math.min(...weights), 2)} to ${fmt(Math.max(...weights), 2)}; z[${row}] = ` +
      `${this.prediction ? fmt(this.prediction.weighted_sums[l - 1][row]) : "(no input yet)"}.`);
  }

  describeInput(col) {
    const l = this.layer.layer;
    const a = this.prediction ? fmt(this.prediction.activations[l - 1][col]) : "(no input yet)";
    this.readout(`a[${col}] = ${a}: the activation of ${this.neuronName(l - 1, col)}, multiplied by column ${col} of W`);
  }

  describeVector(kind, row) {
    const l = this.layer.layer;
    const p = this.prediction;
    const none = "(no input yet)";
    if (kind === "b") this.readout(`b[${row}] = ${fmt(this.layer.biases[row])}: the bias of ${this.neuronName(l, row)}`);
    if (kind === "z") this.readout(`z[${row}] = Σⱼ W[${row}, j]·a[j] + b[${row}] = ${p ? fmt(p.weighted_sums[l - 1][row]) : none}`);
    if (kind === "s") this.readout(`a′[${row}] = ${this.layer.squish}(z[${row}]) = ${p ? fmt(p.activations[l][row]) : none}: the activation of ${this.neuronName(l, row)}`);
  }

  readout(text) {
    this.readoutElement.textContent = text;
  }

  /** After a tap: the readout gains a button that opens neuron `row` of this layer. */
  offerNeuron(row) {
    const l = this.layer.layer;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "open-neuron";
    button.textContent = `Open ${this.neuronName(l, row)}`;
    button.addEventListener("click", () => this.onSelect({ layer: l, index: row }));
    this.readoutElement.append(" ", button);
  }
}
