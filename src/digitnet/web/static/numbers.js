// Numbers as the page prints them, and the small statistics the pictures need for their contrast.

/** 2.3456 -> "2.346", -0.5 -> "−0.500" (a real minus sign, as in print). */
export function fmt(x, digits = 3) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  const text = Math.abs(x) >= 1e4 ? x.toExponential(2) : x.toFixed(digits);
  return text.replace("-", "−");
}

export function percent(x, digits = 1) {
  return x === null || x === undefined ? "–" : `${(100 * x).toFixed(digits)}%`;
}

/** +0.4 percentage points -> "+0.40 pt", with a real minus sign. */
export function pointChange(delta, digits = 2) {
  const text = `${delta >= 0 ? "+" : "−"}${Math.abs(100 * delta).toFixed(digits)}`;
  return `${text} pt`;
}

export function maxAbs(values) {
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return m || 1;
}

/** The value of |values| at quantile q (0..1): full brightness there, so a few large ones do not darken the rest. */
export function absQuantile(values, q) {
  const sorted = Array.from(values, Math.abs).sort((x, y) => x - y);
  return sorted[Math.floor(q * (sorted.length - 1))] || maxAbs(values);
}
