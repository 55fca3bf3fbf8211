// The network's answer under the pad: what the network sees (the 28x28 input), the guess and how
// sure it is, what the trained network says when the page's network is edited, and the honest signal
// when the input is unlike any digit.

import { grayRgb } from "./palette.js";
import { fmt } from "./numbers.js";
import { gridSide, paintCells } from "./cells.js";

/** $: the page's element lookup. Show `prediction` (the API's answer, or null) for an input of n pixels. */
export function showAnswer($, prediction, source, n) {
  const guess = $("guess");
  paintSeen($("seen"), prediction ? prediction.input : null, n);
  guess.dataset.source = prediction ? source : "";
  showFamiliarity($("far-signal"), prediction ? prediction.familiarity : null);
  const original = prediction ? prediction.original_digit : null;
  $("lab-guess").hidden = original === undefined || original === null;
  if (!prediction) {
    guess.textContent = "–";
    $("confidence").textContent = "";
    return;
  }
  guess.textContent = String(prediction.digit);
  $("confidence").textContent = `${(100 * prediction.probabilities[prediction.digit]).toFixed(0)}% sure`;
  $("lab-guess").textContent = original === prediction.digit ? `The edited network; the trained one says ${original} too.`
    : `The edited network; the trained one says ${original}.`;
}

/** The input as the network sees it, one canvas pixel per input pixel (an input that is no square: one row). */
export function paintSeen(canvas, input, n) {
  const side = gridSide(n) || n;
  canvas.width = side;
  canvas.height = Math.ceil(n / side);
  paintCells(canvas.getContext("2d"), input || new Array(n).fill(0), canvas.width, canvas.height, grayRgb);
  canvas.setAttribute("aria-label", input ? `What the network sees: the ${canvas.width} by ${canvas.height} input` : "What the network sees: no input yet");
}

/**
 * The honest signal: a network always answers with a digit, even for an X. The server measures how far
 * the input is from the training digits (`familiarity`, or null when it does not); far, and the page says
 * that the answer means little.
 */
function showFamiliarity(signal, familiarity) {
  signal.dataset.far = familiarity ? String(familiarity.is_far) : "unknown";
  signal.hidden = !familiarity?.is_far;
  if (!familiarity?.is_far) return;
  signal.textContent = "This looks unlike any digit the network learned from: it is " +
    `${fmt(familiarity.score / familiarity.threshold, 1)}× as far from the nearest training digit as 98% of real digits are. ` +
    "A network always answers with a digit, so this answer means little.";
}
