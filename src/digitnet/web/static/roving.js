// One tab stop for a group of buttons (a grid of pictures): Tab enters at the last one used, arrow
// keys, Home and End move inside, Enter or Space presses.

/** Keep the buttons matching `selector` inside `container` to one tab stop; call again after re-rendering. */
export function rovingTabStops(container, selector = "button") {
  const buttons = () => [...container.querySelectorAll(selector)];
  const current = () => Math.max(0, buttons().findIndex((b) => b.tabIndex === 0));
  const focus = (k) => {
    const all = buttons();
    all.forEach((b, j) => { b.tabIndex = j === k ? 0 : -1; });
    all[k]?.focus();
  };
  buttons().forEach((b, j) => { b.tabIndex = j === 0 ? 0 : -1; });
  if (container.dataset.roving) return;
  container.dataset.roving = "true";
  container.addEventListener("keydown", (event) => {
    const all = buttons();
    if (!all.length) return;
    const top = all[0].getBoundingClientRect().top;
    const perRow = Math.max(1, all.filter((b) => Math.abs(b.getBoundingClientRect().top - top) < 2).length);
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: perRow, ArrowUp: -perRow, Home: -Infinity, End: Infinity };
    if (!(event.key in moves)) return;
    event.preventDefault();
    focus(Math.min(all.length - 1, Math.max(0, current() + moves[event.key])));
  });
  container.addEventListener("click", (event) => {
    const k = buttons().indexOf(event.target.closest(selector));
    if (k >= 0) buttons().forEach((b, j) => { b.tabIndex = j === k ? 0 : -1; });
  });
}
