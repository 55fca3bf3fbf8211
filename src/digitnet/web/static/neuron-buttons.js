// Invisible buttons over the drawn neurons: they make every neuron clickable (a touch target of at
// least 44 px where the layout leaves room) and reachable by keyboard with one roving tab stop
// (arrow keys move between neurons, Home/End to a layer's ends).

import { fmt } from "./numbers.js";
import { cellAt } from "./cells.js";

const TARGET = 44; // px: the smallest comfortable touch target (WCAG 2.5.5)

export class NeuronButtons {
  /** host: the element over the canvas; view: the NetworkView (geometry); onSelect({layer, index}). */
  constructor(host, view, { onSelect }) {
    this.host = host;
    this.view = view;
    this.onSelect = onSelect;
    this.buttons = [];
    this.focusKey = { layer: 1, index: 0 };
    host.addEventListener("keydown", (event) => this.onKey(event));
  }

  build(layerSizes) {
    this.layerSizes = layerSizes;
    this.host.replaceChildren();
    this.buttons = [];
    this.focusKey = { layer: 1, index: 0 };
    const input = this.make(0, 0, `Input layer: ${layerSizes[0]} pixels. Click a pixel to see its value.`);
    input.classList.add("input-grid");
    input.addEventListener("click", (event) => {
      const { side } = this.view;
      const [row, col] = cellAt(input, event, side, side);
      this.onSelect({ layer: 0, index: event.detail === 0 ? this.view.brightestPixel() : row * side + col });
    });
    for (let l = 1; l < layerSizes.length; l++) {
      for (let i = 0; i < layerSizes[l]; i++) {
        this.make(l, i, "").addEventListener("click", () => this.onSelect({ layer: l, index: i }));
      }
    }
    this.updateTabStops();
  }

  make(layer, index, label) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "neuron-button";
    button.dataset.layer = layer;
    button.dataset.index = index;
    button.setAttribute("aria-pressed", "false");
    if (label) button.setAttribute("aria-label", label);
    button.addEventListener("focus", () => {
      this.focusKey = { layer, index };
      this.updateTabStops();
    });
    this.host.append(button);
    this.buttons.push(button);
    return button;
  }

  /** activations(l): layer l's activations now, or null. */
  label(activations) {
    const last = this.layerSizes.length - 1;
    for (const button of this.buttons) {
      const layer = +button.dataset.layer;
      if (layer === 0) continue;
      const index = +button.dataset.index;
      const values = activations(layer);
      const name = layer === last ? `Output neuron for digit ${index}` : `Hidden layer ${layer}, neuron ${index}`;
      button.setAttribute("aria-label", values ? `${name}: activation ${fmt(values[index])}` : name);
    }
  }

  place() {
    const { grid, positions } = this.view;
    for (const button of this.buttons) {
      const layer = +button.dataset.layer;
      if (layer === 0) {
        Object.assign(button.style, { left: `${grid.x}px`, top: `${grid.y}px`, width: `${grid.size}px`, height: `${grid.size}px` });
        continue;
      }
      const { radius, spacing } = positions[layer];
      const [x, y] = this.view.centre(layer, +button.dataset.index);
      const size = Math.max(radius * 2 + 4, Math.min(spacing, TARGET));
      Object.assign(button.style, { left: `${x - size / 2}px`, top: `${y - size / 2}px`, width: `${size}px`, height: `${size}px` });
    }
  }

  mark(selected) {
    for (const button of this.buttons) {
      const on = selected && +button.dataset.layer === selected.layer && (selected.layer === 0 || +button.dataset.index === selected.index);
      button.setAttribute("aria-pressed", on ? "true" : "false");
    }
  }

  updateTabStops() {
    for (const button of this.buttons) {
      button.tabIndex = +button.dataset.layer === this.focusKey.layer && +button.dataset.index === this.focusKey.index ? 0 : -1;
    }
  }

  onKey(event) {
    const { layer, index } = this.focusKey;
    const last = this.layerSizes.length - 1;
    const size = (l) => (l === 0 ? 1 : this.layerSizes[l]);
    let next = null;
    if (event.key === "ArrowDown") next = { layer, index: Math.min(size(layer) - 1, index + 1) };
    else if (event.key === "ArrowUp") next = { layer, index: Math.max(0, index - 1) };
    else if (event.key === "Home") next = { layer, index: 0 };
    else if (event.key === "End") next = { layer, index: size(layer) - 1 };
    else if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      const l = Math.min(last, Math.max(0, layer + (event.key === "ArrowRight" ? 1 : -1)));
      const relative = size(layer) > 1 ? index / (size(layer) - 1) : 0.5;
      next = { layer: l, index: l === 0 ? 0 : Math.round(relative * (size(l) - 1)) };
    }
    if (!next) return;
    event.preventDefault();
    this.focusKey = next;
    this.updateTabStops();
    this.buttons.find((b) => +b.dataset.layer === next.layer && +b.dataset.index === next.index)?.focus();
  }
}
