"""Rich display in Jupyter: what a notebook shows for a Network, an Evaluation and a Trace.

`Network`, `Evaluation` and `Trace` have `_repr_html_` and `_repr_png_` methods that call these:
    network     its structure layer by layer, and its first-layer weight pictures (plots.plot_weights)
    evaluation  its accuracy, per digit, and the confusion matrix (plots.plot_confusion)
    trace       the cascade for its first image: the input, every layer's activations lit up
Pictures are drawn on `matplotlib.figure.Figure` objects (never pyplot), so displaying leaves no
figure, window or global state behind.
"""

from __future__ import annotations

import base64
import html
import io
import math
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .evaluation import Evaluation
from .network import Network, Trace

PNG_DPI = 72  # notebook pictures: smaller files than the CLI's 100 dpi, still sharp on screen
STYLE = ("font-family: system-ui, sans-serif; border-collapse: collapse; font-size: 13px;")
CELL = "padding: 2px 10px; text-align: right; border-bottom: 1px solid #ddd;"


def _png_of(plot, *args, **kwargs) -> bytes:
    """The PNG a `plots.plot_*` function writes, as bytes (it writes files; here into a temp folder)."""
    with tempfile.TemporaryDirectory(prefix="digitnet-display-") as folder:
        path = plot(*args, path=Path(folder) / "picture.png", **kwargs)
        return path.read_bytes()


def _img(png: bytes, alt: str, width: int | None = None) -> str:
    size = f' width="{width}"' if width else ""
    return (f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}" alt="{html.escape(alt)}"{size}>')


def _figure_png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PNG_DPI)
    return buffer.getvalue()


# -- Network -----------------------------------------------------------------------------------------

def network_table_html(network: Network) -> str:
    """The structure as an HTML table: each layer's neurons, squish, weights and biases."""
    rows = [("input", network.layer_sizes[0], "-", "-", "-")]
    for l, (w, b) in enumerate(zip(network.weights, network.biases)):
        last = l == len(network.weights) - 1
        rows.append(("output" if last else f"hidden {l + 1}", w.shape[0], network.output if last else network.activation,
                     f"{w.size:,} ({w.shape[0]}x{w.shape[1]})", f"{b.size:,}"))
    header = "".join(f'<th style="{CELL}">{name}</th>' for name in ("layer", "neurons", "squish", "weights W", "biases b"))
    body = "".join("<tr>" + "".join(f'<td style="{CELL}">{html.escape(str(value))}</td>' for value in row) + "</tr>"
                   for row in rows)
    total = f'<tr><td style="{CELL}" colspan="5">total: {network.parameter_count:,} weights and biases</td></tr>'
    return f'<table style="{STYLE}"><tr>{header}</tr>{body}{total}</table>'


def network_png(network: Network) -> bytes:
    """The first layer's weights as pictures (or, for inputs that are not square, as a matrix)."""
    from .plots import plot_weights
    return _png_of(plot_weights, network, max_neurons=32)


def network_html(network: Network) -> str:
    return (f'<div><b>Network {html.escape(network.describe())}</b>{network_table_html(network)}'
            f'{_img(network_png(network), "the first layer weights as pictures", width=540)}</div>')


# -- Evaluation --------------------------------------------------------------------------------------

def evaluation_png(evaluation: Evaluation) -> bytes:
    from .plots import plot_confusion
    return _png_of(plot_confusion, evaluation)


def evaluation_html(evaluation: Evaluation) -> str:
    """Accuracy, then the confusion matrix as a table: right answers green, mistakes shaded red."""
    confusion = evaluation.confusion
    n = len(confusion)
    worst = max(int((confusion - np.diag(np.diag(confusion))).max()), 1)
    header = f'<th style="{CELL}">true \\ guess</th>' + "".join(f'<th style="{CELL}">{g}</th>' for g in range(n)) \
        + f'<th style="{CELL}">correct</th>'
    rows = []
    for true in range(n):
        cells = []
        for guess in range(n):
            count = int(confusion[true, guess])
            shade = "#cdf2d4" if true == guess else f"rgba(229, 56, 59, {0.75 * count / worst:.2f})"
            cells.append(f'<td style="{CELL} background: {shade};">{count:,}</td>')
        rows.append(f'<tr><th style="{CELL}">{true}</th>{"".join(cells)}'
                    f'<td style="{CELL}">{evaluation.per_digit_accuracy[true]:.1%}</td></tr>')
    return (f"<div><b>accuracy {evaluation.accuracy:.2%}</b> ({evaluation.correct:,} of {evaluation.count:,} "
            f'images)<table style="{STYLE}"><tr>{header}</tr>{"".join(rows)}</table></div>')


# -- Trace -------------------------------------------------------------------------------------------

def trace_png(trace: Trace) -> bytes:
    """The cascade for the trace's first image: the input (as 28x28 if square) and each layer's
    activations as a column of cells, bright where the neuron is lit, the output's brightest marked."""
    activations = [np.asarray(a[0], dtype=float) for a in trace.activations]
    figure = Figure(figsize=(2.2 + 1.1 * (len(activations) - 1), 3.6), dpi=PNG_DPI, layout="constrained")
    axes = figure.subplots(1, len(activations), width_ratios=[2.2] + [1.1] * (len(activations) - 1))
    side = math.isqrt(activations[0].size)
    image = activations[0].reshape(side, side) if side * side == activations[0].size else activations[0][:, None]
    axes[0].imshow(image, cmap="gray", vmin=0, vmax=1, aspect="equal" if image.shape[1] > 1 else "auto")
    axes[0].set_title(f"input\n{activations[0].size} values", fontsize=9)
    axes[0].set_yticks([])
    for l, (ax, a) in enumerate(zip(axes[1:], activations[1:]), start=1):
        last = l == len(activations) - 1
        ax.imshow(a[:, None], cmap="gray", vmin=0, vmax=max(1.0, float(a.max())), aspect="auto")
        if len(a) <= 32:
            ax.set_yticks(range(len(a)), [str(i) for i in range(len(a))], fontsize=7)
        if last:
            guess = int(a.argmax())
            ax.add_patch(_guess_marker(guess))
            ax.set_title(f"output\nguess {guess}", fontsize=9)
        else:
            ax.set_title(f"hidden {l}\n{len(a)} neurons", fontsize=9)
    for ax in axes:
        ax.set_xticks([])
    return _figure_png(figure)


def _guess_marker(guess: int):
    from matplotlib.patches import Rectangle
    return Rectangle((-0.5, guess - 0.5), 1, 1, fill=False, edgecolor="#2fc45a", linewidth=2.5)


def trace_html(trace: Trace) -> str:
    """The picture, and every layer's activations for the first image as numbers."""
    activations = [np.asarray(a[0], dtype=float) for a in trace.activations]
    rows = []
    for l, a in enumerate(activations[1:], start=1):
        name = "output" if l == len(activations) - 1 else f"hidden {l}"
        shown = ", ".join(f"{v:.2f}" for v in a[:32]) + (", ..." if len(a) > 32 else "")
        rows.append(f'<tr><th style="{CELL}">{name}</th><td style="{CELL} text-align: left;">{shown}</td></tr>')
    batch = len(trace.activations[0])
    note = f" (the first of {batch} images)" if batch > 1 else ""
    return (f"<div><b>Trace: the cascade{note}</b>{_img(trace_png(trace), 'activations layer by layer')}"
            f'<table style="{STYLE}">{"".join(rows)}</table></div>')
