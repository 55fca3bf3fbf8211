// The network drawn as the video draws it: the 784 inputs as a 28x28 grid, each neuron a circle as bright
// as its activation, the strongest connections green (w·a > 0) or red (w·a < 0), the outputs with bars.
// Buttons over the neurons (neuron-buttons.js) make them clickable and reachable by keyboard. The
// forward pass can be shown a layer at a time (setReveal), as the video lights up one layer after another.

import { GREEN, RED, YELLOW, TEXT, MUTED, FONT, MATH_FONT, rgba } from "./palette.js";
import { crispContext, gridSide } from "./cells.js";
import { NeuronButtons } from "./neuron-buttons.js";

export class NetworkView {
  /** onSelect({layer, index}) runs when a neuron (layer >= 1) or an input pixel (layer 0) is chosen. */
  constructor(wrap, canvas, buttonHost, { onSelect }) {
    this.wrap = wrap;
    this.canvas = canvas;
    this.layerSizes = null;
    this.weights = []; // weights[l]: Float32Array (n_out * n_in), row i = weights into neuron i of layer l+1
    this.prediction = null;
    this.selected = null;
    this.topK = 60;
    this.reveal = Infinity; // layers 0..reveal are lit; the rest wait dark (Play / Step)
    this.fontScale = 1; // presentation mode draws every label larger
    this.inputImage = document.createElement("canvas");
    this.buttons = new NeuronButtons(buttonHost, this, { onSelect });
    new ResizeObserver(() => this.layout()).observe(wrap);
  }

  /** squishes[l]: layer l's activation function name ("input" for layer 0). */
  setModel(layerSizes, squishes, weights) {
    this.layerSizes = layerSizes;
    this.squishes = squishes;
    this.weights = weights;
    this.side = gridSide(layerSizes[0]) || 1; // an input that is not a square picture is drawn as one column
    this.inputImage.width = this.side;
    this.inputImage.height = Math.ceil(layerSizes[0] / this.side);
    this.prediction = null;
    this.selected = null;
    this.buttons.build(layerSizes);
    this.layout();
  }

  /** New weights for the same structure (the lab's edits): redraw the connections. */
  setWeights(weights) {
    this.weights = weights;
    this.draw();
  }

  setPrediction(prediction) {
    this.prediction = prediction;
    if (this.buttons.layerSizes) this.buttons.label((l) => this.activations(l));
    this.draw();
  }

  setSelected(selected) {
    this.selected = selected;
    this.buttons.mark(selected);
    this.draw();
  }

  setTopK(k) {
    this.topK = k;
    this.draw();
  }

  /** Light layers 0..layer only (Infinity: all); the canvas says which in data-revealed for tests and styles. */
  setReveal(layer) {
    this.reveal = layer;
    this.canvas.dataset.revealed = layer === Infinity ? "all" : String(layer);
    this.draw();
  }

  setFontScale(scale) {
    this.fontScale = scale;
    this.layout();
  }

  /** A label's font size in CSS px; the smallest drawn is kept in data-smallest-label (measured by tests). */
  px(size, scaled = true) {
    const result = Math.round(scaled ? size * this.fontScale : size);
    this.smallestLabel = Math.min(this.smallestLabel, result);
    return result;
  }

  // ---- geometry -------------------------------------------------------------------------------------

