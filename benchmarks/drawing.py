"""Strokes like a person's drawing of a digit on the explorer's 280x280 pad, for the load test and
the server's robustness tests (one home, so the two draw the same way)."""

from __future__ import annotations

import random


def digit_like_strokes(rng: random.Random) -> list[list[tuple[float, float]]]:
    """One to three strokes of 4-9 points in the pad's middle, roughly where people draw digits."""
    strokes = []
    for _ in range(rng.randint(1, 3)):
        x, y = rng.uniform(80, 200), rng.uniform(50, 120)
        stroke = [(x, y)]
        for _ in range(rng.randint(3, 8)):
            x = min(240.0, max(40.0, x + rng.uniform(-50, 50)))
            y = min(250.0, max(30.0, y + rng.uniform(-10, 45)))
            stroke.append((x, y))
        strokes.append(stroke)
    return strokes
