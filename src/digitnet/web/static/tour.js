// A guided tour that follows the video's story, one step per idea, each pointing at its part of the
// page: pixels, 784 inputs, layers, the hope of edges and loops, weights as pictures, the bias, the
// sigmoid, the matrix form, 13,002 numbers to learn. Next/Back, or the arrow keys; Esc ends it.

import { bringIntoView } from "./cells.js";

/** The steps: title, text, the element to point at (a selector), and what to show first (optional). */
export const STEPS = [
  { title: "A picture is 784 numbers", target: ".draw-panel",
    text: "Draw a digit on the pad. The network never sees your strokes: it sees the small picture beside the guess, " +
      "28 × 28 = 784 pixels, each a number from 0.0 (black) to 1.0 (white), scaled and centred the way MNIST’s digits were." },
  { title: "784 input neurons", target: "#net-wrap",
    text: "Each of those 784 brightnesses is one neuron of the first layer, the input: the grid on the left of the network. " +
      "Its activation is the pixel’s brightness, nothing more." },
  { title: "Layers", target: ".network-panel",
    text: "Then come two hidden layers of 16 neurons and an output layer of 10, one per digit. Every neuron holds one number, " +
      "its activation, drawn as its brightness. The brightest output neuron is the network’s guess." },
  { title: "The hope: edges, then loops", target: "#probe", show: "neuron",
    text: "The hope in the video: the first hidden layer picks out little edges, the second combines them into loops and lines, " +
      "the output combines those into digits. Does it? Press “Which test images excite it?” and look at what this neuron likes: " +
      "mostly not a tidy edge." },
  { title: "Weights as pictures", target: "#grid-panel",
    text: "A first-layer neuron has 784 weights, one per pixel. Drawn as a 28 × 28 picture, green where a bright pixel pushes " +
      "the neuron up, red where it pushes it down, each shows the pattern the neuron looks for. Click one to open it." },
  { title: "Change a neuron yourself", target: "#lab-panel", show: "neuron",
    text: "In the neuron lab, set weights by hand: the “Edge detector” preset is positive along a stroke and negative around it, " +
      "the video’s thought experiment. The guess and the accuracy on 10,000 test images change at once." },
  { title: "The weighted sum and the bias", target: "#inspector",  show: "neuron",
    text: "A neuron multiplies each input by its weight and adds them up, then adds its bias: z = Σ w·a + b. The bias says how " +
      "high the sum must be before the neuron lights up: “Bias of −10” makes it fire only when the sum is above 10." },
  { title: "The sigmoid squishes", target: "#curve", show: "neuron",
    text: "z can be any number; the sigmoid σ(z) = 1 / (1 + e⁻ᶻ) squishes it into 0 … 1, the neuron’s activation. " +
      "Very negative z gives about 0, very positive about 1. The yellow dot is this neuron now." },
  { title: "A whole layer as matrices", target: ".matrix-panel",
    text: "All of a layer at once: its weights are a matrix W, one row per neuron, one column per neuron of the layer before; " +
      "the activations are a column a. Then a′ = σ(W a + b). Hover over W to read every number." },
  { title: "13,002 numbers to learn", target: ".model-panel",
    text: "In the video’s network, 784 × 16 + 16 × 16 + 16 × 10 = 12,960 weights and 16 + 16 + 10 = 42 biases: 13,002 numbers. Learning means finding " +
      "values for all of them that make the right output brightest on 50,000 training images, by gradient descent." },
  { title: "Watch it think", target: ".play-controls",
    text: "Press Play to watch an input flow through the network a layer at a time, as the video shows it: the input, " +
      "then hidden layer 1 lights up, then hidden layer 2, then the output. That is the whole network: a function of 784 numbers." },
];

export class Tour {
  /** $: the page's element lookup; onShowNeuron(): open a neuron in the inspector if none is open. */
  constructor($, { onShowNeuron }) {
    this.$ = $;
    this.onShowNeuron = onShowNeuron;
    this.step = -1;
    this.target = null;
    $("tour-start").addEventListener("click", () => this.start());
    $("tour-next").addEventListener("click", () => this.go(this.step + 1));
    $("tour-back").addEventListener("click", () => this.go(this.step - 1));
    $("tour-close").addEventListener("click", () => this.end());
    document.addEventListener("keydown", (event) => {
      if (this.step < 0 || ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement?.tagName)) return;
      if (event.key === "ArrowRight" || event.key === "PageDown") this.go(this.step + 1);
      else if (event.key === "ArrowLeft" || event.key === "PageUp") this.go(this.step - 1);
      else if (event.key === "Escape") this.end();
      else return;
      event.preventDefault();
    });
  }

  start() {
    this.$("tour").hidden = false;
    this.go(0);
    this.$("tour-next").focus();
  }

  async go(k) {
    if (k >= STEPS.length) return this.end();
    if (k < 0) return;
    this.step = k;
    const step = STEPS[k];
    if (step.show === "neuron") await this.onShowNeuron();
    this.target?.classList.remove("tour-target");
    this.target = document.querySelector(step.target);
    this.target.classList.add("tour-target");
    this.$("tour").dataset.step = String(k + 1);
    this.$("tour-count").textContent = `Step ${k + 1} of ${STEPS.length}`;
    this.$("tour-title").textContent = step.title;
    this.$("tour-text").textContent = step.text;
    this.$("tour-back").disabled = k === 0;
    this.$("tour-next").textContent = k === STEPS.length - 1 ? "Finish" : "Next ›";
    this.place();
  }

  /** Show the target, and put the card in the corner of the screen where it covers the least of it. */
  place() {
    const card = this.$("tour");
    bringIntoView(this.target);
    const box = this.target.getBoundingClientRect();
    const { width, height } = card.getBoundingClientRect();
    const [w, h] = [window.innerWidth, window.innerHeight];
    const overlap = ([left, top]) =>
      Math.max(0, Math.min(box.right, left + width) - Math.max(box.left, left)) *
      Math.max(0, Math.min(box.bottom, top + height) - Math.max(box.top, top));
    const corners = { "bottom-right": [w - width - 16, h - height - 16], "bottom-left": [16, h - height - 16],
      "top-right": [w - width - 16, 16], "top-left": [16, 16] };
    let best = "bottom-right";
    for (const corner of Object.keys(corners)) if (overlap(corners[corner]) < overlap(corners[best]) - 1) best = corner;
    card.dataset.corner = best;
  }

  end() {
    this.step = -1;
    this.target?.classList.remove("tour-target");
    this.target = null;
    this.$("tour").hidden = true;
    this.$("tour-start").focus();
  }
}
