"""How the explorer sends a network's numbers to the page (shared by every route module)."""

from __future__ import annotations

import numpy as np

DECIMALS = 6  # numbers sent to the page: float32 carries ~7 significant digits anyway


def squish(network, layer: int) -> str:
    """The squish of layer 1..L: the output's for the last layer, the hidden activation otherwise."""
    return network.output if layer == len(network.layer_sizes) - 1 else network.activation


def rounded(values: np.ndarray) -> list[float]:
    return np.round(values.astype(np.float64), DECIMALS).tolist()


def finite_trace(network, inputs: np.ndarray, name: str):
    """`network.trace(inputs)` and its probabilities `(batch, 10)`, refused with DigitnetError (a 422)
    when a weighted sum overflows: finite but huge weights would otherwise give inf and NaN, and an
    answer that is not JSON (or null where the schema promises a number)."""
    from ..errors import DigitnetError

    with np.errstate(over="ignore", invalid="ignore"):
        trace = network.trace(inputs)
    if not all(np.isfinite(z).all() for z in trace.weighted_sums):
        raise DigitnetError(f"{name}: a weighted sum overflows for this input (the model's weights are too large "
                            "to compute with); try another model")
    probabilities = network.predict_probabilities(inputs)  # rows summing to 1 even when sigmoids round to 0
    return trace, probabilities
