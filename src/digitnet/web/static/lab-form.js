// The lab's form: the structure of the network to train (hidden layers, squish, output, cost) and every
// setting `digitnet train` takes, with its defaults, and the presets that fill it in one click.

import { el, selectOf } from "./lab-dom.js";
import { parseNeuronList } from "./weight-pictures.js";

// Names for the server's choices (GET /api/lab's `choices`); a choice not named here shows as it is.
const CHOICE_LABELS = {
  activation: { sigmoid: "sigmoid σ(z)", relu: "ReLU max(0, z)", tanh: "tanh(z)" },
  output: { softmax: "softmax", sigmoid: "sigmoid (the video’s)" },
  cost: { cross_entropy: "cross-entropy", quadratic: "quadratic (the video’s)" },
  optimizer: { adam: "Adam", momentum: "SGD with momentum", sgd: "plain SGD" },
  schedule: { cosine: "cosine: glides to ~0", constant: "constant" },
};
const SELECT_LABELS = { activation: "hidden squish", output: "output layer", cost: "cost",
  optimizer: "optimizer", schedule: "learning-rate schedule" };

const SETTINGS = [ // [key, label, attributes of its <input>, help]
  ["learning_rate", "learning rate η", { type: "number", min: "0", step: "any", inputmode: "decimal" }, "the size of each step downhill"],
  ["epochs", "epochs", { type: "number", min: "1", step: "1", inputmode: "numeric" }, "passes over the 50,000 training images"],
  ["batch_size", "mini-batch size", { type: "number", min: "1", step: "1", inputmode: "numeric" }, "images per gradient step"],
  ["weight_decay", "weight decay", { type: "number", min: "0", step: "any", inputmode: "decimal" }, "L2: pulls every weight a little towards 0"],
  ["shift_pixels", "shift images by up to", { type: "number", min: "0", max: "4", step: "1", inputmode: "numeric" }, "pixels, each epoch (0: off)"],
  ["seed", "seed", { type: "number", min: "0", step: "1", inputmode: "numeric" }, "same seed, same model"],
  ["momentum", "momentum μ", { type: "number", min: "0", max: "0.999", step: "any", inputmode: "decimal" }, "for SGD with momentum"],
];
const INTEGER_KEYS = new Set(["epochs", "batch_size", "shift_pixels", "seed"]);

export class LabForm {
  /** host: the element to build the form in; lab: GET /api/lab's answer (defaults, presets, choices, limits). */
  constructor(host, lab) {
    this.lab = lab;
    const limits = lab.limits;
    this.sizeInputs = [];
    this.sizesHost = el("div", { class: "train-sizes", id: "train-sizes" });
    const [fewest, most] = limits.hidden_layers;
    this.hiddenCount = selectOf("train-hidden-count",
      Array.from({ length: most - fewest + 1 }, (_, i) => [fewest + i, String(fewest + i)]), lab.defaults.layers.length);
    this.hiddenCount.addEventListener("change", () => this.setHiddenCount(+this.hiddenCount.value));
    this.selects = Object.fromEntries(Object.keys(SELECT_LABELS).map((key) => [key, selectOf(`train-${key}`,
      lab.choices[key].map((value) => [value, CHOICE_LABELS[key][value] ?? value]), lab.defaults[key])]));
    this.inputs = Object.fromEntries(SETTINGS.map(([key, , attributes]) =>
      [key, el("input", { id: `train-${key.replace("_", "-")}`, name: key, ...attributes, required: true })]));
    for (const key of ["epochs", "batch_size", "seed"]) {
      if (limits[key]) [this.inputs[key].min, this.inputs[key].max] = limits[key].map(String);
    }
    this.selects.optimizer.addEventListener("change", () => this.showMomentum());
    this.structureLine = el("p", { class: "train-structure small", id: "train-structure" });
    this.neuronsInput = el("input", { id: "train-neurons", type: "text", inputmode: "numeric", autocomplete: "off",
      placeholder: `${limits.snapshot_neurons} spread evenly`, "aria-describedby": "train-neurons-help" });
    this.neuronsRow = el("div", { class: "train-row train-neurons-row" },
      el("label", { for: "train-neurons" }, "neurons to watch"), this.neuronsInput,
      el("span", { class: "train-help small muted", id: "train-neurons-help" },
        `up to ${limits.snapshot_neurons} of the first hidden layer, e.g. 0-31 or 3, 7, 40-50`));
    this.presetButtons = lab.presets.map((preset) => el("button", {
      type: "button", class: "train-preset", title: describeSettings(preset.settings),
      onclick: () => this.set({ ...lab.defaults, ...preset.settings }),
    }, preset.name));
    host.append(
      el("div", { class: "train-presets", role: "group", "aria-label": "Presets" },
        el("span", { class: "small muted" }, "Presets:"), ...this.presetButtons),
      el("fieldset", { class: "train-fieldset" },
        el("legend", {}, "Structure"),
        this.row("train-hidden-count", "hidden layers", this.hiddenCount),
        this.sizesHost,
        ...["activation", "output", "cost"].map((key) => this.row(this.selects[key].id, SELECT_LABELS[key], this.selects[key])),
        this.neuronsRow,
        this.structureLine),
      el("fieldset", { class: "train-fieldset" },
        el("legend", {}, "Training"),
        ...["optimizer", "schedule"].map((key) => this.row(this.selects[key].id, SELECT_LABELS[key], this.selects[key])),
        ...SETTINGS.map(([key, label, , help]) => this.row(this.inputs[key].id, label, this.inputs[key], help))),
    );
    host.addEventListener("input", () => this.describe());
    host.addEventListener("change", () => this.describe());
    this.set(lab.defaults);
  }

