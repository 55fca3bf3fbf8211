// The page's edits to the network (the neuron lab), kept per neuron and sent to the server as the
// list of docs/neuron-lab-api.md. They live only in this page: another tab never sees them, a
// reload forgets them, and the model file is never changed (save writes a new one).

/** What one neuron's edit can hold: painted weights, a scale, a bias, switched off. */
function blank() {
  return { weights: null, factor: 1, bias: null, off: false };
}

export class LabEdits {
  constructor() {
    this.byNeuron = new Map(); // "layer/neuron" -> {weights: number[] | null, factor, bias: number | null, off}
  }

  key(layer, neuron) {
    return `${layer}/${neuron}`;
  }

  get(layer, neuron) {
    return this.byNeuron.get(this.key(layer, neuron)) || blank();
  }

  /** Change some fields of a neuron's edit; an edit back to the trained neuron is dropped. */
  set(layer, neuron, fields) {
    const edit = { ...this.get(layer, neuron), ...fields };
    const key = this.key(layer, neuron);
    if (edit.weights === null && edit.factor === 1 && edit.bias === null && !edit.off) this.byNeuron.delete(key);
    else this.byNeuron.set(key, edit);
  }

  reset(layer, neuron) {
    this.byNeuron.delete(this.key(layer, neuron));
  }

  clear() {
    this.byNeuron.clear();
  }

  get size() {
    return this.byNeuron.size;
  }

  isEdited(layer, neuron) {
    return this.byNeuron.has(this.key(layer, neuron));
  }

  /** The list the server takes: per neuron its painted weights, then the scale, then the bias, then off. */
  list() {
    const edits = [];
    for (const [key, edit] of this.byNeuron) {
      const [layer, neuron] = key.split("/").map(Number);
      if (edit.weights) edits.push({ kind: "weights", layer, neuron, weights: edit.weights.map(round) });
      if (edit.factor !== 1) edits.push({ kind: "scale", layer, neuron, factor: edit.factor });
      if (edit.bias !== null) edits.push({ kind: "bias", layer, neuron, value: edit.bias });
      if (edit.off) edits.push({ kind: "off", layer, neuron });
    }
    return edits;
  }

  /**
   * The neuron as the edited network has it: trained {layer, index, bias, weights, ...} -> a copy with
   * its edits applied (switched off shows its weights as 0, as the server makes them).
   */
  neuron(trained) {
    const edit = this.get(trained.layer, trained.index);
    let weights = edit.weights ? edit.weights.slice() : trained.weights.slice();
    if (edit.factor !== 1) weights = weights.map((w) => w * edit.factor);
    let bias = edit.bias ?? trained.bias;
    if (edit.off) {
      weights = weights.map(() => 0);
      bias = trained.squish === "relu" || trained.squish === "tanh" ? 0 : -10000;
    }
    return { ...trained, weights, bias, edited: this.isEdited(trained.layer, trained.index), off: edit.off };
  }

  /**
   * layers: the API's [{layer, weights (n_out x n_in), biases, squish}] -> copies with every edit applied,
   * for the drawing of the network and the matrix view (the numbers of a prediction come from the server).
   */
  layers(layers) {
    if (this.size === 0) return layers;
    const copies = layers.map((layer) => ({ ...layer, weights: layer.weights.map((row) => row.slice()), biases: layer.biases.slice() }));
    for (const key of this.byNeuron.keys()) {
      const [l, i] = key.split("/").map(Number);
      const layer = copies[l - 1];
      const edited = this.neuron({ layer: l, index: i, squish: layer.squish, bias: layers[l - 1].biases[i], weights: layers[l - 1].weights[i] });
      layer.weights[i] = edited.weights;
      layer.biases[i] = edited.bias;
      if (edited.off && copies[l]) for (const row of copies[l].weights) row[i] = 0; // it passes nothing on
    }
    return copies;
  }
}

function round(w) {
  return Math.round(w * 1e5) / 1e5;
}

// ---- the video's thought experiments, as weights for a first-layer neuron (side x side pixels) ------

/** "Edge detector": positive along a short horizontal stroke, negative in the bands around it. */
export function edgeDetector(side) {
  const weights = new Array(side * side).fill(0);
  const left = Math.round(side * 0.25);
  const right = Math.round(side * 0.75);
  const middle = Math.round(side * 0.36); // where the top bar of a 7 or a 5 is drawn
  for (let row = middle - 4; row <= middle + 4; row++) {
    for (let col = left; col < right; col++) {
      const inside = Math.abs(row - middle) <= 1;
      weights[row * side + col] = inside ? 1 : -0.6;
    }
  }
  return weights;
}

/** "All zero except a region": weight 1 in a box in the upper middle, 0 everywhere else. */
export function regionOnly(side) {
  const weights = new Array(side * side).fill(0);
  const [top, bottom] = [Math.round(side * 0.2), Math.round(side * 0.45)];
  const [left, right] = [Math.round(side * 0.35), Math.round(side * 0.65)];
  for (let row = top; row < bottom; row++) for (let col = left; col < right; col++) weights[row * side + col] = 1;
  return weights;
}
