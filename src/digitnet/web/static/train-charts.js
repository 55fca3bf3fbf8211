// The curves of a network learning, drawn on two canvases while it trains: the cost (loss) after every
// few mini-batches, and the accuracy on the training and the validation images after every epoch.
// The x axis runs from 0 to a round number of epochs past the latest point (1, 2, 5, 10, 20, 50, ...; at
// most the run's epochs), so the curves grow from left to right and a long run's first epochs stay readable.

import { BLUE, YELLOW, TEXT, MUTED, FONT } from "./palette.js";
import { percent } from "./numbers.js";
import { crispContext } from "./cells.js";

const PAD = { left: 42, right: 12, top: 22, bottom: 24 };
const TRAIN_GREY = "rgba(236, 233, 228, 0.6)";

export class TrainCharts {
  constructor(lossCanvas, accuracyCanvas) {
    this.lossCanvas = lossCanvas;
    this.accuracyCanvas = accuracyCanvas;
    this.reset(1);
    const observer = new ResizeObserver(() => this.draw());
    observer.observe(lossCanvas);
    observer.observe(accuracyCanvas);
  }

  /** Start over for a run of `epochs` epochs. */
  reset(epochs) {
    this.epochs = Math.max(1, epochs);
    this.steps = []; // {x: epochs done (fractional), loss}
    this.records = []; // the epochs' records: {epoch, loss, train_accuracy, validation_accuracy}
    this.draw();
  }

  /** A point of the loss curve: `x` epochs done (e.g. 1.25), the mean cost of the latest mini-batches. */
  addStep(x, loss) {
    if (!Number.isFinite(loss)) return;
    const last = this.steps[this.steps.length - 1];
    if (last && x <= last.x) return; // the same moment told twice (a reconnect replays the progress so far)
    this.steps.push({ x, loss });
  }

  /** An epoch's record, as in the model file's history; replaces one of the same epoch. */
  addEpoch(record) {
    this.records = this.records.filter((r) => r.epoch !== record.epoch).concat([record]).sort((a, b) => a.epoch - b.epoch);
  }

  get hasPoints() {
    return this.steps.length > 0 || this.records.length > 0;
  }

  draw() {
    this.drawLoss();
    this.drawAccuracy();
  }

