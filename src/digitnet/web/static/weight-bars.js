// A neuron's weights from (or, for an input pixel, into) a whole layer, as bars: green up for w > 0,
// red down for w < 0; under each bar, when known, a dot as bright as that neuron's activation.

import { GREEN, RED, rgba } from "./palette.js";
import { fmt, maxAbs } from "./numbers.js";

const SVG = "http://www.w3.org/2000/svg";

function svgElement(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

/**
 * Draw `weights` (one per neuron of the other layer) into `svg`. activations: that layer's activations
 * (dots), or null for no dots. describe(j, w, a) -> the tooltip text; onPick(j) runs on a click.
 */
export function drawBars(svg, weights, activations, { describe, onPick, onHover }) {
  svg.replaceChildren();
  const n = weights.length;
  const width = svg.clientWidth || 300;
  const height = 150;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const scale = maxAbs(weights);
  const zero = 62;
  const half = 52;
  const slot = width / n;
  weights.forEach((w, j) => {
    const group = svgElement("g", { class: "bar" });
    const h = (Math.abs(w) / scale) * half;
    group.append(svgElement("rect", {
      x: j * slot + slot * 0.15, width: Math.max(1, slot * 0.7), y: w >= 0 ? zero - h : zero,
      height: Math.max(0.5, h), fill: rgba(w >= 0 ? GREEN : RED, 0.9),
    }));
    const a = activations ? activations[j] : null;
    if (a !== null) {
      const level = Math.round(255 * Math.min(1, Math.max(0, a)));
      group.append(svgElement("circle", {
        class: "activation-dot", cx: (j + 0.5) * slot, cy: zero + half + 14, r: Math.min(7, slot * 0.35),
        fill: `rgb(${level}, ${level}, ${level})`, stroke: "rgba(236, 233, 228, 0.6)",
      }));
    }
    if (n <= 32) {
      const label = svgElement("text", { x: (j + 0.5) * slot, y: height - 4, "text-anchor": "middle" });
      label.textContent = String(j);
      group.append(label);
    }
    const title = svgElement("title", {});
    title.textContent = describe(j, w, a);
    group.append(title);
    group.addEventListener("click", () => onPick(j));
    group.addEventListener("mouseenter", () => onHover(title.textContent));
    svg.append(group);
  });
  svg.append(svgElement("line", { x1: 0, x2: width, y1: zero, y2: zero, stroke: "rgba(236, 233, 228, 0.4)" }));
  svg.setAttribute("aria-label", `${n} weights from ${fmt(Math.min(...weights), 2)} to ${fmt(Math.max(...weights), 2)}`);
}