  layout() {
    if (!this.layerSizes) return;
    const [ctx, width, height] = crispContext(this.canvas);
    this.ctx = ctx;
    this.width = width;
    this.height = height;
    const pad = 12;
    const top = Math.round(40 * this.fontScale); // room for the column titles
    const usable = height - top - pad;
    this.narrow = width < 480; // a phone: shorter bars, no percentages
    const grid = Math.min(usable * 0.75, width * (this.narrow ? 0.25 : 0.28));
    this.grid = { x: pad, y: top + (usable - grid) / 2, size: grid, cell: grid / this.side };
    const outputRoom = (this.narrow ? 66 : Math.min(160, Math.max(96, width * 0.22))) * this.fontScale; // digit labels and bars
    const n = this.layerSizes.length - 1; // layers after the input
    const first = this.grid.x + grid + Math.max(40, width * 0.13);
    const last = width - pad - outputRoom;
    this.outputRoom = outputRoom;
    this.positions = [null];
    for (let l = 1; l <= n; l++) {
      const x = n === 1 ? last : first + ((l - 1) * (last - first)) / (n - 1);
      const size = this.layerSizes[l];
      const spacing = usable / size;
      const radius = Math.max(1.5, Math.min(16 * this.fontScale, spacing * 0.4));
      const ys = Array.from({ length: size }, (_, i) => top + spacing * (i + 0.5));
      this.positions.push({ x, ys, radius, spacing });
    }
    this.buttons.place();
    this.draw();
  }

  /** Centre of the neuron `index` of `layer` (layer 0: the pixel's centre in the grid). */
  centre(layer, index) {
    if (layer === 0) {
      const { x, y, cell } = this.grid;
      return [x + ((index % this.side) + 0.5) * cell, y + (Math.floor(index / this.side) + 0.5) * cell];
    }
    const p = this.positions[layer];
    return [p.x, p.ys[index]];
  }

  // ---- drawing --------------------------------------------------------------------------------------

  draw() {
    if (!this.ctx || !this.layerSizes) return;
    const { ctx, width, height } = this;
    ctx.clearRect(0, 0, width, height);
    this.smallestLabel = Infinity;
    this.drawTitles();
    this.drawConnections();
    this.drawInput();
    for (let l = 1; l < this.layerSizes.length; l++) this.drawLayer(l);
    this.canvas.dataset.smallestLabel = String(this.smallestLabel);
  }

  activations(layer) {
    return this.prediction && layer <= this.reveal ? this.prediction.activations[layer] : null;
  }

  drawTitles() {
    const { ctx } = this;
    const size = this.px(12);
    ctx.font = `${size}px ${FONT}`;
    ctx.fillStyle = MUTED;
    ctx.textAlign = "center";
    ctx.textBaseline = "alphabetic";
    const last = this.layerSizes.length - 1;
    // Two lines per column: its name, then how many neurons (kept inside the canvas at the edges).
    const title = (name, count, x) => {
      for (const [text, y, colour] of [[name, size + 2, TEXT], [count, 2 * size + 5, MUTED]]) {
        const half = ctx.measureText(text).width / 2;
        ctx.fillStyle = colour;
        ctx.fillText(text, Math.min(this.width - half - 2, Math.max(half + 2, x)), y);
      }
    };
    title("input", `${this.side}×${this.side} = ${this.layerSizes[0]}`, this.grid.x + this.grid.size / 2);
    for (let l = 1; l <= last; l++) {
      title(l === last ? "output" : `hidden ${l}`, String(this.layerSizes[l]), this.positions[l].x);
    }
  }

  /** The top-k (by |w·a|, or |w| before any input) connections into each layer, weakest drawn first. */
  drawConnections() {
    const { ctx } = this;
    const focus = this.selected;
    for (let l = 1; l < this.layerSizes.length && l <= this.reveal; l++) {
      const nIn = this.layerSizes[l - 1];
      const nOut = this.layerSizes[l];
      const w = this.weights[l - 1];
      const a = this.activations(l - 1);
      const strength = (i, j) => (a ? w[i * nIn + j] * a[j] : w[i * nIn + j]);
      const dim = focus && (focus.layer === l || (focus.layer === 0 && l === 1)) ? 0.3 : 1;
      this.drawStrongest(l, strongest(nOut * nIn, this.topK, (k) => strength(Math.floor(k / nIn), k % nIn)), nIn, dim);
      if (focus && focus.layer === l) {
        // The chosen neuron's own strongest inputs, on top.
        const picks = strongest(nIn, Math.min(nIn, 48), (j) => strength(focus.index, j));
        this.drawStrongest(l, picks.map(([j, s]) => [focus.index * nIn + j, s]), nIn, 1, 1.4);
      } else if (focus && focus.layer === 0 && l === 1) {
        const picks = strongest(nOut, nOut, (i) => strength(i, focus.index));
        this.drawStrongest(l, picks.map(([i, s]) => [i * nIn + focus.index, s]), nIn, 1, 1.4);
      }
    }
    ctx.globalAlpha = 1;
  }

