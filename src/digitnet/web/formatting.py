"""How the explorer sends a network's numbers to the page (shared by every route module)."""

from __future__ import annotations

import numpy as np

DECIMALS = 6  # numbers sent to the page: float32 carries ~7 significant digits anyway


def squish(network, layer: int) -> str:
    """The squish of layer 1..L: the output's for the last layer, the hidden activation otherwise."""
    return network.output if layer == len(network.layer_sizes) - 1 else network.activation


def rounded(values: np.ndarray) -> list[float]:
    return np.round(values.astype(np.float64), DECIMALS).tolist()