  drawLoss() {
    // The finished epochs' losses (all a tab that connects late has of them), then the live points.
    const since = this.steps.length ? this.steps[0].x : Infinity;
    const points = this.records.filter((r) => r.epoch < since && Number.isFinite(r.loss)).map((r) => ({ x: r.epoch, loss: r.loss }))
      .concat(this.steps);
    const [top, step] = niceAxis(Math.max(0.1, ...points.map((p) => p.loss)));
    const last = points[points.length - 1];
    const title = [[`cost (loss)${last ? `: ${last.loss.toFixed(3)}` : ""}`, TEXT]];
    const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, k) => k * step);
    const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
    const chart = this.frame(this.lossCanvas, title, ticks, (v) => v.toFixed(decimals));
    if (!chart) return;
    chart.line(points.map((p) => [p.x, p.loss]), YELLOW, 1.5);
    this.lossCanvas.setAttribute("aria-label", last ? `Loss curve: ${points.length} points, the latest ${last.loss.toFixed(3)}`
      : "Loss curve: no points yet");
  }

  drawAccuracy() {
    const records = this.records.filter((r) => Number.isFinite(r.validation_accuracy));
    const values = records.flatMap((r) => [r.validation_accuracy, r.train_accuracy]).filter(Number.isFinite);
    const lowest = values.length ? Math.max(0, Math.min(...values)) : 0;
    const step = 1 - lowest <= 0.2 ? 0.05 : 1 - lowest <= 0.5 ? 0.1 : 0.25; // 4 to 5 grid lines
    const ticks = [];
    for (let k = 0; k < 2 || 1 - k * step > lowest - step + 1e-9; k++) ticks.unshift(Math.max(0, 1 - k * step));
    const last = records[records.length - 1];
    // The title is the legend: each figure in its curve's colour.
    const title = last ? [["accuracy: ", TEXT], [`validation ${percent(last.validation_accuracy)}`, BLUE], [", ", TEXT],
      [`training ${percent(last.train_accuracy)}`, TRAIN_GREY]]
      : [["accuracy after each epoch: ", TEXT], ["validation", BLUE], [", ", TEXT], ["training", TRAIN_GREY]];
    const chart = this.frame(this.accuracyCanvas, title, ticks, (v) => percent(v, 0));
    if (!chart) return;
    const trained = records.filter((r) => Number.isFinite(r.train_accuracy));
    chart.line(trained.map((r) => [r.epoch, r.train_accuracy]), TRAIN_GREY, 2);
    chart.dots(trained.map((r) => [r.epoch, r.train_accuracy]), TRAIN_GREY);
    chart.line(records.map((r) => [r.epoch, r.validation_accuracy]), BLUE, 2);
    chart.dots(records.map((r) => [r.epoch, r.validation_accuracy]), BLUE);
    this.accuracyCanvas.setAttribute("aria-label", last
      ? `Accuracy after epoch ${last.epoch}: validation ${percent(last.validation_accuracy, 2)}, training ${percent(last.train_accuracy, 2)}`
      : "Accuracy curve: no epoch finished yet");
  }

  /** The x axis's end: the first of 1, 2, 5, 10, 20, 50, ... past the latest point, at most the run's epochs. */
  span() {
    const latest = Math.max(this.steps.length ? this.steps[this.steps.length - 1].x : 0,
      ...this.records.map((r) => r.epoch));
    let end = 1;
    for (let k = 0; end <= latest && end < this.epochs; k++) end = [1, 2, 5][k % 3] * 10 ** Math.floor(k / 3);
    return Math.min(end, this.epochs);
  }

  /** Axes, grid and title on `canvas`, y from ticks[0] to the last tick; returns helpers to draw in data coordinates. */
  frame(canvas, title, ticks, yLabel) {
    const yRange = [ticks[0], ticks[ticks.length - 1]];
    if (!canvas.isConnected || canvas.getBoundingClientRect().width === 0) return null;
    const [ctx, width, height] = crispContext(canvas);
    const span = this.span();
    const X = (x) => PAD.left + (x / span) * (width - PAD.left - PAD.right);
    const Y = (y) => height - PAD.bottom - ((y - yRange[0]) / (yRange[1] - yRange[0] || 1)) * (height - PAD.top - PAD.bottom);
    ctx.clearRect(0, 0, width, height);
    ctx.font = `11px ${FONT}`;
    ctx.textAlign = "left";
    let x = PAD.left;
    for (const [text, colour] of title) { // [text, colour] pieces
      ctx.fillStyle = colour;
      ctx.fillText(text, x, 13);
      x += ctx.measureText(text).width;
    }
    ctx.strokeStyle = "rgba(255, 255, 255, 0.1)";
    ctx.fillStyle = MUTED;
    ctx.lineWidth = 1;
    for (const v of ticks) {
      ctx.beginPath();
      ctx.moveTo(PAD.left, Y(v));
      ctx.lineTo(width - PAD.right, Y(v));
      ctx.stroke();
      ctx.textAlign = "right";
      ctx.fillText(yLabel(v), PAD.left - 5, Y(v) + 4);
    }
    const every = Math.ceil(span / 10);
    ctx.textAlign = "center";
    for (let e = 0; e <= span; e += every) ctx.fillText(String(e), X(e), height - 8);
    ctx.textAlign = "right";
    ctx.fillText("epoch", PAD.left - 9, height - 8);
    return {
      line(points, colour, lineWidth) {
        if (points.length < 2) return;
        ctx.strokeStyle = colour;
        ctx.lineWidth = lineWidth;
        ctx.beginPath();
        points.forEach(([x, y], i) => (i ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
        ctx.stroke();
      },
      dots(points, colour) {
        ctx.fillStyle = colour;
        for (const [x, y] of points) {
          ctx.beginPath();
          ctx.arc(X(x), Y(y), 3, 0, 2 * Math.PI);
          ctx.fill();
        }
      },
    };
  }
}

/** A round top for the loss axis and its grid step: 0.83 -> [1, 0.2], 2.3 -> [2.5, 0.5], 0.27 -> [0.3, 0.1]. */
function niceAxis(value) {
  const power = 10 ** Math.floor(Math.log10(value));
  const [top, step] = [[1, 0.2], [2, 0.5], [2.5, 0.5], [3, 1], [5, 1], [10, 2]].find(([t]) => t * power >= value);
  return [top * power, step * power];
}
