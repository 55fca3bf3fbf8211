// Play and Step: the forward pass shown a layer at a time, as the video does it: the input, then
// hidden layer 1 lights up, then hidden layer 2, then the output. The speed is the user's.

export class LayerPlayer {
  /** network: the NetworkView; $: the page's element lookup. */
  constructor(network, $) {
    this.network = network;
    this.$ = $;
    this.timer = null;
    this.layer = Infinity; // Infinity: every layer lit (not playing)
    this.names = [];
    $("play").addEventListener("click", () => (this.timer ? this.stop() : this.play()));
    $("step").addEventListener("click", () => this.step());
    $("play-speed").addEventListener("input", () => this.showSpeed());
    this.showSpeed();
  }

  /** names[l]: "Input", "Hidden layer 1", ..., "Output layer" */
  setModel(names) {
    this.names = names;
    this.stop();
    this.show(Infinity);
  }

  speed() {
    return +this.$("play-speed").value; // ms per layer
  }

  showSpeed() {
    this.$("play-speed-value").textContent = `${(this.speed() / 1000).toFixed(2).replace(/0$/, "")} s per layer`;
  }

  show(layer) {
    this.layer = layer;
    this.network.setReveal(layer);
    const last = this.names.length - 1;
    this.$("play-status").textContent = layer === Infinity ? "" : layer === 0 ? "the input: 784 brightnesses"
      : layer === last ? "the output: the brightest is the guess" : `${this.names[layer].toLowerCase()} lights up`;
  }

  play() {
    this.stop();
    this.show(0);
    this.$("play").textContent = "■ Stop";
    this.$("play").setAttribute("aria-pressed", "true");
    const next = () => {
      if (this.layer >= this.names.length - 1) {
        this.stop(); // the output has been shown for a beat: every layer lit again
        return;
      }
      this.show(this.layer + 1);
      this.timer = setTimeout(next, this.speed());
    };
    this.timer = setTimeout(next, this.speed());
  }

  /** One layer further; after the output, back to everything lit. */
  step() {
    this.stop();
    const last = this.names.length - 1;
    this.show(this.layer === Infinity ? 0 : this.layer >= last ? Infinity : this.layer + 1);
  }

  stop() {
    clearTimeout(this.timer);
    const wasPlaying = this.timer !== null;
    this.timer = null;
    this.$("play").textContent = "▶ Play";
    this.$("play").setAttribute("aria-pressed", "false");
    if (wasPlaying) this.show(Infinity);
  }
}
