// Building the lab's DOM without innerHTML (the page's CSP allows no inline anything, and text from the
// server is never parsed as HTML).

/**
 * el("button", {type: "button", class: "x", dataset: {a: 1}, onclick: f}, "text", child, ...)
 * Attributes are set with setAttribute, `class` and `dataset` as named; on* keys become listeners;
 * children are nodes or strings (text nodes); null and false children are skipped.
 */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "dataset") Object.assign(element.dataset, value);
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "hidden") element.hidden = Boolean(value);
    else element.setAttribute(key === "className" ? "class" : key, value === true ? "" : String(value));
  }
  element.append(...children.filter((child) => child !== null && child !== false && child !== undefined));
  return element;
}

/** A <select> with these [value, label] options. */
export function selectOf(id, options, value) {
  const select = el("select", { id, name: id }, ...options.map(([v, label]) => el("option", { value: v }, label)));
  select.value = String(value);
  return select;
}

/** "in 3 min 20 s", "12 s", "1 h 05 min" */
export function duration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}
