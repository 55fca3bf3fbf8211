"""Pictures of a network: its weights, its training, its mistakes, one input's cascade, insights.

Every `plot_*` function draws one figure, writes it to `path` (PNG, SVG or PDF, chosen by the
file's suffix; written atomically) and returns the path as a `Path`. Figures are built as
`matplotlib.figure.Figure` objects, never through pyplot, so there is no global state and no window.

Colors follow the video: weights are green where positive, red where negative and black at zero,
on limits symmetric around zero; pixel brightness is grey from black (0.0) to white (1.0).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle
from matplotlib.ticker import MaxNLocator

from .errors import DigitnetError, printable
from .evaluation import Evaluation
from .files import check_writable, write_atomically
from .insight import dream, explain, noise_answers
from .network import Network

DPI = 100
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
# Inches (width, height) of each figure; times DPI gives the PNG's size in pixels.
FIGURE_SIZES = {
    "weights": (9.0, 9.6), "weight_matrix": (10.0, 6.0), "training": (11.0, 4.5), "confusion": (8.0, 7.0),
    "mistakes": (11.0, 8.0), "activations": (12.0, 6.5), "dream": (11.0, 5.8), "dream_one": (9.0, 4.5),
    "noise": (12.0, 6.0), "explain": (13.0, 4.2), "comparison": (13.0, 5.5),
}
GREEN, RED, GREY, INK = "#2fc45a", "#e5383b", "#9aa0a6", "#222222"
NIGHT, DIM = "#0b0d10", "#5f6670"  # the activations figure is drawn on black, like the video
WEIGHT_COLORS = LinearSegmentedColormap.from_list(
    "digitnet_weights", [(0.0, "#ff4d4d"), (0.25, "#a31f1f"), (0.5, "#000000"), (0.75, "#1f9e3f"), (1.0, "#5cff8a")])


# -- helpers -------------------------------------------------------------------------------------

def check_picture_target(path) -> Path:
    """Refuse, before anything is drawn, a picture path that cannot be written: no known format
    (.png, .svg, .pdf), a folder, a device, a folder that is missing, read-only or not enterable."""
    path = Path(path)
    check_writable(path, "picture")  # first: "a folder" says more than "no format"
    if FORMATS.get(path.suffix.lower()) is None:
        raise DigitnetError(f"{printable(path)}: cannot tell the picture format; end the name with {', '.join(FORMATS)}")
    return path


def save_figure(figure: Figure, path) -> Path:
    """Write `figure` to `path` in the format its suffix names (.png, .svg, .pdf), atomically."""
    path = check_picture_target(path)
    fmt = FORMATS[path.suffix.lower()]
    return write_atomically(path, lambda file: figure.savefig(
        file, format=fmt, dpi=DPI, metadata={"Date": None} if fmt == "svg" else None), what="picture")


def _figure(kind: str) -> Figure:
    return Figure(figsize=FIGURE_SIZES[kind], dpi=DPI, layout="constrained")


def _symmetric_limit(values: np.ndarray) -> float:
    """|largest| weight, so that zero sits at the colormap's black middle."""
    return float(np.abs(values).max()) or 1.0


def _show_image(ax, pixels, title: str | None = None, color=INK, fontsize=10):
    """A 784-pixel row as its 28x28 grey picture, no ticks."""
    side = math.isqrt(np.size(pixels))
    ax.imshow(np.asarray(pixels, dtype=float).reshape(side, side), cmap="gray", vmin=0.0, vmax=1.0)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, color=color, fontsize=fontsize)


def _output_bars(ax, outputs, highlight: int, xlabel="output activation"):
    """Horizontal bars for the 10 output neurons, digit 0 on top, `highlight` in green."""
    digits = np.arange(len(outputs))
    colors = [GREEN if d == highlight else GREY for d in digits]
    ax.barh(digits, outputs, color=colors, height=0.7)
    ax.set_yticks(digits)
    ax.set_ylim(len(outputs) - 0.5, -0.5)
    ax.set_xlim(0, 1.18)
    ax.set_xlabel(xlabel)
    for d, value in zip(digits, outputs):
        ax.text(value + 0.02, d, f"{value:.0%}" if value >= 0.005 else "", va="center", fontsize=8,
                color=INK, fontweight="bold" if d == highlight else "normal")
    ax.spines[["top", "right"]].set_visible(False)


