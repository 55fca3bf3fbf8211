// The explorer page: wires the drawing pad, the network, the neuron inspector, the matrix view, the MNIST
// strip and the model panel to the server's API. All the numbers come from the server; this only draws.

import { createApi } from "./api.js";
import { DrawingPad } from "./draw.js";
import { NetworkView } from "./network-view.js";
import { Inspector } from "./inspector.js";
import { MatrixView } from "./matrix.js";
import { ExampleStrip } from "./example-strip.js";
import { renderModelFacts, renderModelChoice, showModelInAddress } from "./model-panel.js";
import { showAnswer, paintSeen } from "./answer-view.js";
import { gridSide, bringIntoView } from "./cells.js";
import { PEN_WIDTHS } from "./draw.js";
import { LabEdits } from "./lab-edits.js";
import { NeuronLab } from "./neuron-lab.js";
import { LabResults } from "./lab-results.js";
import { Probe } from "./probe.js";
import { renderWeightsGrid } from "./weights-grid.js";
import { DreamExplain } from "./dream-explain.js";
import { LayerPlayer } from "./layer-player.js";
import { Presentation } from "./presentation.js";
import { Tour } from "./tour.js";
import { mountLab } from "./train-panel.js";
import { mountSweeps } from "./sweeps.js";

const THROTTLE_MS = 70; // while drawing, ask the server at most this often
const EXAMPLE_COUNT = 24;
const $ = (id) => document.getElementById(id);
const api = createApi();

const state = {
  info: null, // GET /api/model
  startupName: null, // the model the server started with (shown when the page names none)
  layers: [], // GET /api/layer/l for l = 1..L
  names: [], // "Input", "Hidden layer 1", ..., "Output layer"
  prediction: null,
  selected: null, // {layer, index}
  trained: null, // the open neuron as the model file has it (GET /api/neuron), before the lab's edits
  input: null, // what the prediction was made from: {image} or {pixels}
  requestId: 0, // answers may arrive out of order: only a newer one than shown is applied
  shownId: 0,
  version: 0, // bumped on every change to the drawing
  timer: null,
  inFlight: false,
  exampleStart: 0,
};

const guess = $("guess");
const pad = new DrawingPad($("pad"), { onChange: drawingChanged, onStrokeEnd: () => sendDrawing() });
const network = new NetworkView($("net-wrap"), $("net"), $("neurons"), { onSelect: select });
const inspector = new Inspector($("inspector"), { onSelect: select });
const matrix = new MatrixView($("matrix"), $("matrix-readout"), { onSelect: select });
const strip = new ExampleStrip($("examples"), { onPick: pickExample });
const edits = new LabEdits(); // this page's own: never sent to another tab, forgotten on reload
const lab = new NeuronLab($("lab"), $("paint-tools"), $("weight-picture"), edits, { onEdit: labChanged, cursor: () => inspector.cursor });
const results = new LabResults($("lab-results"), $("changed-panel"), {
  api, edits, onPick: (image) => pickExample(image),
  onSaved: (answer) => { state.info.models = answer.models; renderModelChoice($("model-select-row"), $("model-select"), state.info, state.startupName); },
});
const probe = new Probe($("probe"), { api, edits, onPick: (image) => pickExample(image) });
const dreams = new DreamExplain($, { api, edits, input: () => state.input, onFeed: (pixels) => feedPixels(pixels, "a dream") });
const player = new LayerPlayer(network, $);
const presentation = new Presentation($("present"), network);
const trainLab = { onPrediction: () => {} }; // the Train panel's mirror of the guess (train-panel.js)
new Tour($, {
  onShowNeuron: async () => {
    if (!state.selected || state.selected.layer === 0) await select({ layer: 1, index: 0 }, { scroll: false });
  },
});

// ---- predictions ------------------------------------------------------------------------------------

async function predict(input, source) {
  const id = ++state.requestId;
  try {
    const prediction = edits.size ? await api.labPredict(input, edits.list()) : await api.predict(input);
    if (id < state.shownId) return false;
    state.shownId = id;
    state.input = input;
    show(prediction, source);
    return true;
  } catch (error) {
    if (id >= state.shownId) message(error.message);
    return false;
  }
}

function show(prediction, source) {
  state.prediction = prediction;
  message("");
  network.setPrediction(prediction);
  inspector.setPrediction(prediction);
  matrix.setPrediction(prediction);
  showAnswer($, prediction, source, state.info ? state.info.layer_sizes[0] : 784);
  trainLab.onPrediction(prediction);
}

