// The neuron lab, in the inspector: edit the open neuron by hand and let the page show at once what
// it does. Any neuron after the input: its bias (slider and number), a scale for its weights, a
// switch to turn it off, "bias of −10". A first-layer neuron also has its 28x28 weights painted by
// hand (brush + / −, eraser, brush size, undo, reset) and the video's thought experiments as presets.

import { cellAt, element, gridSide } from "./cells.js";
import { edgeDetector, regionOnly } from "./lab-edits.js";

const BIAS_RANGE = 20; // the slider's reach; the number field takes any value the server accepts (±1000)
const BRUSH_AMOUNT = 0.4; // weight added (or taken) per cell per brush pass, at the brush's centre
const WEIGHT_LIMIT = 5; // painted weights stay within ±5 (the trained ones are mostly within ±1)

export class NeuronLab {
  /**
   * root: the lab's box; tools: the paint toolbar's box beside the weight picture; picture: that canvas.
   * edits: the page's LabEdits. onEdit({final}) runs after every change (final: a stroke or a field is done).
   */
  constructor(root, tools, picture, edits, { onEdit, cursor }) {
    this.root = root;
    this.tools = tools;
    this.picture = picture;
    this.edits = edits;
    this.onEdit = onEdit;
    this.cursor = cursor; // () -> the pixel under the weight picture's keyboard cursor, or null
    this.trained = null; // the open neuron as trained: {layer, index, squish, bias, weights}
    this.undoStack = new Map(); // "layer/neuron" -> [earlier edits of that neuron]
    this.tool = "look";
    this.brushSize = 2;
    this.painting = null; // the stroke under way: {weights}
    this.build();
    picture.addEventListener("pointerdown", (event) => this.startPaint(event));
    picture.addEventListener("pointermove", (event) => this.paint(event));
    for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) picture.addEventListener(type, () => this.endPaint());
    // By keyboard: the arrow keys move the picture's cursor (inspector.js), Space or Enter paints there.
    picture.addEventListener("keydown", (event) => {
      if ((event.key !== " " && event.key !== "Enter") || this.tool === "look" || !this.trained || this.trained.layer !== 1) return;
      event.preventDefault();
      const j = this.cursor() ?? Math.floor(this.side / 2) * this.side + Math.floor(this.side / 2);
      this.remember();
      this.painting = { weights: (this.edits.get(1, this.trained.index).weights || this.trained.weights).slice() };
      this.paintAt(Math.floor(j / this.side), j % this.side);
      this.endPaint();
    });
  }

  // ---- the controls --------------------------------------------------------------------------------

  build() {
    const field = (id, label, attributes) => {
      const row = element("div", { className: "lab-row" });
      row.append(element("label", { text: label, attributes: { for: id } }));
      const range = element("input", { attributes: { id, type: "range", ...attributes } });
      const number = element("input", { className: "lab-number", attributes: { id: `${id}-number`, type: "number", step: attributes.step, "aria-label": `${label} (number)` } });
      row.append(range, number);
      return [row, range, number];
    };
    const [biasRow, bias, biasNumber] = field("lab-bias", "bias b", { min: -BIAS_RANGE, max: BIAS_RANGE, step: "0.1" });
    const [scaleRow, scale, scaleNumber] = field("lab-scale", "scale the weights ×", { min: -3, max: 3, step: "0.1" });
    this.bias = bias;
    this.biasNumber = biasNumber;
    this.scale = scale;
    this.scaleNumber = scaleNumber;
    const off = element("input", { attributes: { id: "lab-off", type: "checkbox" } });
    const offLabel = element("label", { className: "check", attributes: { for: "lab-off" } });
    offLabel.append(off, " switch this neuron off (a = 0 for every input)");
    this.off = off;
    const presets = element("div", { className: "button-row lab-presets", attributes: { role: "group", "aria-label": "Presets" } });
    this.edgePreset = element("button", { text: "Edge detector", attributes: { id: "preset-edge", type: "button", title: "positive along a stroke, negative around it" } });
    this.regionPreset = element("button", { text: "All zero except a region", attributes: { id: "preset-region", type: "button" } });
    const biasPreset = element("button", { text: "Bias of −10", attributes: { id: "preset-bias", type: "button", title: "fires only when the weighted sum is above 10" } });
    presets.append(this.edgePreset, this.regionPreset, biasPreset);
    const resets = element("div", { className: "button-row" });
    this.undoButton = element("button", { text: "↶ Undo edit", attributes: { id: "lab-undo", type: "button" } });
    const reset = element("button", { text: "Reset to trained", attributes: { id: "lab-reset", type: "button" } });
    resets.append(this.undoButton, reset);
    this.status = element("p", { className: "small muted lab-status", attributes: { id: "lab-status", "aria-live": "polite" } });
    this.heading = element("h3", { attributes: { id: "lab-heading" } });
    this.root.append(this.heading, biasRow, scaleRow, offLabel, presets, resets, this.status);

    // Moving a slider shows its effect at once; letting go (or leaving the number field) is one undo step.
    const live = (range, number, key, parse) => {
      const apply = (value, final) => {
        if (!Number.isFinite(value)) return;
        if (final) this.remember();
        range.value = String(value);
        number.value = String(value);
        this.edits.set(this.trained.layer, this.trained.index, { [key]: parse(value) });
        this.onEdit({ final });
      };
      range.addEventListener("pointerdown", () => this.remember());
      range.addEventListener("input", () => apply(+range.value, false));
      range.addEventListener("change", () => this.onEdit({ final: true }));
      number.addEventListener("change", () => apply(+number.value, true));
    };
    live(bias, biasNumber, "bias", (v) => v);
    live(scale, scaleNumber, "factor", (v) => v);
    off.addEventListener("change", () => this.change({ off: off.checked }));
    this.edgePreset.addEventListener("click", () => this.change({ weights: edgeDetector(this.side) }));
    this.regionPreset.addEventListener("click", () => this.change({ weights: regionOnly(this.side) }));
    biasPreset.addEventListener("click", () => this.change({ bias: -10 }));
    this.undoButton.addEventListener("click", () => this.undo());
    reset.addEventListener("click", () => {
      this.remember();
      this.edits.reset(this.trained.layer, this.trained.index);
      this.onEdit({ final: true });
    });

    const tools = element("div", { className: "paint-tools", attributes: { role: "radiogroup",
      "aria-label": "Paint the weights (on the picture: drag, or arrow keys and Space)" } });
    for (const [tool, text, title] of [["look", "Look", "read the weights under the pointer"], ["plus", "+ brush", "add positive (green) weight"],
      ["minus", "− brush", "add negative (red) weight"], ["erase", "Eraser", "set weights to 0"]]) {
      const label = element("label", { className: `tool tool-${tool}`, attributes: { title } });
      const radio = element("input", { attributes: { type: "radio", name: "paint-tool", value: tool, id: `tool-${tool}` } });
      radio.checked = tool === this.tool;
      radio.addEventListener("change", () => {
        this.tool = tool;
        this.picture.dataset.tool = tool;
      });
      label.append(radio, text);
      tools.append(label);
    }
    const sizeLabel = element("label", { className: "small", text: "brush ", attributes: { for: "brush-size" } });
    const size = element("input", { attributes: { id: "brush-size", type: "range", min: "0", max: "4", step: "1", value: String(this.brushSize) } });
    size.addEventListener("input", () => { this.brushSize = +size.value; });
    sizeLabel.append(size);
    tools.append(sizeLabel);
    this.tools.append(tools);
    this.picture.dataset.tool = this.tool;
  }

  /** Show the lab for `trained` (the API's neuron); null hides it (an input pixel has nothing to edit). */
  show(trained, layerSizes, name = "") {
    this.trained = trained;
    this.heading.textContent = `Change ${name || "this neuron"} and watch`;
    this.root.hidden = !trained;
    const paintable = Boolean(trained) && trained.layer === 1 && gridSide(layerSizes[0]) !== null;
    this.tools.hidden = !paintable;
    this.edgePreset.hidden = this.regionPreset.hidden = !paintable;
    if (!trained) return;
    this.side = gridSide(layerSizes[0]);
    this.refresh();
  }

  /** Put the fields in step with the neuron's current edit. */
  refresh() {
    if (!this.trained) return;
    const edit = this.edits.get(this.trained.layer, this.trained.index);
    const bias = edit.bias ?? this.trained.bias;
    this.bias.value = String(bias);
    this.biasNumber.value = String(Math.round(bias * 1000) / 1000);
    this.scale.value = this.scaleNumber.value = String(edit.factor);
    this.off.checked = edit.off;
    this.undoButton.disabled = !(this.undoStack.get(this.key())?.length);
    const parts = [edit.weights && "weights painted", edit.factor !== 1 && `weights ×${edit.factor}`,
      edit.bias !== null && `bias set to ${edit.bias}`, edit.off && "switched off"].filter(Boolean);
    this.status.textContent = parts.length ? `This neuron: ${parts.join(", ")}.` : "This neuron is as trained.";
  }

  key() {
    return `${this.trained.layer}/${this.trained.index}`;
  }

  /** Keep the neuron's edit as it is now, for Undo. */
  remember() {
    const stack = this.undoStack.get(this.key()) || [];
    stack.push({ ...this.edits.get(this.trained.layer, this.trained.index) });
    this.undoStack.set(this.key(), stack.slice(-50));
  }

  change(fields) {
    this.remember();
    this.edits.set(this.trained.layer, this.trained.index, fields);
    this.onEdit({ final: true });
  }

  undo() {
    const before = this.undoStack.get(this.key())?.pop();
    if (!before) return;
    this.edits.reset(this.trained.layer, this.trained.index);
    this.edits.set(this.trained.layer, this.trained.index, before);
    this.onEdit({ final: true });
  }

  /** Forget every edit (a new model was loaded). */
  clear() {
    this.edits.clear();
    this.undoStack.clear();
    this.refresh();
  }

  // ---- painting the weight picture -----------------------------------------------------------------

  startPaint(event) {
    if (this.tool === "look" || !this.trained || this.trained.layer !== 1) return;
    event.preventDefault();
    this.picture.setPointerCapture(event.pointerId);
    this.remember();
    const edit = this.edits.get(this.trained.layer, this.trained.index);
    this.painting = { weights: (edit.weights || this.trained.weights).slice() };
    this.paint(event);
  }

  paint(event) {
    if (!this.painting) return;
    const [row, col] = cellAt(this.picture, event, this.side, this.side);
    this.paintAt(row, col);
  }

  /** One pass of the brush centred on the cell (row, col) of the weight picture. */
  paintAt(row, col) {
    const side = this.side;
    const r = this.brushSize;
    const weights = this.painting.weights;
    for (let dr = -r; dr <= r; dr++) {
      for (let dc = -r; dc <= r; dc++) {
        const [y, x] = [row + dr, col + dc];
        const distance = Math.hypot(dr, dc);
        if (y < 0 || y >= side || x < 0 || x >= side || distance > r + 0.5) continue;
        const i = y * side + x;
        const falloff = 1 - distance / (r + 1); // a soft brush: full at the centre
        if (this.tool === "erase") weights[i] = 0;
        else weights[i] = Math.max(-WEIGHT_LIMIT, Math.min(WEIGHT_LIMIT, weights[i] + (this.tool === "plus" ? 1 : -1) * BRUSH_AMOUNT * falloff));
      }
    }
    this.edits.set(this.trained.layer, this.trained.index, { weights: weights.slice() });
    this.onEdit({ final: false });
  }

  endPaint() {
    if (!this.painting) return;
    this.painting = null;
    this.onEdit({ final: true });
  }
}