  row(id, label, control, help) {
    const helpId = help ? `${id}-help` : null;
    if (helpId) control.setAttribute("aria-describedby", helpId);
    return el("div", { class: "train-row" },
      el("label", { for: id }, label), control,
      help ? el("span", { class: "train-help small muted", id: helpId }, help) : null);
  }

  setHiddenCount(count) {
    const sizes = this.sizeInputs.map((input) => input.value);
    const [smallest, largest] = this.lab.limits.layer_size;
    this.sizeInputs = Array.from({ length: count }, (_, i) => el("input", {
      id: `train-size-${i + 1}`, type: "number", min: smallest, max: largest, step: "1", inputmode: "numeric",
      required: true, value: sizes[i] ?? sizes[sizes.length - 1] ?? 16, "aria-describedby": "train-sizes-help",
    }));
    this.sizesHost.replaceChildren(...this.sizeInputs.map((input, i) =>
      el("div", { class: "train-row" }, el("label", { for: input.id }, `neurons in hidden layer ${i + 1}`), input)),
      count ? el("span", { class: "train-help small muted", id: "train-sizes-help" }, `${smallest}-${largest} each`) : "");
    this.hiddenCount.value = String(count);
    this.describe();
  }

  showMomentum() {
    this.inputs.momentum.closest(".train-row").hidden = this.selects.optimizer.value !== "momentum";
  }

  /** Fill every field from `values` (a JobRequest's keys, as GET /api/lab's defaults). */
  set(values) {
    this.setHiddenCount(values.layers.length);
    values.layers.forEach((size, i) => (this.sizeInputs[i].value = String(size)));
    for (const [key, select] of Object.entries(this.selects)) select.value = values[key];
    for (const [key, input] of Object.entries(this.inputs)) input.value = String(values[key]);
    this.showMomentum();
    this.describe();
  }

  /** The JobRequest the form describes (without name); throws an Error naming the field that is not a number. */
  values() {
    const number = (input, label) => {
      const text = input.value.trim();
      const value = Number(text);
      if (text === "" || !Number.isFinite(value)) throw new Error(`${label}: give a number`);
      return value;
    };
    const request = { layers: this.sizeInputs.map((input, i) => number(input, `hidden layer ${i + 1}`)) };
    for (const [key, label] of SETTINGS) request[key] = number(this.inputs[key], label);
    for (const [key, select] of Object.entries(this.selects)) request[key] = select.value;
    const neurons = this.neuronsInput.value.trim();
    if (!this.neuronsRow.hidden && neurons) {
      const chosen = parseNeuronList(neurons, request.layers[0] ?? 10, this.lab.limits.snapshot_neurons);
      if (!chosen) throw new Error(`neurons to watch: give numbers 0-${(request.layers[0] ?? 10) - 1} like 0-31 or 3, 7, 40-50`);
      request.neurons = chosen;
    }
    return request;
  }

  /** The layer sizes the form describes, e.g. [784, 16, 16, 10] (an empty field as "?"). */
  layerSizes() {
    return [784, ...this.sizeInputs.map((input) => (input.value.trim() === "" ? "?" : +input.value)), 10];
  }

  describe() {
    const sizes = this.layerSizes();
    let parameters = 0;
    for (let l = 1; l < sizes.length; l++) parameters += sizes[l] * sizes[l - 1] + sizes[l];
    const limit = this.lab.limits.parameters;
    const over = Number.isFinite(parameters) && parameters > limit;
    this.structureLine.textContent = `${sizes.join(" → ")}` +
      (Number.isFinite(parameters) ? ` · ${parameters.toLocaleString("en-US")} weights and biases` : "") +
      (over ? `: over the lab’s limit of ${limit.toLocaleString("en-US")}` : "");
    this.structureLine.classList.toggle("over", over);
    // The pictures show every first-layer neuron up to the limit; a wider layer shows a chosen few.
    this.neuronsRow.hidden = !(sizes.length > 2 && sizes[1] > this.lab.limits.snapshot_neurons);
  }

  /** While a job runs the form cannot change it: disable every control (or enable them again). */
  setDisabled(disabled) {
    for (const control of [...this.presetButtons, this.hiddenCount, ...this.sizeInputs, this.neuronsInput,
      ...Object.values(this.selects), ...Object.values(this.inputs)]) {
      control.disabled = disabled;
    }
  }
}

/** A preset's settings in a line: "784 → 100 → 10, sigmoid, 30 epochs of Adam" */
export function describeSettings(settings) {
  return `${[784, ...settings.layers, 10].join(" → ")}, ${settings.activation}, ${settings.output} output, ` +
    `${settings.epochs} epochs of ${CHOICE_LABELS.optimizer[settings.optimizer] ?? settings.optimizer}`;
}