function drawingChanged() {
  state.version++;
  guess.dataset.settled = "false";
  $("pad-hint").hidden = !pad.isEmpty();
  $("pad-hint").textContent = "draw a digit here";
  strip.mark(-1);
  if (state.timer === null) state.timer = setTimeout(sendDrawing, THROTTLE_MS);
}

/** Send the drawing now (one request at a time; a change during the request sends again after it). */
async function sendDrawing() {
  clearTimeout(state.timer);
  state.timer = null;
  if (state.inFlight) return; // the request under way re-sends when it finishes
  if (pad.isEmpty()) {
    state.requestId++;
    state.shownId = state.requestId;
    state.input = null;
    show(null, "");
    guess.dataset.settled = "true";
    return;
  }
  const version = state.version;
  state.inFlight = true;
  await predict({ image: pad.toDataURL() }, "drawing");
  state.inFlight = false;
  if (version !== state.version) {
    if (state.timer === null) state.timer = setTimeout(sendDrawing, THROTTLE_MS);
  } else {
    guess.dataset.settled = "true";
  }
}

async function pickExample(example) {
  clearTimeout(state.timer);
  state.timer = null;
  pad.clear({ silent: true });
  $("pad-hint").hidden = false;
  $("pad-hint").textContent = `showing test image #${example.index} (a ${example.label})`;
  strip.mark(example.index);
  guess.dataset.settled = "false";
  const ok = await predict({ pixels: example.pixels.map((v) => v / 255) }, "example");
  if (ok) guess.dataset.settled = "true";
  bringIntoView($("result-row")); // the answer, wherever the strip was scrolled to
}

/** Feed 784 brightnesses in 0..1 (a dream, say) to the network as its input. */
async function feedPixels(pixels, what) {
  clearTimeout(state.timer);
  state.timer = null;
  pad.clear({ silent: true });
  $("pad-hint").hidden = false;
  $("pad-hint").textContent = `showing ${what}`;
  strip.mark(-1);
  guess.dataset.settled = "false";
  // as_seen: a dream is already the network's input; a model that deskews must not deskew it again
  if (await predict({ pixels, as_seen: true }, "example")) guess.dataset.settled = "true";
  bringIntoView($("result-row"));
}

function message(text) {
  $("message").textContent = text;
}

// ---- neurons ----------------------------------------------------------------------------------------

async function select(selection, { scroll = true } = {}) {
  state.selected = selection;
  network.setSelected(selection);
  // data-neuron says which neuron the inspector shows, set once it shows it (tests wait for it).
  const shown = () => { $("inspector").dataset.neuron = `${selection.layer}/${selection.index}`; };
  const context = { layerSizes: state.info.layer_sizes, layerNames: state.names };
  if (selection.layer === 0) {
    const first = shownLayers()[0].weights; // (n_out, 784): the pixel's column is its outgoing weights
    state.trained = null;
    lab.show(null, state.info.layer_sizes);
    probe.show(null);
    inspector.show({ layer: 0, index: selection.index, outgoing: first.map((row) => row[selection.index]) }, context);
    shown();
    if (scroll) bringIntoView($("inspector-title"), $("n-a"));
    return;
  }
  try {
    const neuron = await api.neuron(selection.layer, selection.index);
    if (state.selected === selection) {
      state.trained = neuron;
      const last = state.info.layer_sizes.length - 1;
      lab.show(neuron, state.info.layer_sizes, selection.layer === last ? `output neuron “${selection.index}”`
        : `${state.names[selection.layer].toLowerCase()} · neuron ${selection.index}`);
      inspector.show(edits.neuron(neuron), context);
      probe.show(selection);
      shown();
    }
  } catch (error) {
    message(error.message);
  }
  if (scroll) bringIntoView($("inspector-title"), $("n-a")); // the neuron's panel, wherever it was clicked from
}

// ---- the neuron lab ----------------------------------------------------------------------------------

function showWeightsGrid() {
  renderWeightsGrid($("weights-grid"), $("grid-panel"), shownLayers()[0], {
    onOpen: (i) => select({ layer: 1, index: i }), edited: (i) => edits.isEdited(1, i),
  });
}

/** The layers as this page's edited network has them (the trained ones when nothing is edited). */
function shownLayers() {
  return edits.layers(state.layers);
}

/** After every edit: the neuron, the drawing of the network and the matrix at once; the guess for
 * the current input from the server (one request at a time); the test accuracy once an edit is done. */
function labChanged({ final }) {
  lab.refresh();
  if (state.trained) inspector.update(edits.neuron(state.trained));
  const layers = shownLayers();
  network.setWeights(layers.map((layer) => Float32Array.from(layer.weights.flat())));
  matrix.setLayer(layers[+$("matrix-layer").value - 1], state.names, { keepCursor: true });
  if (final) showWeightsGrid();
  document.body.dataset.edited = String(edits.size > 0);
  repredict();
  if (final) results.update();
}

