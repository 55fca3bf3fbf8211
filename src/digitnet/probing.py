"""What does a neuron respond to? The images that excite it most and least, and their average.

The video hopes the first hidden layer finds edges and the second loops; chapter 2 admits the
trained network mostly does not. This lets a learner check for any neuron: run every test image
through the network, rank the images by the neuron's weighted sum z, and look at the top and the
bottom. The average of the top images is the picture "this neuron likes" as the data shows it
(the weights' picture says the same thing as the network sees it).

Ranking is by z, not by the activation a: every squish is increasing, so the order is the same,
but a sigmoid in float32 saturates to exactly 1.0 for z above ~9 and would turn the top into ties.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import DigitnetError
from .network import Network


@dataclass(frozen=True)
class NeuronProbe:
    """One neuron of `layer` (1..last) seen through a set of n images.

    weighted_sums, activations: (n,) its z and a for every image
    most_exciting:  (count,) image indices, largest z first (ties: lower index first)
    least_exciting: (count,) image indices, smallest z first (ties: lower index first)
    top:            (average_of,) the indices of the `average_of` largest z, largest first
    average_of_top: (n_inputs,) the mean of those images, float64
    """

    layer: int
    neuron: int
    weighted_sums: np.ndarray
    activations: np.ndarray
    most_exciting: np.ndarray
    least_exciting: np.ndarray
    top: np.ndarray
    average_of_top: np.ndarray


def layer_responses(network: Network, images, layer: int) -> tuple[np.ndarray, np.ndarray]:
    """The weighted sums z and activations a of layer `layer` (1..last) for `images` `(n, n_inputs)`:
    two `(n, layer_sizes[layer])` arrays. Only the layers up to `layer` are computed."""
    last = len(network.layer_sizes) - 1
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 1 <= layer <= last:
        raise DigitnetError(f"layer {layer!r}: choose a layer from 1 to {last} (0 is the input: it has no weighted sums)")
    a = network._as_batch(images)  # checks the shape: (n, n_inputs)
    for l in range(layer):
        z = a @ network.weights[l].T + network.biases[l]  # z = W a + b  (n, n_out)
        a = network.activation_of_layer(l)(z)
    return z, a


def probe_neuron(network: Network, images, layer: int, neuron: int, count: int = 9,
                 average_of: int = 100) -> NeuronProbe:
    """Rank `images` `(n, n_inputs)` by how much neuron `neuron` of `layer` responds to them.

    count: how many images to return at each end (default 9, a 3x3 grid); average_of: how many of
    the most exciting images to average (default 100). Both are at most n.
    """
    images = network._as_batch(images)
    n = len(images)
    last = len(network.layer_sizes) - 1
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 1 <= layer <= last:
        raise DigitnetError(f"layer {layer!r}: choose a layer from 1 to {last} (0 is the input: it has no weighted sums)")
    size = network.layer_sizes[layer]
    if isinstance(neuron, bool) or not isinstance(neuron, (int, np.integer)) or not 0 <= neuron < size:
        raise DigitnetError(f"neuron {neuron!r}: layer {layer} has neurons 0-{size - 1}")
    for name, value in (("count", count), ("average_of", average_of)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= n:
            raise DigitnetError(f"{name} {value!r}: need a whole number from 1 to {n} (the number of images)")
    z, a = layer_responses(network, images, layer)
    z, a = z[:, neuron], a[:, neuron]  # (n,)
    indices = np.arange(n)
    descending = np.lexsort((indices, -z.astype(np.float64)))  # by -z, then by index
    ascending = np.lexsort((indices, z.astype(np.float64)))
    top = descending[:average_of]
    return NeuronProbe(layer=int(layer), neuron=int(neuron), weighted_sums=z, activations=a,
                       most_exciting=descending[:count], least_exciting=ascending[:count], top=top,
                       average_of_top=images[top].astype(np.float64).mean(axis=0))
