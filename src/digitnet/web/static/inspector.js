// "Inside a neuron": its bias b, weighted sum z, activation σ(z) on the curve of its squish, and the
// weights coming into it, as a 28x28 picture (first hidden layer) or as bars (deeper layers).

import { GREEN, RED, BLUE, YELLOW, TEXT, MUTED, FONT, rgba, signedRgb, paintCells, maxAbs, fmt, crispContext } from "./colors.js";

const SIDE = 28;
const SVG = "http://www.w3.org/2000/svg";

const SQUISHES = {
  sigmoid: { name: "σ(z) = 1 / (1 + e⁻ᶻ)", f: (z) => 1 / (1 + Math.exp(-z)), range: [0, 1] },
  tanh: { name: "tanh(z)", f: Math.tanh, range: [-1, 1] },
  relu: { name: "ReLU(z) = max(0, z)", f: (z) => Math.max(0, z), range: null },
};

export class Inspector {
  /** onSelect({layer, index}) runs when a bar (a neuron of the layer before) is clicked. */
  constructor(root, { onSelect }) {
    this.$ = (id) => root.querySelector(`#${id}`);
    this.onSelect = onSelect;
    this.neuron = null; // {layer, index, squish, bias, weights} from the API, or an input pixel
    this.prediction = null;
    this.cursor = null; // pixel under the mouse or keyboard cursor of the weight picture
    const picture = this.$("weight-picture");
    picture.addEventListener("mousemove", (event) => this.hoverPicture(event));
    picture.addEventListener("mouseleave", () => this.readout(""));
    picture.addEventListener("keydown", (event) => this.keyPicture(event));
    this.$("overlay").addEventListener("change", () => this.render());
  }

  /** neuron: the API's {layer, index, squish, bias, weights}; or {layer: 0, index, outgoing, nextName} for a pixel. */
  show(neuron, { layerSizes, layerNames }) {
    this.neuron = neuron;
    this.layerSizes = layerSizes;
    this.layerNames = layerNames;
    this.cursor = null;
    this.$("inspector-hint").hidden = true;
    this.$("inspector-body").hidden = false;
    this.readout("");
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
      n.layer === last ? `Output neuron “${n.index}”` : `${this.layerNames[n.layer]} · neuron ${n.index}`;
    this.$("n-bias").textContent = fmt(n.bias);
    const z = p ? p.weighted_sums[n.layer - 1][n.index] : null;
    const a = p ? p.activations[n.layer][n.index] : null;
    this.$("n-z").textContent = p ? fmt(z) : "no input yet";
    this.$("n-a").textContent = p ? fmt(a) : "no input yet";
    this.$("n-a-label").innerHTML =
      n.squish === "softmax" ? "activation <var>a</var> = softmax(<var>z</var>)" : `activation <var>a</var> = ${n.squish === "sigmoid" ? "σ" : n.squish}(<var>z</var>)`;
    for (const id of ["n-bias", "n-z"]) this.$(id).parentElement.hidden = false;
    this.$("curve").parentElement.hidden = false;
    this.drawCurve(n, z, a, p);
    const nIn = n.weights.length;
    const isPicture = nIn === SIDE * SIDE;
    this.$("weights-title").textContent = `Incoming weights: ${nIn} from ${n.layer === 1 ? "the input pixels" : this.layerNames[n.layer - 1].toLowerCase()}`;
    this.$("picture-block").hidden = !isPicture;
    this.$("bars-block").hidden = isPicture;
    if (isPicture) this.paintPicture(n.weights, p ? p.input : null);
    else this.drawBars(n.weights, p ? p.activations[n.layer - 1] : null, n.layer - 1);
  }

  renderPixel(n, p) {
    const row = Math.floor(n.index / SIDE);
    const col = n.index % SIDE;
    this.$("inspector-title").textContent = `Input pixel · row ${row}, column ${col}`;
    for (const id of ["n-bias", "n-z"]) this.$(id).parentElement.hidden = true;
    this.$("n-a-label").textContent = "brightness a (0 black … 1 white)";
    this.$("n-a").textContent = p ? fmt(p.input[n.index]) : "no input yet";
    this.$("curve").parentElement.hidden = true;
    this.$("weights-title").textContent = `Outgoing weights: into the ${this.layerSizes[1]} neurons of ${this.layerNames[1].toLowerCase()}`;
    this.$("picture-block").hidden = true;
    this.$("bars-block").hidden = false;
    this.drawBars(n.outgoing, null, 1, p ? p.input[n.index] : null);
  }

  // ---- the activation curve with this neuron's (z, a) marked ----------------------------------------

