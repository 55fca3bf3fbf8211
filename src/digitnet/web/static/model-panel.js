// The model panel: structure, parameter count, training summary, accuracy per epoch.

import { BLUE, YELLOW } from "./palette.js";
import { percent } from "./numbers.js";

const SVG = "http://www.w3.org/2000/svg";

/** Fill the <dl> with what the model is and how it was trained; draw its validation accuracy per epoch. */
export function renderModelFacts(list, historySvg, info) {
  const facts = [
    ["Structure", info.layer_sizes.join(" → ")],
    ["Squish", `${info.activation} hidden layers, ${info.output} output`],
    ["Parameters", `${info.parameter_count.toLocaleString("en-US")} weights and biases`],
  ];
  if (info.deskews) facts.push(["Inputs", "deskewed: each digit’s slant is taken out before the network sees it"]);
  const t = info.training;
  if (t) {
    const settings = t.settings || {};
    const how = [settings.optimizer, settings.learning_rate !== undefined && `learning rate ${settings.learning_rate}`,
      settings.batch_size && `mini-batches of ${settings.batch_size}`, settings.cost && settings.cost.replace("_", "-")]
      .filter(Boolean).join(", ");
    facts.push(["Training", `${t.epochs} epoch${t.epochs === 1 ? "" : "s"}${how ? `: ${how}` : ""}`]);
    facts.push(["Best validation accuracy", t.best_validation_accuracy === null ? "–"
      : `${percent(t.best_validation_accuracy, 2)}${t.best_epoch ? ` (epoch ${t.best_epoch})` : ""}`]);
    facts.push(["Test accuracy", t.test_accuracy === null ? "not measured" : `${percent(t.test_accuracy, 2)} of 10,000 test images`]);
  } else {
    facts.push(["Training", "not recorded in this file"]);
  }
  list.replaceChildren(...facts.map(([term, value]) => {
    const row = document.createElement("div");
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = term;
    dd.textContent = value;
    row.append(dt, dd);
    return row;
  }));
  drawHistory(historySvg, t ? t.history : []);
}

function drawHistory(svg, history) {
  svg.replaceChildren();
  const points = history.filter((r) => r.validation_accuracy !== null && r.validation_accuracy !== undefined);
  svg.style.display = points.length < 2 ? "none" : ""; // (an <svg> has no `hidden` property)
  if (points.length < 2) return;
  const width = 300;
  const height = 110;
  const pad = { left: 34, right: 10, top: 16, bottom: 22 };
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const accuracies = points.flatMap((r) => [r.validation_accuracy, r.train_accuracy ?? r.validation_accuracy]);
  const low = Math.floor(Math.min(...accuracies) * 50) / 50;
  const high = Math.min(1, Math.ceil(Math.max(...accuracies) * 50) / 50);
  const X = (i) => pad.left + (i / (points.length - 1)) * (width - pad.left - pad.right);
  const Y = (v) => height - pad.bottom - ((v - low) / (high - low || 1)) * (height - pad.top - pad.bottom);
  const add = (tag, attributes, text) => {
    const element = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attributes)) element.setAttribute(k, v);
    if (text !== undefined) element.textContent = text;
    svg.append(element);
    return element;
  };
  add("text", { x: pad.left, y: 10, class: "chart-title" }, "accuracy per epoch: validation (blue), training (grey)");
  for (const v of [low, high]) {
    add("line", { x1: pad.left, x2: width - pad.right, y1: Y(v), y2: Y(v), class: "grid" });
    add("text", { x: pad.left - 4, y: Y(v) + 3, "text-anchor": "end" }, percent(v, 0));
  }
  const line = (key, colour) => add("polyline", {
    points: points.map((r, i) => `${X(i)},${Y(r[key] ?? r.validation_accuracy)}`).join(" "),
    fill: "none", stroke: colour, "stroke-width": 2,
  });
  if (points.every((r) => r.train_accuracy !== null && r.train_accuracy !== undefined)) line("train_accuracy", "rgba(236,233,228,0.45)");
  line("validation_accuracy", BLUE);
  points.forEach((r, i) => {
    const dot = add("circle", { cx: X(i), cy: Y(r.validation_accuracy), r: 3, fill: BLUE });
    const title = document.createElementNS(SVG, "title");
    title.textContent = `epoch ${r.epoch}: validation ${percent(r.validation_accuracy, 2)}` +
      (r.train_accuracy !== null && r.train_accuracy !== undefined ? `, training ${percent(r.train_accuracy, 2)}` : "");
    dot.append(title);
    const every = Math.ceil(points.length / 10);
    if (i % every === 0 || i === points.length - 1) add("text", { x: X(i), y: height - 6, "text-anchor": "middle" }, String(r.epoch));
  });
  const best = points.reduce((b, r) => (r.validation_accuracy > b.validation_accuracy ? r : b), points[0]);
  add("circle", { cx: X(points.indexOf(best)), cy: Y(best.validation_accuracy), r: 5, fill: "none", stroke: YELLOW, "stroke-width": 1.5 });
}

/** The model menu: the files of the models folder (and the server's own model); hidden without a folder. */
export function renderModelChoice(row, select, info, startupName) {
  // The server's own model, the shipped ones by name (video, record, strong), then the folder's files.
  const shipped = info.shipped || [];
  const names = [...new Set([startupName, ...shipped, ...(info.models || [])])];
  row.hidden = names.length < 2;
  if (row.hidden) return;
  select.replaceChildren(...names.map((name) => {
    const option = document.createElement("option");
    option.value = name;
    option.textContent = shipped.includes(name) ? `${name} (shipped)` : name;
    return option;
  }));
  select.value = info.name;
}

/** The page's address names its model (?model=NAME), so a reload or a shared link shows the same one. */
export function showModelInAddress(name) {
  const url = new URL(window.location.href);
  if (name === null) url.searchParams.delete("model");
  else url.searchParams.set("model", name);
  window.history.replaceState(null, "", url);
}