def _check_inputs(network: Network, inputs) -> np.ndarray:
    """One image as `(784,)` float, from `(784,)` or `(1, 784)`."""
    image = np.asarray(inputs, dtype=float)
    if image.size != network.layer_sizes[0] or image.ndim > 2:
        raise DigitnetError(f"inputs of shape {image.shape}: need one image of {network.layer_sizes[0]} pixels")
    return image.reshape(-1)


def _layer_name(network: Network, l: int) -> str:
    """Layer l by the video's names: "input", "hidden layer 1", ..., "output"."""
    return "input" if l == 0 else "output" if l == len(network.layer_sizes) - 1 else f"hidden layer {l}"


# -- the network's weights and training ------------------------------------------------------------

def plot_weights(network: Network, path, layer: int = 0, max_neurons: int = 64) -> Path:
    """The weights into layer `layer`+1.

    layer 0: each neuron of the first hidden layer as its 28x28 weight picture (row i of weights[0]),
    titled with its bias; at most `max_neurons` of them. Deeper layers (or non-square inputs): the
    matrix weights[layer] `(n_out, n_in)` as a heatmap, with the biases beside it.
    """
    if not 0 <= layer < len(network.weights):
        raise DigitnetError(f"layer {layer}: this network has weight layers 0 to {len(network.weights) - 1}")
    weights, biases = network.weights[layer].astype(float), network.biases[layer].astype(float)
    side = math.isqrt(weights.shape[1])
    if side * side != weights.shape[1] or layer != 0:
        return _plot_weight_matrix(network, path, layer, weights, biases)
    shown = min(len(weights), max_neurons)
    columns = math.ceil(math.sqrt(shown))
    rows = math.ceil(shown / columns)
    limit = _symmetric_limit(weights[:shown])
    target = _layer_name(network, 1)
    figure = _figure("weights")
    axes = figure.subplots(rows, columns, squeeze=False)
    fontsize = 10 if columns <= 5 else 7
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < shown:
            image = ax.imshow(weights[i].reshape(side, side), cmap=WEIGHT_COLORS, vmin=-limit, vmax=limit)
            name = f"digit {i}" if target == "output" else f"neuron {i}" if columns <= 5 else f"{i}:"
            ax.set_title(f"{name}  bias {biases[i]:+.2f}", fontsize=fontsize)
    colorbar = figure.colorbar(image, ax=axes, location="bottom", shrink=0.6, aspect=40, pad=0.02)
    colorbar.set_label("weight from that pixel: green positive, red negative, black zero")
    more = f" (first {shown} of {len(weights)})" if shown < len(weights) else ""
    layer_words = "the output layer" if target == "output" else target
    figure.suptitle(f"What each neuron of {layer_words} looks for{more}\n"
                    "its 784 incoming weights, drawn where their pixels are", fontsize=14)
    return save_figure(figure, path)


