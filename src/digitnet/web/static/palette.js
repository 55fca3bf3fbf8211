// 3Blue1Brown's palette on a dark background, and the two colour scales every view uses: signed values
// green/red, activations grey.

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
