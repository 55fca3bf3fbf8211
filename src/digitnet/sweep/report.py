"""What a sweep found: runs grouped into points (the same settings, different seeds), each point's
mean and spread, the Pareto front of accuracy against size, and the plain-text table.

Spread is the sample standard deviation over a point's seeds (0 with one seed): how much of a
difference between two points is just the luck of the initial weights and the shuffling.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from ..training import TrainingSettings

# A run's point leaves out the settings that were off (TrainingSettings.to_dict: distortion, label
# smoothing, deskewing), so points of one sweep may differ in their keys: a missing one is its default.
SETTING_DEFAULTS = {key: value for key, value in TrainingSettings().__dict__.items()}
VIDEO_LAYER_SIZES = (784, 16, 16, 10)  # the video's network, marked in the pictures
SETTING_LABELS = {"hidden_layers": "structure", "activation": "squish", "output": "output",
                  "learning_rate": "learning rate", "batch_size": "batch", "weight_decay": "weight decay",
                  "shift_pixels": "shift", "train_images": "images", "data_folder": "data"}


@dataclass
class Point:
    """One point of a sweep: every run with these settings (point: Run.point()), one per seed."""

    point: dict
    layer_sizes: tuple[int, ...]
    parameter_count: int
    seeds: list[int] = field(default_factory=list)
    test_accuracies: list[float] = field(default_factory=list)
    validation_accuracies: list[float] = field(default_factory=list)
    training_seconds: list[float] = field(default_factory=list)
    validation_curves: list[list[float]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    model_files: list[str | None] = field(default_factory=list)

    @property
    def test_mean(self) -> float:
        return float(np.mean(self.test_accuracies))

    @property
    def test_spread(self) -> float:
        return spread(self.test_accuracies)

    @property
    def validation_mean(self) -> float:
        return float(np.mean(self.validation_accuracies))

    @property
    def validation_spread(self) -> float:
        return spread(self.validation_accuracies)

    @property
    def seconds_mean(self) -> float:
        return float(np.mean(self.training_seconds))

    def setting(self, key: str):
        """The point's value of `key`, or the setting's default where the point leaves it out."""
        return self.point.get(key, SETTING_DEFAULTS.get(key))

    @property
    def is_video_network(self) -> bool:
        return self.layer_sizes == VIDEO_LAYER_SIZES and self.point["activation"] == "sigmoid"

    def label(self, swept: tuple[str, ...] = ()) -> str:
        """The structure, then each swept setting other than the structure: "784-16-16-10 relu lr=0.01"."""
        parts = ["-".join(str(n) for n in self.layer_sizes)]
        for key in swept:
            if key != "hidden_layers":
                parts.append(f"{SETTING_LABELS.get(key, key)}={format_value(self.setting(key))}")
        return " ".join(parts)


def spread(values) -> float:
    """Sample standard deviation; 0 for a single value."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def format_value(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "-".join(str(n) for n in value) or "none"
    return str(value)


def group_points(rows: list[dict]) -> list[Point]:
    """Rows of ResultsDatabase.rows() grouped by point, best mean test accuracy first."""
    points: dict[str, Point] = {}
    for row in rows:
        run = row["run"]
        point = run.point()
        name = json.dumps(point, sort_keys=True)
        if name not in points:
            points[name] = Point(point, tuple(row["layer_sizes"]), row["parameter_count"])
        p = points[name]
        p.seeds.append(row["seed"])
        p.test_accuracies.append(row["test_accuracy"])
        p.validation_accuracies.append(row["validation_accuracy"])
        p.training_seconds.append(row["training_seconds"])
        p.validation_curves.append(row["validation_curve"])
        p.keys.append(row["key"])
        p.model_files.append(row["model_file"])
    return sorted(points.values(), key=lambda p: (-p.test_mean, p.parameter_count))


def swept_settings(points: list[Point]) -> tuple[str, ...]:
    """The settings that take more than one value across the points, in Run.point()'s order."""
    if not points:
        return ()
    keys = list(dict.fromkeys(key for p in points for key in p.point))  # every point's keys, in order
    return tuple(key for key in keys if len({json.dumps(p.setting(key)) for p in points}) > 1)


def pareto_front(points: list[Point]) -> list[Point]:
    """The points no other point beats on both counts (fewer weights and biases, higher mean test
    accuracy), smallest first: the best accuracy to be had for each size."""
    front, best = [], -math.inf
    for p in sorted(points, key=lambda p: (p.parameter_count, -p.test_mean)):
        if p.test_mean > best:
            front.append(p)
            best = p.test_mean
    return front


def report_table(points: list[Point], limit: int | None = None) -> str:
    """The points as a table, best first: mean ± spread over seeds; P marks the Pareto front."""
    swept = swept_settings(points)
    front = {id(p) for p in pareto_front(points)}
    labels = [p.label(swept) for p in points]
    width = max([len("point"), *(len(label) for label in labels)])
    header = (f"  {'point':<{width}} {'weights+biases':>14} {'seeds':>5} {'test accuracy':>16} "
              f"{'validation':>16} {'time':>7}")
    lines = [header, "  " + "-" * (len(header) - 2)]
    shown = points if limit is None else points[:limit]
    for p, label in zip(shown, labels):
        mark = "P" if id(p) in front else " "
        video = "  <- the video's" if p.is_video_network else ""
        lines.append(f"{mark} {label:<{width}} {p.parameter_count:>14,} {len(p.seeds):>5} "
                     f"{_mean_spread(p.test_mean, p.test_spread):>16} "
                     f"{_mean_spread(p.validation_mean, p.validation_spread):>16} {p.seconds_mean:>6.1f}s{video}")
    if limit is not None and len(points) > limit:
        lines.append(f"  ... and {len(points) - limit} more points")
    return "\n".join(lines)


def _mean_spread(mean: float, spread_value: float) -> str:
    return f"{100 * mean:.2f} ± {100 * spread_value:.2f}%"