async function repredict() {
  if (!state.input) return;
  if (state.repredicting) {
    state.repredictAgain = true; // the edit after the one under way: sent when it returns
    return;
  }
  state.repredicting = true;
  guess.dataset.settled = "false";
  do {
    state.repredictAgain = false;
    await predict(state.input, guess.dataset.source || "drawing");
  } while (state.repredictAgain);
  state.repredicting = false;
  guess.dataset.settled = "true";
}

// ---- the model --------------------------------------------------------------------------------------

async function loadModel(info) {
  const sizes = info.layer_sizes;
  const last = sizes.length - 1;
  const layers = await Promise.all(sizes.slice(1).map((_, l) => api.layer(l + 1)));
  state.shownId = ++state.requestId; // an answer still on its way is the old model's: never show it
  state.info = info;
  state.layers = layers;
  state.names = sizes.map((_, l) => (l === 0 ? "Input" : l === last ? "Output layer" : `Hidden layer ${l}`));
  state.selected = null;
  state.trained = null;
  $("inspector").dataset.neuron = "";
  inspector.clear();
  lab.clear(); // edits belong to the model they were made on
  lab.show(null, sizes);
  document.body.dataset.edited = "false";
  results.setModel(info.name);
  network.setModel(sizes, info.layer_activations, layers.map((layer) => Float32Array.from(layer.weights.flat())));
  player.setModel(state.names);
  dreams.setModel(sizes);
  probe.show(null);
  showWeightsGrid();
  $("model-line").textContent = `${info.name} · ${sizes.join("–")} · ${info.parameter_count.toLocaleString("en-US")} weights and biases`;
  renderModelFacts($("model-facts"), $("history"), info);
  const side = gridSide(sizes[0]);
  $("seen-size").textContent = side ? `${side}×${side} = ${sizes[0]}` : String(sizes[0]);
  $("seen-deskewed").hidden = !info.deskews; // this model learned on upright digits: it is shown them so
  renderModelChoice($("model-select-row"), $("model-select"), info, state.startupName);
  const select = $("matrix-layer");
  const previous = +select.value || 1;
  select.replaceChildren(...layers.map((layer) => {
    const option = document.createElement("option");
    option.value = layer.layer;
    option.textContent = `${state.names[layer.layer]} (${sizes[layer.layer - 1]} → ${sizes[layer.layer]})`;
    return option;
  }));
  select.value = String(Math.min(previous, last));
  matrix.setLayer(layers[+select.value - 1], state.names);
  await loadExamples();
  if (state.input) {
    await predict(state.input, guess.dataset.source || "drawing"); // the same input, through the new model
  } else if (strip.examples.length) {
    await pickExample(strip.examples[0]);
  }
}

// Only this page switches: it names its model on every call, and in its address, so a reload or a
// shared link shows the same model.
function modelMessage(text, kind = "info") {
  $("model-message").textContent = text;
  $("model-message").dataset.kind = kind;
}

/** A problem with the model this page was asked for: it stays until another model is chosen. */
function modelProblem(text) {
  $("model-problem").textContent = text;
  $("model-problem").hidden = !text;
}

async function switchModel(name) {
  modelMessage(`loading ${name}…`);
  const previous = api.modelName;
  try {
    const named = state.info.models?.includes(name) || state.info.shipped?.includes(name); // else: the startup model
    const info = named ? await api.selectModel(name) : await api.startupModel();
    api.useModel(named ? name : null);
    await loadModel(info);
    showModelInAddress(api.modelName);
    modelProblem("");
    modelMessage(`now showing ${info.name}`);
  } catch (error) {
    api.useModel(previous);
    modelMessage(`Could not switch: ${error.message}`, "error");
    $("model-select").value = state.info.name;
  }
}

async function loadExamples() {
  try {
    const { examples } = await api.examples(EXAMPLE_COUNT, state.exampleStart);
    strip.set(examples);
  } catch (error) {
    message(error.message);
  }
}

// ---- controls ---------------------------------------------------------------------------------------