  drawCurve(n, z, a, p) {
    const canvas = this.$("curve");
    const [ctx, width, height] = crispContext(canvas);
    let f, yRange, caption;
    if (n.squish === "softmax") {
      // With the other outputs held fixed, softmax of this one is a sigmoid shifted by log Σ_{k≠i} e^{z_k}.
      const others = p ? p.weighted_sums[n.layer - 1].filter((_, k) => k !== n.index) : [0];
      const top = Math.max(...others);
      const shift = top + Math.log(others.reduce((s, v) => s + Math.exp(v - top), 0));
      f = (t) => 1 / (1 + Math.exp(shift - t));
      yRange = [0, 1];
      caption = "softmax: e^z / Σ e^z_k, drawn for this output with the other nine held at their current z";
    } else {
      const squish = SQUISHES[n.squish];
      f = squish.f;
      yRange = squish.range;
      caption = `${squish.name}: the squish of this layer. The dot is this neuron now.`;
    }
    const half = Math.max(6, z === null ? 0 : Math.ceil(Math.abs(z) + 1.5));
    const zRange = [-half, half];
    if (!yRange) yRange = [0, half];
    this.$("curve-caption").textContent = caption;
    canvas.setAttribute("aria-label", p ? `${caption}. z = ${fmt(z)}, a = ${fmt(a)}` : caption);
    const pad = { left: 28, right: 10, top: 10, bottom: 22 };
    const X = (v) => pad.left + ((v - zRange[0]) / (zRange[1] - zRange[0])) * (width - pad.left - pad.right);
    const Y = (v) => height - pad.bottom - ((v - yRange[0]) / (yRange[1] - yRange[0])) * (height - pad.top - pad.bottom);
    ctx.clearRect(0, 0, width, height);
    // axes
    ctx.strokeStyle = "rgba(236, 233, 228, 0.35)";
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(X(zRange[0]), Y(Math.max(0, yRange[0])));
    ctx.lineTo(X(zRange[1]), Y(Math.max(0, yRange[0])));
    ctx.moveTo(X(0), Y(yRange[0]));
    ctx.lineTo(X(0), Y(yRange[1]));
    ctx.stroke();
    ctx.fillStyle = MUTED;
    ctx.font = `10px ${FONT}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const step = half > 12 ? 5 : 2;
    for (let t = Math.ceil(zRange[0] / step) * step; t <= zRange[1]; t += step) {
      ctx.fillText(String(t).replace("-", "−"), X(t), Y(Math.max(0, yRange[0])) + 4);
    }
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const v of [yRange[0], yRange[1]]) ctx.fillText(fmt(v, v % 1 ? 1 : 0), pad.left - 5, Y(v));
    ctx.textAlign = "left";
    ctx.fillText("z", width - pad.right - 2, Y(Math.max(0, yRange[0])) - 8);
    // curve
    ctx.strokeStyle = BLUE;
    ctx.lineWidth = 2.5;
    ctx.beginPath();
    for (let px = 0; px <= 200; px++) {
      const t = zRange[0] + ((zRange[1] - zRange[0]) * px) / 200;
      const y = Y(Math.min(yRange[1], Math.max(yRange[0], f(t))));
      px === 0 ? ctx.moveTo(X(t), y) : ctx.lineTo(X(t), y);
    }
    ctx.stroke();
    if (z === null) return;
    // this neuron: the dot, with dashed guides to both axes
    const [px, py] = [X(z), Y(Math.min(yRange[1], Math.max(yRange[0], a)))];
    ctx.setLineDash([3, 3]);
    ctx.strokeStyle = rgba([247, 217, 111], 0.7);
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(px, Y(Math.max(0, yRange[0])));
    ctx.lineTo(px, py);
    ctx.lineTo(X(0), py);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.beginPath();
    ctx.arc(px, py, 5.5, 0, 2 * Math.PI);
    ctx.fillStyle = YELLOW;
    ctx.fill();
    // The label, on a dark patch so the axes do not run through it.
    const label = `z = ${fmt(z, 2)}, a = ${fmt(a, 2)}`;
    ctx.font = `11px ${FONT}`;
    const textWidth = ctx.measureText(label).width;
    const left = px > width * 0.6 ? px - 9 - textWidth : px + 9;
    const baseline = py < 34 ? py + 20 : py - 8;
    ctx.fillStyle = "rgba(17, 21, 28, 0.85)";
    ctx.fillRect(left - 3, baseline - 12, textWidth + 6, 16);
    ctx.fillStyle = TEXT;
    ctx.textAlign = "left";
    ctx.textBaseline = "alphabetic";
    ctx.fillText(label, left, baseline);
  }

  // ---- first hidden layer: the weights as a picture --------------------------------------------------

  paintPicture(weights, input) {
    const canvas = this.$("weight-picture");
    const ctx = canvas.getContext("2d");
    // Full brightness at the 98th percentile of |w|, so a few large weights do not leave the rest black.
    const sorted = weights.map(Math.abs).sort((x, y) => x - y);
    const scale = sorted[Math.floor(0.98 * (sorted.length - 1))] || maxAbs(weights);
    const overlay = this.$("overlay").checked && input;
    paintCells(ctx, weights, SIDE, SIDE, (w, i) => {
      const colour = signedRgb(w, scale);
      if (!overlay) return colour;
      const alpha = 0.35 * input[i]; // the ink shows as a white veil over the weights beneath it
      return colour.map((c) => c * (1 - alpha) + 255 * alpha);
    });
    this.$("scale-neg").textContent = fmt(-scale, 2);
    this.$("scale-pos").textContent = `+${fmt(scale, 2)}`;
    canvas.setAttribute("aria-label", `The neuron's ${weights.length} incoming weights as a 28 by 28 picture, ` +
      `from ${fmt(Math.min(...weights), 2)} to ${fmt(Math.max(...weights), 2)}. Arrow keys read single pixels.`);
    if (this.cursor !== null) this.describePixel(this.cursor);
  }

  hoverPicture(event) {
    const rect = event.currentTarget.getBoundingClientRect();
    const col = Math.min(SIDE - 1, Math.floor(((event.clientX - rect.left) / rect.width) * SIDE));
    const row = Math.min(SIDE - 1, Math.floor(((event.clientY - rect.top) / rect.height) * SIDE));
    this.describePixel(row * SIDE + col);
  }

  keyPicture(event) {
    const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -SIDE, ArrowDown: SIDE };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const here = this.cursor ?? (SIDE / 2) * SIDE + SIDE / 2;
    const next = here + moves[event.key];
    if (next < 0 || next >= SIDE * SIDE || (Math.abs(moves[event.key]) === 1 && Math.floor(next / SIDE) !== Math.floor(here / SIDE))) return;
    this.describePixel(next);
  }

  describePixel(j) {
    this.cursor = j;
    const w = this.neuron.weights[j];
    const a = this.prediction ? this.prediction.input[j] : null;
    const tail = a === null ? "" : `, input a = ${fmt(a)}, w·a = ${fmt(w * a)}`;
    this.readout(`pixel row ${Math.floor(j / SIDE)}, column ${j % SIDE}: weight w = ${fmt(w)}${tail}`);
  }

  readout(text) {
    this.$("hover-readout").textContent = text;
  }

  // ---- deeper layers: the weights as bars over the neurons of the layer before ----------------------

  drawBars(weights, activations, sourceLayer, pixelValue = null) {
    const svg = this.$("weight-bars");
    svg.replaceChildren();
    const n = weights.length;
    const width = svg.clientWidth || 300;
    const height = 150;
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    const scale = maxAbs(weights);
    const zero = 62;
    const half = 52;
    const slot = width / n;
    const outgoing = sourceLayer === 1 && pixelValue !== null;
    weights.forEach((w, j) => {
      const group = document.createElementNS(SVG, "g");
      group.classList.add("bar");
      const h = (Math.abs(w) / scale) * half;
      const bar = document.createElementNS(SVG, "rect");
      bar.setAttribute("x", j * slot + slot * 0.15);
      bar.setAttribute("width", Math.max(1, slot * 0.7));
      bar.setAttribute("y", w >= 0 ? zero - h : zero);
      bar.setAttribute("height", Math.max(0.5, h));
      bar.setAttribute("fill", rgba(w >= 0 ? GREEN : RED, 0.9));
      group.append(bar);
      const a = activations ? activations[j] : null;
      if (a !== null) {
        const dot = document.createElementNS(SVG, "circle");
        dot.setAttribute("cx", (j + 0.5) * slot);
        dot.setAttribute("cy", zero + half + 14);
        dot.setAttribute("r", Math.min(7, slot * 0.35));
        const level = Math.round(255 * Math.min(1, Math.max(0, a)));
        dot.setAttribute("fill", `rgb(${level}, ${level}, ${level})`);
        dot.setAttribute("stroke", "rgba(236, 233, 228, 0.6)");
        group.append(dot);
      }
      if (n <= 32) {
        const label = document.createElementNS(SVG, "text");
        label.setAttribute("x", (j + 0.5) * slot);
        label.setAttribute("y", height - 4);
        label.setAttribute("text-anchor", "middle");
        label.textContent = String(j);
        group.append(label);
      }
      const title = document.createElementNS(SVG, "title");
      const from = outgoing ? `into ${this.layerNames[1].toLowerCase()} neuron ${j}` : `from ${this.layerNames[sourceLayer].toLowerCase()} neuron ${j}`;
      title.textContent = `${from}: w = ${fmt(w)}` + (a !== null ? `, a = ${fmt(a)}, w·a = ${fmt(w * a)}` : "");
      group.append(title);
      group.addEventListener("click", () => this.onSelect({ layer: outgoing ? 1 : sourceLayer, index: j }));
      group.addEventListener("mouseenter", () => this.readout(title.textContent));
      svg.append(group);
    });
    const axis = document.createElementNS(SVG, "line");
    axis.setAttribute("x1", 0);
    axis.setAttribute("x2", width);
    axis.setAttribute("y1", zero);
    axis.setAttribute("y2", zero);
    axis.setAttribute("stroke", "rgba(236, 233, 228, 0.4)");
    svg.append(axis);
    svg.setAttribute("aria-label", `${n} weights from ${fmt(Math.min(...weights), 2)} to ${fmt(Math.max(...weights), 2)}`);
  }
}
