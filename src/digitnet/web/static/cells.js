// Grids of cells on canvases: painting one value per cell, and the one hit-test that turns a pointer
// position into the cell under it (the network's input grid, a weight picture, the matrix W).

/** The side of the square picture a layer of `n` neurons makes (784 -> 28), or null if n is not a square. */
export function gridSide(n) {
  const side = Math.round(Math.sqrt(n));
  return side * side === n ? side : null;
}

/**
 * The cell of a `columns` x `rows` grid drawn over `element` under the pointer `event`, as [row, col],
 * clamped to the grid (a pointer on the very edge is the edge cell).
 */
export function cellAt(element, event, columns, rows) {
  const rect = element.getBoundingClientRect();
  const col = Math.floor(((event.clientX - rect.left) / rect.width) * columns);
  const row = Math.floor(((event.clientY - rect.top) / rect.height) * rows);
  return [Math.min(rows - 1, Math.max(0, row)), Math.min(columns - 1, Math.max(0, col))];
}

/** Fill `ctx`'s canvas (width x height cells, one pixel each) with colour(value, i) of each value. */
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

/**
 * Scroll just enough to show the part of the page from the top of `first` to the bottom of `last`
 * (default: `first` alone), if any of it is outside the viewport; a part taller than the viewport
 * is shown from its top.
 */
export function bringIntoView(first, last = first) {
  const top = first.getBoundingClientRect().top;
  const bottom = last.getBoundingClientRect().bottom;
  if (top >= 0 && bottom <= window.innerHeight) return;
  const tall = bottom - top > window.innerHeight;
  const delta = top < 0 || tall ? top - 8 : bottom - window.innerHeight + 8;
  window.scrollBy({ top: delta, behavior: "instant" });
}

/** A new element `tag` with class and text: the page builds its DOM this way (never innerHTML). */
export function element(tag, { className, text, attributes } = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
  return node;
}
