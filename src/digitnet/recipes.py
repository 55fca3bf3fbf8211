"""Named training recipes: the structure and settings that made each shipped model.

`digitnet train --recipe NAME` trains one of them (its flags can still change single settings);
the shipped models' metadata names the recipe that made them, so `digitnet info` shows how.

- "video":          the default `digitnet train`: 784-16-16-10 sigmoid in a few seconds (~96%).
- "record":         the same network on deskewed digits (deskew.py), without the one-pixel shifts,
                    100 epochs: the best 784-16-16-10 found (97.8%; see the README's table).
- "record-distorted": 16-16 ReLU on distorted digits, which 16 neurons could not exploit (96.21%).
- "strong":         784-800-10 ReLU on distorted digits: the shipped model for real handwriting.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .augment import Distortion
from .errors import DigitnetError
from .training import TrainingSettings


@dataclass(frozen=True)
class Recipe:
    """A network structure and how to train it."""

    name: str
    hidden_layers: tuple[int, ...]  # neurons per hidden layer
    activation: str                 # the hidden layers' squish
    output: str                     # the output layer's
    settings: TrainingSettings
    summary: str                    # one line for --help and the model's metadata

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return (784, *self.hidden_layers, 10)


# Milder than for a wide network: 16 neurons cannot learn every distortion, so strong ones cost
# more in capacity than they give in robustness (measured, see the README's table).
SMALL_NETWORK_DISTORTION = Distortion(rotation_degrees=8.0, scale=0.08, aspect=0.05, slant=0.2, shift=1.5,
                                      elastic=1.0)
WIDE_NETWORK_DISTORTION = Distortion()  # augment's defaults: Simard-like changes for an 800-unit net

RECIPES = {
    recipe.name: recipe for recipe in (
        Recipe("video", (16, 16), "sigmoid", "softmax", TrainingSettings(),
               "the video's 784-16-16-10 sigmoid network, digitnet train's defaults"),
        # Deskewed digits are centred by their mass already: shifting them too measured worse (README).
        Recipe("record", (16, 16), "sigmoid", "softmax", TrainingSettings(epochs=100, shift_pixels=0, deskew=True),
               "the video's 784-16-16-10 sigmoid network on deskewed digits (no shifts), 100 epochs"),
        Recipe("record-distorted", (16, 16), "relu", "softmax",
               TrainingSettings(epochs=30, batch_size=32, learning_rate=0.003, weight_decay=0.0,
                                shift_pixels=0, distortion=SMALL_NETWORK_DISTORTION, seed=0),
               "784-16-16-10 ReLU, 30 epochs on freshly distorted digits (affine + elastic): tried, not shipped"),
        Recipe("strong", (800,), "relu", "softmax",
               TrainingSettings(epochs=30, batch_size=64, learning_rate=0.001, weight_decay=0.0,
                                shift_pixels=0, distortion=WIDE_NETWORK_DISTORTION, label_smoothing=0.05, seed=0),
               "784-800-10 ReLU, 30 epochs on freshly distorted digits (affine + elastic), label smoothing 0.05"),
    )
}


def recipe_named(name: str) -> Recipe:
    """The recipe called `name`; DigitnetError naming the known ones otherwise."""
    if name not in RECIPES:
        raise DigitnetError(f"no recipe {name!r}; known recipes: {', '.join(RECIPES)}")
    return RECIPES[name]


def with_epochs(recipe: Recipe, epochs: int) -> Recipe:
    """The same recipe, shorter or longer (for quick trials and tests)."""
    return replace(recipe, settings=replace(recipe.settings, epochs=epochs))