def _plot_weight_matrix(network, path, layer, weights, biases) -> Path:
    figure = _figure("weight_matrix")
    matrix_ax, bias_ax = figure.subplots(1, 2, width_ratios=[max(weights.shape[1], 4), 1.5])
    limit = _symmetric_limit(np.concatenate([weights.ravel(), biases]))
    image = matrix_ax.imshow(weights, cmap=WEIGHT_COLORS, vmin=-limit, vmax=limit, aspect="auto")
    bias_ax.imshow(biases[:, np.newaxis], cmap=WEIGHT_COLORS, vmin=-limit, vmax=limit, aspect="auto")
    source, target = _layer_name(network, layer), _layer_name(network, layer + 1)
    n_out, n_in = weights.shape
    matrix_ax.set_xlabel(f"from neuron of {source} ({n_in})")
    matrix_ax.set_ylabel(f"into neuron of {target} ({n_out})")
    if n_in <= 32:
        matrix_ax.set_xticks(range(n_in), [str(i) for i in range(n_in)], fontsize=8)
    if n_out <= 32:
        labels = [str(i) for i in range(n_out)]
        matrix_ax.set_yticks(range(n_out), labels, fontsize=8)
        bias_ax.set_yticks(range(n_out), labels, fontsize=8)
    bias_ax.set_xticks([0], ["bias"])
    figure.colorbar(image, ax=[matrix_ax, bias_ax], label="weight (green positive, red negative)")
    figure.suptitle(f"Weights from {source} into {target}: row i holds the weights into neuron i", fontsize=13)
    return save_figure(figure, path)


def _history_column(history, name: str) -> np.ndarray:
    return np.array([record[name] if isinstance(record, dict) else getattr(record, name) for record in history],
                    dtype=float)