$("undo").addEventListener("click", () => pad.undo());
$("pen-width").addEventListener("change", (event) => { pad.penWidth = PEN_WIDTHS[event.target.value]; });
$("clear").addEventListener("click", () => pad.clear());
$("top-k").addEventListener("input", (event) => {
  $("top-k-value").textContent = event.target.value;
  network.setTopK(+event.target.value);
});
$("matrix-layer").addEventListener("change", (event) => matrix.setLayer(shownLayers()[+event.target.value - 1], state.names));
$("model-select").addEventListener("change", (event) => switchModel(event.target.value));
$("lab-clear").addEventListener("click", () => {
  edits.clear();
  labChanged({ final: true });
});
$("more-examples").addEventListener("click", () => {
  state.exampleStart = (state.exampleStart + 997) % 10000;
  loadExamples();
});
document.addEventListener("keydown", (event) => {
  const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement?.tagName);
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z" && !typing) {
    event.preventDefault();
    pad.undo();
  }
  if (event.key.toLowerCase() === "p" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) presentation.toggle();
});

// ---- the Train panel: the same views on a network while it learns ----------------------------------------

/**
 * Show `name` ("job:ID", a training job's current weights) in every view, or, when it is shown already,
 * bring the views up to its weights of now: the guess for the same input always; with `weights` the
 * network, the open neuron and the matrix too (a whole layer's numbers: the lab asks for them less
 * often for big networks); with `facts` the model panel (its history, after an epoch).
 */
async function followModel(name, { weights = true, facts = false } = {}) {
  if (api.modelName !== name) {
    api.useModel(name);
    const info = await api.model();
    await loadModel(info);
    const option = new Option(`${info.name} (learning)`, info.name, true, true);
    option.disabled = true; // not a file of the folder until it is saved
    if (!info.models?.includes(info.name)) $("model-select").append(option);
    return;
  }
  if (facts) {
    const info = await api.model();
    if (api.modelName !== name) return; // the page has moved on meanwhile
    state.info = info;
    renderModelFacts($("model-facts"), $("history"), info);
  }
  if (weights) {
    const layers = await Promise.all(state.info.layer_sizes.slice(1).map((_, l) => api.layer(l + 1)));
    if (api.modelName !== name) return;
    state.layers = layers;
    network.weights = layers.map((layer) => Float32Array.from(layer.weights.flat())); // keeps the neuron buttons and focus
    matrix.setLayer(layers[+$("matrix-layer").value - 1], state.names);
    if (state.selected) await select(state.selected, { scroll: false });
  }
  if (state.input) await predict(state.input, guess.dataset.source || "drawing");
  else network.draw();
}

/** A file the lab has just saved into the models folder: list it in the menu, and (with show) show it. */
async function showSavedModel(name, { show = true } = {}) {
  state.info = { ...state.info, models: (await api.startupModel()).models };
  if (show) await switchModel(name);
  else renderModelChoice($("model-select-row"), $("model-select"), state.info, state.startupName);
}

async function start() {
  paintSeen($("seen"), null, 784);
  try {
    const startup = await api.startupModel();
    state.startupName = startup.name;
    let info = startup;
    const wanted = new URLSearchParams(window.location.search).get("model");
    if (wanted !== null && wanted !== startup.name) {
      try {
        info = await api.selectModel(wanted);
        api.useModel(wanted);
      } catch (error) {
        // The address keeps the name the link asked for, so the mistake can be seen and fixed there.
        modelProblem(`The link asks for the model “${wanted}”, which could not be shown: ${error.message}. ` +
          `Showing ${startup.name} instead.`);
      }
    }
    await loadModel(info);
    const first = state.prediction?.activations[1];
    if (first && !state.selected) await select({ layer: 1, index: first.indexOf(Math.max(...first)) }, { scroll: false }); // something to look at
  } catch (error) {
    message(error.message);
    $("model-line").textContent = "could not load the model";
  }
  document.body.dataset.ready = "true";
}

const started = start();
// The header's "Train a network" opens the lab below the explorer and brings it into view.
$("train-open").addEventListener("click", () => {
  const toggle = $("train-toggle");
  if (toggle && toggle.getAttribute("aria-expanded") === "false") toggle.click();
  $("train-lab").scrollIntoView({ block: "start", behavior: "smooth" });
});
// The Sweeps panel, when the server was given sweep databases (digitnet serve --sweep FILE).
fetch("/api/sweeps").then((response) => (response.ok ? response.json() : [])).then((sweeps) => {
  if (!sweeps.length) return;
  $("sweeps").hidden = false;
  mountSweeps($("sweeps"));
}).catch(() => {});
mountLab($("train-lab"), {
  ready: started,
  shownModel: () => api.modelName, // null: the model the server started with
  follow: followModel,
  show: (name) => switchModel(name ?? state.startupName),
  showSaved: showSavedModel,
  watchPredictions: (listener) => (trainLab.onPrediction = listener), // listener(prediction or null) on each new guess
});
