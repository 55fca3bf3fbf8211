// The squish of a layer drawn as a curve, with one neuron's (z, a) marked on it: the video's sigmoid plot.

import { BLUE, YELLOW, TEXT, MUTED, FONT, rgba } from "./palette.js";
import { fmt } from "./numbers.js";
import { crispContext } from "./cells.js";

export const SQUISHES = {
  sigmoid: { name: "σ(z) = 1 / (1 + e⁻ᶻ)", symbol: "σ", f: (z) => 1 / (1 + Math.exp(-z)), range: [0, 1] },
  tanh: { name: "tanh(z)", symbol: "tanh", f: Math.tanh, range: [-1, 1] },
  relu: { name: "ReLU(z) = max(0, z)", symbol: "ReLU", f: (z) => Math.max(0, z), range: null },
};

/**
 * Draw neuron `n` ({layer, index, squish}) on `canvas`; z, a: its weighted sum and activation now (or null),
 * p: the whole prediction (softmax needs the other outputs). Returns the caption.
 */
export function drawCurve(canvas, n, z, a, p) {
  const [ctx, width, height] = crispContext(canvas);
  let f, yRange, caption;
  if (n.squish === "softmax") {
    // With the other outputs held fixed, softmax of this one is a sigmoid shifted by log Σ_{k≠i} e^{z_k}.
    const others = p ? p.weighted_sums[n.layer - 1].filter((_, k) => k !== n.index) : [0];
    const top = Math.max(...others);
    const shift = top + Math.log(others.reduce((s, v) => s + Math.exp(v - top), 0));
    f = (t) => 1 / (1 + Math.exp(shift - t));
    yRange = [0, 1];
    caption = "softmax: e^z / Σ e^z_k, drawn for this output with the other nine held at their current z";
  } else {
    const squish = SQUISHES[n.squish];
    f = squish.f;
    yRange = squish.range;
    caption = `${squish.name}: the squish of this layer. The dot is this neuron now.`;
  }
  const half = Math.max(6, z === null ? 0 : Math.ceil(Math.abs(z) + 1.5));
  const zRange = [-half, half];
  if (!yRange) yRange = [0, half];
  canvas.setAttribute("aria-label", p ? `${caption}. z = ${fmt(z)}, a = ${fmt(a)}` : caption);
  const pad = { left: 28, right: 10, top: 10, bottom: 22 };
  const X = (v) => pad.left + ((v - zRange[0]) / (zRange[1] - zRange[0])) * (width - pad.left - pad.right);
  const Y = (v) => height - pad.bottom - ((v - yRange[0]) / (yRange[1] - yRange[0])) * (height - pad.top - pad.bottom);
  const axisY = Y(Math.max(0, yRange[0]));
  ctx.clearRect(0, 0, width, height);
  ctx.strokeStyle = "rgba(236, 233, 228, 0.35)";
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(X(zRange[0]), axisY);
  ctx.lineTo(X(zRange[1]), axisY);
  ctx.moveTo(X(0), Y(yRange[0]));
  ctx.lineTo(X(0), Y(yRange[1]));
  ctx.stroke();
  ctx.fillStyle = MUTED;
  ctx.font = `10px ${FONT}`;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  const step = half > 12 ? 5 : 2;
  for (let t = Math.ceil(zRange[0] / step) * step; t <= zRange[1]; t += step) {
    ctx.fillText(String(t).replace("-", "−"), X(t), axisY + 4);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const v of [yRange[0], yRange[1]]) ctx.fillText(fmt(v, v % 1 ? 1 : 0), pad.left - 5, Y(v));
  ctx.textAlign = "left";
  ctx.fillText("z", width - pad.right - 2, axisY - 8);
  ctx.strokeStyle = BLUE;
  ctx.lineWidth = 2.5;
  ctx.beginPath();
  for (let px = 0; px <= 200; px++) {
    const t = zRange[0] + ((zRange[1] - zRange[0]) * px) / 200;
    const y = Y(Math.min(yRange[1], Math.max(yRange[0], f(t))));
    px === 0 ? ctx.moveTo(X(t), y) : ctx.lineTo(X(t), y);
  }
  ctx.stroke();
  if (z === null) return caption;
  // this neuron: the dot, with dashed guides to both axes
  const [px, py] = [X(z), Y(Math.min(yRange[1], Math.max(yRange[0], a)))];
  ctx.setLineDash([3, 3]);
  ctx.strokeStyle = rgba([247, 217, 111], 0.7);
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(px, axisY);
  ctx.lineTo(px, py);
  ctx.lineTo(X(0), py);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.beginPath();
  ctx.arc(px, py, 5.5, 0, 2 * Math.PI);
  ctx.fillStyle = YELLOW;
  ctx.fill();
  // The label, on a dark patch so the axes do not run through it.
  const label = `z = ${fmt(z, 2)}, a = ${fmt(a, 2)}`;
  ctx.font = `11px ${FONT}`;
  const textWidth = ctx.measureText(label).width;
  const left = px > width * 0.6 ? px - 9 - textWidth : px + 9;
  const baseline = py < 34 ? py + 20 : py - 8;
  ctx.fillStyle = "rgba(17, 21, 28, 0.85)";
  ctx.fillRect(left - 3, baseline - 12, textWidth + 6, 16);
  ctx.fillStyle = TEXT;
  ctx.textAlign = "left";
  ctx.textBaseline = "alphabetic";
  ctx.fillText(label, left, baseline);
  return caption;
}