def plot_training(history, path) -> Path:
    """Cost and accuracy per epoch. history: EpochRecords or dicts with epoch, loss,
    train_accuracy, validation_accuracy (as in a model file's metadata["history"])."""
    if not history:
        raise DigitnetError("no training history to plot (the model file records none); train a model first")
    epochs = _history_column(history, "epoch")
    validation = _history_column(history, "validation_accuracy")
    figure = _figure("training")
    loss_ax, accuracy_ax = figure.subplots(1, 2)
    loss_ax.plot(epochs, _history_column(history, "loss"), "o-", color=RED, label="training cost")
    loss_ax.set(xlabel="epoch", ylabel="average cost", title="Cost: how wrong the outputs are")
    accuracy_ax.plot(epochs, 100 * _history_column(history, "train_accuracy"), "o-", color=GREY,
                     label="training images (during the epoch)")
    accuracy_ax.plot(epochs, 100 * validation, "o-", color=GREEN, label="validation images (held out)")
    best = int(np.argmax(validation))
    accuracy_ax.axvline(epochs[best], color=GREEN, linestyle=":", linewidth=1.2,
                        label=f"best: {validation[best]:.2%} at epoch {epochs[best]:.0f}")
    accuracy_ax.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy: share of right guesses")
    for ax in (loss_ax, accuracy_ax):
        ax.legend(loc="best")
        ax.grid(alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.suptitle("Learning, epoch by epoch", fontsize=14)
    return save_figure(figure, path)


def plot_confusion(evaluation_or_confusion, path) -> Path:
    """The confusion matrix `(10, 10)` (rows: true digit, columns: guess), every cell's count written in.
    Right answers (the diagonal) are green; mistakes are shaded red by how often they happen."""
    confusion = evaluation_or_confusion.confusion if isinstance(evaluation_or_confusion, Evaluation) \
        else np.asarray(evaluation_or_confusion)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise DigitnetError(f"confusion matrix of shape {confusion.shape}: need a square (10, 10) matrix")
    evaluation = Evaluation(confusion.astype(np.int64))
    n = len(confusion)
    diagonal = np.eye(n, dtype=bool)
    mistakes = np.where(diagonal, 0, confusion)
    figure = _figure("confusion")
    ax = figure.subplots()
    shade = mistakes / max(mistakes.max(), 1)  # 0..1 among the mistakes only
    colors = np.ones((n, n, 3))
    colors[~diagonal] = 1 - shade[~diagonal, np.newaxis] * (1 - np.array([0.90, 0.22, 0.23]))
    colors[diagonal] = [0.80, 0.95, 0.83]
    ax.imshow(colors)
    for true in range(n):
        for guess in range(n):
            count = confusion[true, guess]
            dark = not diagonal[true, guess] and shade[true, guess] > 0.55
            ax.text(guess, true, f"{count:,}" if count else "·", ha="center", va="center", fontsize=9,
                    color="white" if dark else INK, fontweight="bold" if true == guess else "normal")
        ax.text(n - 0.3, true, f"{evaluation.per_digit_accuracy[true]:.1%}", va="center", fontsize=9, color=INK)
    ax.text(n - 0.3, -0.75, "correct", fontsize=9, color=INK, fontweight="bold")
    ax.set_xticks(np.arange(-0.5, n), minor=True)
    ax.set_yticks(np.arange(-0.5, n), minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="minor", length=0)
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.xaxis.set_ticks_position("top")
    ax.xaxis.set_label_position("top")
    ax.set_xlim(-0.5, n + 0.6)
    ax.set_xlabel("the network's guess", labelpad=8)
    ax.set_ylabel("true digit")
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(f"Confusion matrix: {evaluation.accuracy:.2%} right on {evaluation.count:,} images "
                 f"(off the diagonal: mistakes)", fontsize=12, y=1.08)
    return save_figure(figure, path)


def plot_mistakes(network: Network, images, labels, path, count: int = 24) -> Path:
    """The `count` wrong answers the network was most sure of. images `(n, 784)`, labels `(n,)`."""
    if count < 1:
        raise DigitnetError(f"count {count}: show at least one mistake")
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 2 or images.shape[1] != network.layer_sizes[0] or labels.shape != (len(images),):
        raise DigitnetError(f"images {images.shape} and labels {labels.shape}: "
                            f"need (n, {network.layer_sizes[0]}) and (n,)")
    probabilities = network.predict_probabilities(images) if len(images) else np.zeros((0, 10))
    guesses = probabilities.argmax(axis=1)
    confidences = probabilities.max(axis=1)
    wrong = np.flatnonzero(guesses != labels)
    worst = wrong[np.argsort(-confidences[wrong], kind="stable")][:count]
    figure = _figure("mistakes")
    columns = min(math.ceil(math.sqrt(1.4 * max(len(worst), 1))), max(len(worst), 1))
    rows = max(math.ceil(len(worst) / columns), 1)
    axes = figure.subplots(rows, columns, squeeze=False)
    for ax, index in zip(axes.flat, list(worst) + [None] * (rows * columns - len(worst))):
        ax.set_axis_off()
        if index is not None:
            _show_image(ax, images[index], f"is {labels[index]}, said {guesses[index]}\n{confidences[index]:.0%} sure",
                        color=RED, fontsize=10)
    if not len(worst):
        axes[0, 0].text(0.5, 0.5, "no mistakes", ha="center", va="center", fontsize=20, transform=axes[0, 0].transAxes)
    figure.suptitle(f"The most confident mistakes: {len(wrong):,} wrong of {len(images):,} images "
                    f"({len(wrong) / max(len(images), 1):.2%})", fontsize=14)
    return save_figure(figure, path)


# -- one input's cascade -----------------------------------------------------------------------------

def plot_activations(network: Network, inputs, path) -> Path:
    """The cascade for one image `(784,)`, on black as in the video: the 28x28 input, each hidden
    layer's neurons lit by their activation, the output neurons with bars, the brightest (the guess)
    in green. Lines between layers show each weight's push, weight x activation: green up, red down,
    thicker is stronger. Layers of more than 32 neurons are drawn as a strip of cells."""
    image = _check_inputs(network, inputs)
    activations = [a[0].astype(float) for a in network.trace(image[np.newaxis]).activations]
    guess = int(activations[-1].argmax())
    figure = _figure("activations")
    figure.set_facecolor(NIGHT)
    ax = figure.subplots()
    ax.set_aspect("equal")
    ax.set_axis_off()
    height, gap, side = 10.0, 3.4, 4.2  # drawing units: the column height, layer spacing, picture size
    bottom = height / 2 - side / 2
    ax.imshow(image.reshape(28, 28), cmap="gray", vmin=0, vmax=1, extent=(0, side, bottom, bottom + side))
    ax.add_patch(Rectangle((0, bottom), side, side, fill=False, edgecolor=DIM))
    ax.text(side / 2, bottom - 0.4, f"input\n{image.size} pixels", ha="center", va="top", fontsize=10, color="white")
    positions = []  # per layer after the input: (x, y of each neuron, radius), or None if drawn as a strip
    for l, a in enumerate(activations[1:], start=1):
        x, n = side + gap * l, len(a)
        brightness = np.clip(a / max(a.max(), 1.0), 0, 1)  # relu may exceed 1
        is_output = l == len(activations) - 1
        if n <= 32:
            spacing = min(height / n, 0.85)
            ys = height / 2 + spacing * ((n - 1) / 2 - np.arange(n))  # (n,) top to bottom
            radius = spacing * 0.38
            for i, (y, value) in enumerate(zip(ys, brightness)):
                highlight = is_output and i == guess
                ax.add_patch(Circle((x, y), radius, facecolor=str(value), edgecolor=GREEN if highlight else DIM,
                                    linewidth=3 if highlight else 1, zorder=3))
            positions.append((x, ys, radius))
        else:
            ax.imshow(brightness[:, np.newaxis], cmap="gray", vmin=0, vmax=1, aspect="auto",
                      extent=(x - 0.25, x + 0.25, 0, height))
            positions.append(None)
        ax.text(x, -0.3, f"{_layer_name(network, l)}\n{n} neurons", ha="center", va="top", fontsize=10, color="white")
    if positions[0] is not None:  # the input's fan: 784 weights into each first-layer neuron, hinted at
        x, ys, radius = positions[0]
        starts = np.linspace(bottom, bottom + side, 6)
        ax.add_collection(LineCollection([[(side, s), (x - radius, y)] for y in ys for s in starts],
                                         colors=DIM, linewidths=0.4, alpha=0.5, zorder=1))
    for l in range(1, len(network.weights)):
        if positions[l - 1] is None or positions[l] is None:
            continue
        (x0, ys0, r0), (x1, ys1, r1) = positions[l - 1], positions[l]
        push = network.weights[l].astype(float) * activations[l][np.newaxis, :]  # (n_out, n_in): w_ji a_i
        strength = (np.abs(push) / (np.abs(push).max() or 1.0)).ravel()
        targets, sources = np.divmod(np.arange(push.size), push.shape[1])
        segments = np.stack([np.column_stack([np.full(push.size, x0 + r0), ys0[sources]]),
                             np.column_stack([np.full(push.size, x1 - r1), ys1[targets]])], axis=1)
        colors = np.where((push.ravel() > 0)[:, np.newaxis], [0.18, 0.77, 0.35], [0.90, 0.22, 0.23])
        ax.add_collection(LineCollection(segments, colors=np.column_stack([colors, 0.08 + 0.85 * strength]),
                                         linewidths=0.3 + 2.5 * strength, zorder=2))
    output_x = side + gap * (len(activations) - 1)
    if positions[-1] is not None:  # bars beside the output neurons
        _, ys, radius = positions[-1]
        for d, (y, value) in enumerate(zip(ys, activations[-1])):
            color = GREEN if d == guess else DIM
            ax.text(output_x + radius + 0.25, y, str(d), va="center", fontsize=12, color="white",
                    fontweight="bold" if d == guess else "normal")
            ax.add_patch(Rectangle((output_x + radius + 0.8, y - 0.22), 3.0 * value, 0.44, color=color))
            ax.text(output_x + radius + 0.9 + 3.0 * value, y, f"{value:.0%}", va="center", fontsize=8, color=GREY)
    ax.set_aspect("equal")  # again: a wide layer's strip (imshow, aspect="auto") would have unset it
    ax.set_xlim(-0.2, output_x + 5.2)
    ax.set_ylim(-1.6, height + 0.2)
    confidence = network.predict_probabilities(image[np.newaxis])[0, guess]
    figure.suptitle(f"The network says {guess} ({confidence:.0%} sure)", fontsize=16, color="white")
    ax.set_title("brightness = activation;   lines = weight x activation: green pushes up, red pushes down, "
                 "thicker is stronger", fontsize=9, color=GREY)
    return save_figure(figure, path)


# -- insights --------------------------------------------------------------------------------------

def plot_dream(network: Network, path, digits=tuple(range(10)), steps: int = 300, learning_rate: float = 0.05,
               penalty: float = 0.01, seed: int = 0) -> Path:
    """What the network thinks each of `digits` looks like (insight.dream), with its outputs for it.
    One digit: the dream large beside its output bars; several: a row of dreams over their outputs."""
    digits = [int(d) for d in np.atleast_1d(digits)]
    if not digits:
        raise DigitnetError("dream: name at least one digit to dream of")
    dreams = np.array([dream(network, d, steps, learning_rate, penalty, seed) for d in digits])  # (k, 784)
    outputs = network.feedforward(dreams).astype(float)  # (k, 10)
    probabilities = network.predict_probabilities(dreams).astype(float)
    if len(digits) == 1:
        figure = _figure("dream_one")
        image_ax, bars_ax = figure.subplots(1, 2)
        _show_image(image_ax, dreams[0], f"the network's dream of a {digits[0]}", fontsize=12)
        _output_bars(bars_ax, outputs[0], digits[0])
        bars_ax.set_title(f"its outputs: {probabilities[0, digits[0]]:.1%} sure it is a {digits[0]}", fontsize=12)
    else:
        figure = _figure("dream")
        columns = min(len(digits), 5)
        axes = figure.subplots(math.ceil(len(digits) / columns), columns, squeeze=False)
        for ax in axes.flat[len(digits):]:
            ax.set_axis_off()
        for ax, k, d in zip(axes.flat, range(len(digits)), digits):
            answer = int(outputs[k].argmax())
            _show_image(ax, dreams[k], f"dream of {d}: {probabilities[k, d]:.1%} sure" if answer == d else
                        f"dream of {d}: says {answer}", color=GREEN if answer == d else RED, fontsize=12)
    figure.suptitle("What the network wants to see: pixels climbed by gradient ascent to light one output neuron\n"
                    "(it is sure, yet these are not digits: it learned to separate digits, not to draw them)",
                    fontsize=12)
    return save_figure(figure, path)


def plot_noise(network: Network, path, count: int = 8, seed: int = 0, samples: int = 1000) -> Path:
    """Random-noise images and the network's answers (insight.noise_answers): the first `count`
    pictured, and how `samples` noise images spread over the ten digits."""
    if not 1 <= count <= 16:
        raise DigitnetError(f"count {count}: show between 1 and 16 noise images")
    answers = noise_answers(network, max(count, samples), seed)
    figure = _figure("noise")
    grid = figure.add_gridspec(2, count, height_ratios=[1, 1.1])
    for k in range(count):
        ax = figure.add_subplot(grid[0, k])
        _show_image(ax, answers.images[k], f"says {answers.digits[k]}\n{answers.confidences[k]:.0%} sure", fontsize=11)
    ax = figure.add_subplot(grid[1, :])
    counts = np.bincount(answers.digits, minlength=10)
    ax.bar(range(10), counts, color=[GREEN if c == counts.max() else GREY for c in counts])
    for d, c in enumerate(counts):
        ax.text(d, c, f"{c:,}", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(range(10))
    ax.set(xlabel="the network's answer", ylabel="noise images")
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"Its answers for {len(answers.digits):,} noise images (median confidence "
                 f"{np.median(answers.confidences):.0%}): there is no output for \"not a digit\"", fontsize=11)
    figure.suptitle("Random noise goes in, a digit always comes out", fontsize=14)
    return save_figure(figure, path)


def plot_explain(network: Network, inputs, path, digit: int | None = None) -> Path:
    """Why the network answered as it did for one image `(784,)`: the gradient x input map
    (insight.explain) for `digit` (default: its guess), the same map for "`digit` rather than
    the strongest other output" (the difference of the two digits' maps), and the outputs."""
    image = _check_inputs(network, inputs)
    outputs = network.feedforward(image[np.newaxis])[0].astype(float)
    guess = int(outputs.argmax())
    digit = guess if digit is None else int(digit)
    rival = int(next(d for d in np.argsort(-outputs) if d != digit))
    evidence = explain(network, image, digit)
    maps = [evidence, evidence - explain(network, image, rival)]
    limit = _symmetric_limit(np.array(maps))
    figure = _figure("explain")
    axes = figure.subplots(1, 4, width_ratios=[1, 1, 1, 1.1])
    _show_image(axes[0], image, "the input", fontsize=12)
    titles = [f"evidence for {digit}" + (" (its answer)" if digit == guess else ""),
              f"{digit} rather than {rival} (runner-up)" if digit == guess else f"{digit} rather than {rival}"]
    for ax, title, saliency in zip(axes[1:3], titles, maps):
        shown = ax.imshow(saliency.reshape(28, 28), cmap=WEIGHT_COLORS, vmin=-limit, vmax=limit)
        ax.contour(image.reshape(28, 28), levels=[0.5], colors="white", linewidths=0.6, alpha=0.4)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=12)
    figure.colorbar(shown, ax=axes[1:3], location="bottom", shrink=0.7,
                    label="pixel x gradient of the weighted sum: green pushed it up, red pushed it down")
    _output_bars(axes[3], outputs, guess)
    axes[3].set_title(f"the outputs: it says {guess}", fontsize=12)
    figure.suptitle(f"Why {digit}? Which inked pixels raised (green) or lowered (red) output neuron {digit}",
                    fontsize=13)
    return save_figure(figure, path)


