// The strip of MNIST test images to feed to the network. One tab stop for the whole strip (the
// picked image, or the first): arrow keys, Home and End move along it, Enter or Space picks.

import { grayRgb } from "./palette.js";
import { paintCells, gridSide } from "./cells.js";

export class ExampleStrip {
  /** onPick(example) runs when an image is chosen. */
  constructor(list, { onPick }) {
    this.list = list;
    this.onPick = onPick;
    this.examples = [];
    this.current = 0; // the button that holds the strip's tab stop
    list.addEventListener("keydown", (event) => this.onKey(event));
  }

  set(examples) {
    this.examples = examples;
    this.list.replaceChildren(...examples.map((example, k) => this.item(example, k)));
    this.current = 0;
    this.updateTabStops();
  }

  item(example, k) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = `example${example.correct ? "" : " wrong"}`;
    button.dataset.index = example.index;
    button.setAttribute("aria-pressed", "false");
    const verdict = example.correct ? "the network says so too" : `the network wrongly says ${example.guess}`;
    button.setAttribute("aria-label", `Test image ${example.index}: a ${example.label}; ${verdict}`);
    button.title = `MNIST test image #${example.index}: a ${example.label}` + (example.correct ? "" : ` (network says ${example.guess})`);
    const side = gridSide(example.pixels.length);
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = side;
    paintCells(canvas.getContext("2d"), example.pixels, side, side, (v) => grayRgb(v / 255));
    const caption = document.createElement("span");
    caption.className = "example-caption";
    caption.textContent = example.correct ? `${example.label}` : `${example.label} → ${example.guess}`;
    button.append(canvas, caption);
    button.addEventListener("click", () => {
      this.current = k;
      this.updateTabStops();
      this.onPick(example);
    });
    li.append(button);
    return li;
  }

  buttons() {
    return [...this.list.querySelectorAll("button")];
  }

  /** Mark test image `index` as the one shown (-1: none). */
  mark(index) {
    this.buttons().forEach((button, k) => {
      const on = +button.dataset.index === index;
      button.setAttribute("aria-pressed", String(on));
      if (on) this.current = k;
    });
    this.updateTabStops();
  }

  updateTabStops() {
    this.buttons().forEach((button, k) => { button.tabIndex = k === this.current ? 0 : -1; });
  }

  onKey(event) {
    const buttons = this.buttons();
    if (!buttons.length) return;
    // A row of the grid, for Up/Down: how many buttons share the first one's top edge.
    const top = buttons[0].getBoundingClientRect().top;
    const perRow = Math.max(1, buttons.filter((b) => Math.abs(b.getBoundingClientRect().top - top) < 2).length);
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: perRow, ArrowUp: -perRow, Home: -Infinity, End: Infinity };
    if (!(event.key in moves)) return;
    event.preventDefault();
    this.current = Math.min(buttons.length - 1, Math.max(0, this.current + moves[event.key]));
    this.updateTabStops();
    buttons[this.current].focus();
  }
}
