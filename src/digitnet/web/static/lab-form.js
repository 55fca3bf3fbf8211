// The lab's form: the structure of the network to train (hidden layers, squish, output, cost) and every
// setting `digitnet train` takes, with its defaults, and the presets that fill it in one click.

import { el, selectOf } from "./lab-dom.js";

// `digitnet train`'s defaults (training.py's TrainingSettings, cli.py's --layers/--activation/--output).
export const DEFAULTS = Object.freeze({
  layers: [16, 16], activation: "sigmoid", output: "softmax", cost: "cross_entropy",
  optimizer: "adam", learning_rate: 0.005, momentum: 0.9, schedule: "cosine", epochs: 30, batch_size: 32,
  weight_decay: 1e-4, shift_pixels: 1, seed: 0,
});

export const PRESETS = [
  { id: "video", label: "the video’s network", title: "784 → 16 → 16 → 10, sigmoid, as in the video", values: {} },
  { id: "bigger", label: "bigger: 100 hidden", title: "one hidden layer of 100 sigmoid neurons", values: { layers: [100] } },
  { id: "relu", label: "ReLU", title: "784 → 16 → 16 → 10 with ReLU, max(0, z), instead of the sigmoid", values: { activation: "relu" } },
];

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
  /** host: the element to build the form in; limits: {max_layer_size, max_epochs} from the server, if it says. */
  constructor(host, { limits = {} } = {}) {
    this.limits = limits;
    this.sizeInputs = [];
    this.sizesHost = el("div", { class: "lab-sizes", id: "lab-sizes" });
    this.hiddenCount = selectOf("lab-hidden-count", [0, 1, 2, 3, 4].map((n) => [n, String(n)]), 2);
    this.hiddenCount.addEventListener("change", () => this.setHiddenCount(+this.hiddenCount.value));
    this.selects = {
      activation: selectOf("lab-activation", [["sigmoid", "sigmoid σ(z)"], ["relu", "ReLU max(0, z)"], ["tanh", "tanh(z)"]], DEFAULTS.activation),
      output: selectOf("lab-output", [["softmax", "softmax"], ["sigmoid", "sigmoid (the video’s)"]], DEFAULTS.output),
      cost: selectOf("lab-cost", [["cross_entropy", "cross-entropy"], ["quadratic", "quadratic (the video’s)"]], DEFAULTS.cost),
      optimizer: selectOf("lab-optimizer", [["adam", "Adam"], ["momentum", "SGD with momentum"], ["sgd", "plain SGD"]], DEFAULTS.optimizer),
      schedule: selectOf("lab-schedule", [["cosine", "cosine: glides to ~0"], ["constant", "constant"]], DEFAULTS.schedule),
    };
    this.inputs = Object.fromEntries(SETTINGS.map(([key, , attributes]) =>
      [key, el("input", { id: `lab-${key.replace("_", "-")}`, name: key, ...attributes, required: true })]));
    if (limits.max_epochs) this.inputs.epochs.max = String(limits.max_epochs);
    this.selects.optimizer.addEventListener("change", () => this.showMomentum());
    this.structureLine = el("p", { class: "lab-structure small", id: "lab-structure", "aria-live": "polite" });
    host.append(
      el("div", { class: "lab-presets", role: "group", "aria-label": "Presets" },
        el("span", { class: "small muted" }, "Presets:"),
        ...PRESETS.map((preset) => el("button", {
          type: "button", class: "lab-preset", "data-preset": preset.id, title: preset.title,
          onclick: () => this.set({ ...DEFAULTS, ...preset.values }),
        }, preset.label))),
      el("fieldset", { class: "lab-fieldset" },
        el("legend", {}, "Structure"),
        this.row("lab-hidden-count", "hidden layers", this.hiddenCount),
        this.sizesHost,
        this.row("lab-activation", "hidden squish", this.selects.activation),
        this.row("lab-output", "output layer", this.selects.output),
        this.row("lab-cost", "cost", this.selects.cost),
        this.structureLine),
      el("fieldset", { class: "lab-fieldset" },
        el("legend", {}, "Training"),
        this.row("lab-optimizer", "optimizer", this.selects.optimizer),
        this.row("lab-schedule", "learning-rate schedule", this.selects.schedule),
        ...SETTINGS.map(([key, label, , help]) => this.row(this.inputs[key].id, label, this.inputs[key], help))),
    );
    this.presetButtons = [...host.querySelectorAll(".lab-preset")];
    host.addEventListener("input", () => this.describe());
    host.addEventListener("change", () => this.describe());
    this.set(DEFAULTS);
  }

  row(id, label, control, help) {
    const helpId = help ? `${id}-help` : null;
    if (helpId) control.setAttribute("aria-describedby", helpId);
    return el("div", { class: "lab-row" },
      el("label", { for: id }, label), control,
      help ? el("span", { class: "lab-help small muted", id: helpId }, help) : null);
  }

  setHiddenCount(count) {
    const sizes = this.sizeInputs.map((input) => input.value);
    this.sizeInputs = Array.from({ length: count }, (_, i) => el("input", {
      id: `lab-size-${i + 1}`, type: "number", min: "1", max: this.limits.max_layer_size ?? null, step: "1",
      inputmode: "numeric", required: true, value: sizes[i] ?? sizes[sizes.length - 1] ?? 16,
      "aria-label": `neurons in hidden layer ${i + 1}`,
    }));
    this.sizesHost.replaceChildren(...this.sizeInputs.map((input, i) =>
      el("div", { class: "lab-row" }, el("label", { for: input.id }, `hidden layer ${i + 1}`), input,
        el("span", { class: "lab-help small muted" }, "neurons"))));
    this.hiddenCount.value = String(count);
    this.describe();
  }

  showMomentum() {
    this.inputs.momentum.closest(".lab-row").hidden = this.selects.optimizer.value !== "momentum";
  }

  /** Fill every field from `values` (DEFAULTS' keys). */
  set(values) {
    this.setHiddenCount(values.layers.length);
    values.layers.forEach((size, i) => (this.sizeInputs[i].value = String(size)));
    for (const [key, select] of Object.entries(this.selects)) select.value = values[key];
    for (const [key, input] of Object.entries(this.inputs)) input.value = String(values[key]);
    this.showMomentum();
    this.describe();
  }

  /** The structure and settings as the server takes them; throws an Error naming the field if one is not a number. */
  values() {
    const number = (input, label) => {
      const text = input.value.trim();
      const value = Number(text);
      if (text === "" || !Number.isFinite(value)) throw new Error(`${label}: give a number`);
      return value;
    };
    const layers = this.sizeInputs.map((input, i) => number(input, `hidden layer ${i + 1}`));
    const settings = {};
    for (const [key, label] of SETTINGS.map(([k, l]) => [k, l])) settings[key] = number(this.inputs[key], label);
    for (const key of INTEGER_KEYS) {
      if (!Number.isInteger(settings[key])) throw new Error(`${key.replace("_", " ")}: give a whole number`);
    }
    for (const [key, select] of Object.entries(this.selects)) settings[key] = select.value;
    return { layers, ...settings };
  }

  /** The layer sizes the form describes, e.g. [784, 16, 16, 10] (non-numbers as "?"). */
  layerSizes() {
    return [784, ...this.sizeInputs.map((input) => (input.value.trim() === "" ? "?" : +input.value)), 10];
  }

  describe() {
    const sizes = this.layerSizes();
    let parameters = 0;
    for (let l = 1; l < sizes.length; l++) parameters += sizes[l] * sizes[l - 1] + sizes[l];
    this.structureLine.textContent = `${sizes.join(" → ")}` +
      (Number.isFinite(parameters) ? ` · ${parameters.toLocaleString("en-US")} weights and biases` : "");
  }

  /** While a job runs the form cannot change it: disable every control (or enable them again). */
  setDisabled(disabled) {
    for (const control of [...this.presetButtons, this.hiddenCount, ...this.sizeInputs, ...Object.values(this.selects), ...Object.values(this.inputs)]) {
      control.disabled = disabled;
    }
  }
}