def plot_comparison(rows, path) -> Path:
    """Validation accuracy per epoch of each compared structure (compare.ComparisonRow), and a table
    of test accuracy, weights-and-biases count and training time."""
    if not rows:
        raise DigitnetError("nothing to plot: the comparison has no rows")
    figure = _figure("comparison")
    curves_ax, table_ax = figure.subplots(1, 2, width_ratios=[1.15, 1])
    colors = []
    for row in rows:
        curve = 100 * np.asarray(row.validation_curve, dtype=float)
        (line,) = curves_ax.plot(np.arange(1, len(curve) + 1), curve, "o-", label=row.name, markersize=4)
        colors.append(line.get_color())
    curves_ax.set(xlabel="epoch", ylabel="validation accuracy (%)",
                  title="Validation accuracy while learning (colors as in the table)")
    curves_ax.grid(alpha=0.3)
    curves_ax.spines[["top", "right"]].set_visible(False)
    curves_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    table_ax.set_axis_off()
    best = max(row.test_accuracy for row in rows)
    height = min(0.9, 0.1 * (len(rows) + 1.5))  # of the table, in axes fractions: ~0.1 per line
    cells = [[row.name, f"{row.parameter_count:,}", f"{row.test_accuracy:.2%}", f"{row.training_seconds:.1f} s"]
             for row in rows]
    labels = ["structure", "weights\n& biases", "test\naccuracy", "training\ntime"]
    table = table_ax.table(cellText=cells, colLabels=labels, cellLoc="right", colWidths=[0.46, 0.2, 0.18, 0.16],
                           bbox=[0, 0.93 - height, 1, height])
    table.auto_set_font_size(False)
    table.set_fontsize(10)
    for (r, c), cell in table.get_celld().items():
        cell.set_edgecolor("#dddddd")
        if c == 0:
            cell.set_text_props(ha="left")
            cell.PAD = 0.03
        if r == 0:
            cell.set_text_props(fontweight="bold")
        else:
            if c == 0:
                cell.set_text_props(color=colors[r - 1], fontweight="bold")
            if rows[r - 1].test_accuracy == best:
                cell.set_facecolor("#dcf5e3")
    table_ax.set_title("Measured on the test images", fontsize=12)
    figure.suptitle("Same data, same seed, same training: which network structure learns best?", fontsize=14)
    return save_figure(figure, path)
