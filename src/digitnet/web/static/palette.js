// Colours and number formatting shared by every view: 3Blue1Brown's palette on a dark background.

export const GREEN = [131, 193, 103]; // positive weights and contributions
export const RED = [252, 98, 85]; // negative ones
export const BLUE = "#58c4dd";
export const YELLOW = "#f7d96f";
export const TEXT = "#ece9e4";
export const MUTED = "#8e97a8";
export const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif';
export const MATH_FONT = '"CMU Serif", "Latin Modern Roman", "STIX Two Math", Georgia, serif';

export function rgba([r, g, b], alpha = 1) {
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** A signed value as colour: green if > 0, red if < 0, brightness |value| / scale (black at 0). */
export function signedRgb(value, scale) {
  const t = Math.min(1, Math.abs(value) / (scale || 1));
  const [r, g, b] = value >= 0 ? GREEN : RED;
  return [r * t, g * t, b * t];
}

/** An activation as grey: 0 black, 1 white (values outside [0, 1] are clipped). */
export function grayRgb(value) {
  const v = 255 * Math.min(1, Math.max(0, value));
  return [v, v, v];
}

/** Fill `ctx`'s canvas (width x height cells, one pixel each) with colour(value) of each value. */
export function paintCells(ctx, values, width, height, colour) {
  const image = ctx.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const [r, g, b] = colour(values[i], i);
    image.data[4 * i] = r;
    image.data[4 * i + 1] = g;
    image.data[4 * i + 2] = b;
    image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

export function maxAbs(values) {
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return m || 1;
}

/** 2.3456 -> "2.346", -0.5 -> "−0.500" (a real minus sign, as in print). */
export function fmt(x, digits = 3) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  const text = Math.abs(x) >= 1e4 ? x.toExponential(2) : x.toFixed(digits);
  return text.replace("-", "−");
}

export function percent(x, digits = 1) {
  return x === null || x === undefined ? "–" : `${(100 * x).toFixed(digits)}%`;
}

/** A canvas's 2-D context drawing in CSS pixels at the screen's resolution; returns [ctx, w, h]. */
export function crispContext(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const { width, height } = canvas.getBoundingClientRect();
  canvas.width = Math.max(1, Math.round(width * ratio));
  canvas.height = Math.max(1, Math.round(height * ratio));
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return [ctx, width, height];
}
