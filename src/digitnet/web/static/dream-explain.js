// Dream and explain, as `digitnet dream` and `digitnet explain` do: the input that excites an output
// neuron most (gradient ascent on the pixels), and which pixels of the current input pushed its
// answer up (green) or down (red) (gradient × input). Both use this page's edited network.

import { grayRgb, signedRgb } from "./palette.js";
import { percent } from "./numbers.js";
import { gridSide, paintCells } from "./cells.js";

export class DreamExplain {
  /** $: the page's element lookup; api; edits; input(): the current input ({image} / {pixels}) or null; onFeed(pixels). */
  constructor($, { api, edits, input, onFeed }) {
    this.$ = $;
    this.api = api;
    this.edits = edits;
    this.input = input;
    this.onFeed = onFeed;
    this.dreamed = null;
    $("dream").addEventListener("click", () => this.dream());
    $("explain").addEventListener("click", () => this.explain());
    $("dream-feed").addEventListener("click", () => this.dreamed && this.onFeed(this.dreamed));
  }

  setModel(layerSizes) {
    const outputs = layerSizes[layerSizes.length - 1];
    this.side = gridSide(layerSizes[0]);
    this.$("dream-panel").hidden = this.side === null;
    const select = this.$("dream-digit");
    const previous = select.value;
    select.replaceChildren(...Array.from({ length: outputs }, (_, d) => {
      const option = document.createElement("option");
      option.value = option.textContent = String(d);
      return option;
    }));
    if (+previous < outputs) select.value = previous || "3";
    this.dreamed = null;
    this.$("dream-feed").hidden = true;
    this.$("dream-panel").dataset.dreamed = "";
    this.$("dream-panel").dataset.explained = "";
  }

  async dream() {
    const digit = +this.$("dream-digit").value;
    this.message("dreaming: 300 steps of gradient ascent…");
    this.$("dream").disabled = true;
    try {
      const answer = await this.api.dream(digit, this.edits.list());
      const canvas = this.$("dream-picture");
      canvas.width = canvas.height = this.side;
      paintCells(canvas.getContext("2d"), answer.pixels, this.side, this.side, grayRgb);
      canvas.setAttribute("aria-label", `The input that excites output ${digit} most`);
      this.$("dream-caption").textContent = `The input that makes output “${digit}” fire most. The network reads it as ` +
        `${answer.guess} (${percent(answer.probabilities[answer.guess], 0)} sure): not a digit a person would draw.`;
      this.dreamed = answer.pixels;
      this.$("dream-feed").hidden = false;
      this.$("dream-panel").dataset.dreamed = String(digit);
      this.message("");
    } catch (error) {
      this.message(error.message);
    }
    this.$("dream").disabled = false;
  }

  async explain() {
    const input = this.input();
    if (!input) {
      this.message("Draw a digit (or pick a test image) first: there is no answer to explain yet.");
      return;
    }
    try {
      const answer = await this.api.explain(input, this.edits.list());
      const canvas = this.$("explain-picture");
      canvas.width = canvas.height = this.side;
      paintCells(canvas.getContext("2d"), answer.contributions, this.side, this.side, (c) => signedRgb(c, answer.largest || 1));
      canvas.setAttribute("aria-label", `Which pixels pushed the answer ${answer.digit} up (green) or down (red)`);
      this.$("explain-caption").textContent = `Why “${answer.digit}”: green pixels pushed output ${answer.digit} up, ` +
        "red ones pushed it down (each pixel’s brightness × how much z would change with it).";
      this.$("dream-panel").dataset.explained = String(answer.digit);
      this.message("");
    } catch (error) {
      this.message(error.message);
    }
  }

  message(text) {
    this.$("dream-message").textContent = text;
  }
}