  drawStrongest(layer, picks, nIn, dim, boost = 1) {
    if (picks.length === 0) return;
    const { ctx } = this;
    const largest = Math.abs(picks[picks.length - 1][1]) || 1;
    for (const [k, s] of picks) {
      const t = Math.abs(s) / largest;
      const [x0, y0] = this.centre(layer - 1, k % nIn);
      const [x1, y1] = this.centre(layer, Math.floor(k / nIn));
      ctx.strokeStyle = rgba(s >= 0 ? GREEN : RED, dim * Math.min(1, (0.12 + 0.88 * t ** 0.8) * boost));
      ctx.lineWidth = (0.4 + 2.8 * t) * boost;
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1);
      ctx.stroke();
    }
  }

  drawInput() {
    const { ctx, grid } = this;
    const input = this.activations(0);
    const small = this.inputImage.getContext("2d");
    const image = small.createImageData(this.inputImage.width, this.inputImage.height);
    for (let i = 0; i < this.layerSizes[0]; i++) {
      const v = input ? 255 * Math.min(1, Math.max(0, input[i])) : 0;
      image.data.set([v, v, v, 255], 4 * i);
    }
    small.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.inputImage, grid.x, grid.y, grid.size, grid.size);
    if (grid.cell >= 4) {
      ctx.strokeStyle = "rgba(255, 255, 255, 0.07)";
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let i = 1; i < this.side; i++) {
        ctx.moveTo(grid.x + i * grid.cell, grid.y);
        ctx.lineTo(grid.x + i * grid.cell, grid.y + grid.size);
        ctx.moveTo(grid.x, grid.y + i * grid.cell);
        ctx.lineTo(grid.x + grid.size, grid.y + i * grid.cell);
      }
      ctx.stroke();
    }
    ctx.strokeStyle = "rgba(236, 233, 228, 0.55)";
    ctx.lineWidth = 1;
    ctx.strokeRect(grid.x, grid.y, grid.size, grid.size);
    if (this.selected && this.selected.layer === 0) {
      const [cx, cy] = this.centre(0, this.selected.index);
      ctx.strokeStyle = YELLOW;
      ctx.lineWidth = 2;
      ctx.strokeRect(cx - grid.cell / 2, cy - grid.cell / 2, grid.cell, grid.cell);
    }
    if (!input) {
      ctx.fillStyle = MUTED;
      ctx.font = `${this.px(12)}px ${FONT}`;
      ctx.textAlign = "center";
      ctx.fillText("no input yet", grid.x + grid.size / 2, grid.y + grid.size / 2);
    }
  }

  drawLayer(layer) {
    const { ctx } = this;
    const { x, ys, radius } = this.positions[layer];
    const values = this.activations(layer);
    const isOutput = layer === this.layerSizes.length - 1;
    const guess = isOutput && this.prediction ? this.prediction.digit : -1;
    const scale = brightnessScale(this.squishes[layer], values);
    ys.forEach((y, i) => {
      const a = values ? values[i] : 0;
      const level = Math.round(255 * scale(a));
      ctx.beginPath();
      ctx.arc(x, y, radius, 0, 2 * Math.PI);
      ctx.fillStyle = `rgb(${level}, ${level}, ${level})`;
      ctx.fill();
      const chosen = this.selected && this.selected.layer === layer && this.selected.index === i;
      ctx.lineWidth = chosen || i === guess ? 2.5 : 1.2;
      ctx.strokeStyle = chosen ? YELLOW : i === guess ? YELLOW : "rgba(236, 233, 228, 0.8)";
      ctx.stroke();
      if (chosen) {
        ctx.beginPath();
        ctx.arc(x, y, radius + 4, 0, 2 * Math.PI);
        ctx.strokeStyle = rgba([247, 217, 111], 0.45);
        ctx.lineWidth = 2;
        ctx.stroke();
      }
      const labelSize = Math.min(radius * 1.1, 12 * this.fontScale); // the activation, written inside the neuron
      if (values && radius >= 12 && labelSize >= 11 * this.fontScale && !isOutput) {
        ctx.font = `${this.px(labelSize, false)}px ${FONT}`;
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        ctx.fillStyle = level > 140 ? "#111" : "#ddd";
        ctx.fillText(a.toFixed(2).replace(/^0\./, ".").replace(/^-0\./, "−."), x, y + 0.5);
      }
      if (isOutput) this.drawOutputLabel(i, x, y, radius, a, i === guess);
    });
  }

  drawOutputLabel(digit, x, y, radius, a, isGuess) {
    const { ctx } = this;
    const labelX = x + radius + 12;
    ctx.font = `${isGuess ? "bold " : ""}${this.px(Math.min(20, Math.max(11, radius * 1.15)))}px ${MATH_FONT}`;
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.fillStyle = isGuess ? YELLOW : TEXT;
    ctx.fillText(String(digit), labelX, y + 1);
    const barX = labelX + 16 * this.fontScale;
    const barMax = Math.max(10, this.width - barX - (this.narrow ? 4 : 46 * this.fontScale));
    const barHeight = Math.max(3, Math.min(radius * 1.1, 14));
    ctx.fillStyle = "rgba(255, 255, 255, 0.08)";
    ctx.fillRect(barX, y - barHeight / 2, barMax, barHeight);
    if (!this.prediction) return;
    const p = this.prediction.probabilities[digit];
    ctx.fillStyle = isGuess ? YELLOW : "rgba(236, 233, 228, 0.75)";
    ctx.fillRect(barX, y - barHeight / 2, Math.max(1, barMax * Math.min(1, a)), barHeight);
    if (this.narrow) return;
    ctx.font = `${this.px(11)}px ${FONT}`;
    ctx.fillStyle = isGuess ? YELLOW : MUTED;
    ctx.fillText(`${(100 * p).toFixed(p >= 0.995 ? 0 : 1)}%`, barX + barMax + 4, y + 1);
  }

  brightestPixel() {
    const input = this.activations(0);
    if (!input) return Math.floor(this.side / 2) * this.side + Math.floor(this.side / 2);
    let best = 0;
    input.forEach((v, i) => { if (v > input[best]) best = i; });
    return best;
  }
}

/** The `k` items of 0..n-1 with the largest |value(i)|, as [i, value] sorted weakest first. */
function strongest(n, k, value) {
  if (k <= 0) return [];
  const all = new Array(n);
  for (let i = 0; i < n; i++) all[i] = [i, value(i)];
  all.sort((p, q) => Math.abs(q[1]) - Math.abs(p[1]));
  return all.slice(0, k).filter(([, v]) => v !== 0).reverse();
}

/** Activation -> brightness in [0, 1]: sigmoid and softmax already are; tanh and ReLU are rescaled. */
function brightnessScale(squish, values) {
  if (!values) return () => 0;
  if (squish === "tanh") return (a) => (a + 1) / 2;
  if (squish === "relu") {
    const high = Math.max(...values);
    return (a) => Math.max(0, a) / (high || 1); // relative to the brightest of the layer
  }
  return (a) => Math.min(1, Math.max(0, a));
}
