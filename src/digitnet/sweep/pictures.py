"""The pictures of a sweep report, each a figure written by plots.save_figure (PNG, SVG or PDF):

    accuracy_vs_size    test accuracy against weights and biases (log scale), one dot per point with
                        its spread over seeds, the Pareto front, and the video's 784-16-16-10 marked
    accuracy_vs_setting test accuracy against each swept setting, one panel per setting
    best_curves         validation accuracy per epoch of the best few points (mean over seeds, band: spread)
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..errors import DigitnetError
from ..plots import DPI, GREEN, INK, RED, save_figure
from .report import SETTING_LABELS, Point, format_value, pareto_front, swept_settings

ACTIVATION_COLORS = {"sigmoid": "#3b7dd8", "relu": "#e07b39", "tanh": "#8e5bd1"}
PICTURES = ("accuracy_vs_size", "accuracy_vs_setting", "best_curves")
VIDEO_PARAMETERS = 13_002


def _check(points: list[Point]) -> None:
    if not points:
        raise DigitnetError("nothing to draw: the sweep database holds no finished runs yet")


def plot_accuracy_vs_size(points: list[Point], path) -> Path:
    _check(points)
    figure = Figure(figsize=(10, 6), dpi=DPI, layout="constrained")
    ax = figure.subplots()
    for activation, color in ACTIVATION_COLORS.items():
        mine = [p for p in points if p.point["activation"] == activation]
        if mine:
            ax.errorbar([p.parameter_count for p in mine], [100 * p.test_mean for p in mine],
                        yerr=[100 * p.test_spread for p in mine], fmt="o", color=color, alpha=0.75,
                        markersize=5, capsize=2, linewidth=1, label=f"{activation} hidden layers")
    front = pareto_front(points)
    ax.plot([p.parameter_count for p in front], [100 * p.test_mean for p in front], "-", color=GREEN,
            linewidth=2, zorder=1, drawstyle="steps-post", label="Pareto front: the best accuracy for its size")
    for p in front[-4:]:
        ax.annotate("-".join(str(n) for n in p.layer_sizes[1:-1]) or "no hidden", (p.parameter_count, 100 * p.test_mean),
                    textcoords="offset points", xytext=(4, -12), fontsize=8, color=INK)
    video = [p for p in points if p.is_video_network]
    if video:
        best = max(video, key=lambda p: p.test_mean)
        ax.plot([best.parameter_count], [100 * best.test_mean], "*", color=RED, markersize=18, zorder=5,
                label="the video's 784-16-16-10 (sigmoid)")
    else:
        ax.axvline(VIDEO_PARAMETERS, color=RED, linestyle="--", linewidth=1,
                   label="size of the video's 784-16-16-10 (13,002)")
    ax.set_xscale("log")
    ax.set(xlabel="weights and biases (log scale)", ylabel="test accuracy (%)",
           title="What size buys: test accuracy against the number of weights and biases "
                 "(mean ± spread over seeds)")
    ax.grid(alpha=0.3, which="both")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="lower right", fontsize=9)
    return save_figure(figure, path)


def _setting_of(p: Point, key: str) -> str:
    if key == "depth":  # hidden layers, a setting of its own when the structures vary
        return str(len(p.layer_sizes) - 2)
    return format_value(p.setting(key))


def plot_accuracy_vs_setting(points: list[Point], path) -> Path:
    """One panel per swept setting (the structures as their depth: sizes are the other picture's)."""
    _check(points)
    swept = ["depth" if key == "hidden_layers" else key for key in swept_settings(points)]
    if "depth" in swept and len({_setting_of(p, "depth") for p in points}) == 1:
        swept.remove("depth")
    swept = swept or ["depth"]
    columns = min(3, len(swept))
    rows = math.ceil(len(swept) / columns)
    figure = Figure(figsize=(max(4.6 * columns, 7.5), 3.8 * rows + 0.6), dpi=DPI, layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False).ravel())
    for ax, key in zip(axes, swept):
        values = sorted({_setting_of(p, key) for p in points}, key=lambda v: (_number(v) is None, _number(v) or 0, v))
        numeric = all(_number(v) is not None for v in values) and key != "depth"
        positions = {v: i for i, v in enumerate(values)}
        for activation, color in ACTIVATION_COLORS.items():
            mine = [p for p in points if p.point["activation"] == activation]
            if not mine:
                continue
            xs = [_number(_setting_of(p, key)) if numeric else positions[_setting_of(p, key)] for p in mine]
            ax.errorbar(xs, [100 * p.test_mean for p in mine], yerr=[100 * p.test_spread for p in mine], fmt="o",
                        color=color, alpha=0.6, markersize=4, capsize=2, linewidth=1, label=activation)
        best_per_value = [max(100 * p.test_mean for p in points if _setting_of(p, key) == v) for v in values]
        xs = [_number(v) for v in values] if numeric else list(range(len(values)))
        ax.plot(xs, best_per_value, "-", color=INK, linewidth=1, alpha=0.6, label="best at each value")
        if numeric and min(xs) > 0 and max(xs) / min(xs) >= 20:
            ax.set_xscale("log")
        if not numeric:
            many = len(values) > 4
            ax.set_xticks(range(len(values)), values, rotation=30 if many else 0, ha="right" if many else "center",
                          fontsize=8)
            ax.set_xlim(-0.5, len(values) - 0.5)
        label = "hidden layers" if key == "depth" else SETTING_LABELS.get(key, key).replace("_", " ")
        ax.set(xlabel=label, ylabel="test accuracy (%)")
        ax.grid(alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in axes[len(swept):]:
        ax.set_axis_off()
    axes[0].legend(fontsize=8, loc="lower right")
    figure.suptitle("Test accuracy against each swept setting (each dot a point: mean ± spread over seeds)",
                    fontsize=11)
    return save_figure(figure, path)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def plot_best_curves(points: list[Point], path, count: int = 5) -> Path:
    _check(points)
    swept = swept_settings(points)
    figure = Figure(figsize=(10, 5.5), dpi=DPI, layout="constrained")
    ax = figure.subplots()
    for p in points[:count]:
        length = min(len(curve) for curve in p.validation_curves)
        curves = 100 * np.array([curve[:length] for curve in p.validation_curves], dtype=float)
        epochs = np.arange(1, length + 1)
        mean = curves.mean(axis=0)
        (line,) = ax.plot(epochs, mean, "o-", markersize=4,
                          label=f"{p.label(swept)}: {100 * p.test_mean:.2f}% test ({len(p.seeds)} seeds)")
        if len(curves) > 1:
            low, high = curves.min(axis=0), curves.max(axis=0)
            ax.fill_between(epochs, low, high, color=line.get_color(), alpha=0.15, linewidth=0)
    ax.set(xlabel="epoch", ylabel="validation accuracy (%)",
           title=f"Validation accuracy while learning: the best {min(count, len(points))} points "
                 "(line: mean over seeds; band: lowest to highest seed)")
    longest = max(len(curve) for p in points[:count] for curve in p.validation_curves)
    ax.set_xlim(0.5, longest + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, loc="lower right")
    return save_figure(figure, path)


def draw_report(points: list[Point], folder: str | Path, suffix: str = ".png") -> list[Path]:
    """All three pictures into `folder` (made if missing), named as PICTURES; returns their paths."""
    folder = Path(folder)
    _check(points)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DigitnetError(f"{folder}: cannot make the pictures folder ({error.strerror})") from None
    return [plot_accuracy_vs_size(points, folder / f"accuracy_vs_size{suffix}"),
            plot_accuracy_vs_setting(points, folder / f"accuracy_vs_setting{suffix}"),
            plot_best_curves(points, folder / f"best_curves{suffix}")]
