"""What the lab's routes take: a training job's request, with strict types (docs/lab-api.md).

Types only: a string or true where a number belongs is a 422 from pydantic. The values are judged
by the lab's limits (jobs.py) and by `TrainingSettings` itself, so the page and the CLI refuse the
same settings with the same words.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..training import TrainingSettings

DEFAULTS = TrainingSettings()
DEFAULT_LAYERS = [16, 16]  # `digitnet train --layers`'s default: the video's network
DEFAULT_ACTIVATION, DEFAULT_OUTPUT = "sigmoid", "softmax"  # and its --activation and --output


class JobRequest(BaseModel):
    """One training job: the structure, `train`'s settings, the file name. Defaults: `digitnet train`'s."""

    model_config = ConfigDict(extra="forbid", strict=True)

    layers: list[int] = Field(default_factory=lambda: list(DEFAULT_LAYERS),
                              description="hidden layer sizes, 0-4 of them, each 1-1024; [] for none")
    activation: str = Field(DEFAULT_ACTIVATION, description="hidden layers' squish: sigmoid, relu or tanh")
    output: str = Field(DEFAULT_OUTPUT, description="output layer: sigmoid or softmax")
    cost: str = DEFAULTS.cost
    optimizer: str = DEFAULTS.optimizer
    learning_rate: float = DEFAULTS.learning_rate
    schedule: str = DEFAULTS.schedule
    epochs: int = Field(DEFAULTS.epochs, description="1-100")
    batch_size: int = Field(DEFAULTS.batch_size, description="1-10000")
    momentum: float = DEFAULTS.momentum
    weight_decay: float = DEFAULTS.weight_decay
    shift_pixels: int = DEFAULTS.shift_pixels
    seed: int = Field(DEFAULTS.seed, description="0 to 2^32-1: initial weights and shuffling")
    name: str | None = Field(None, description="file name in the models folder (.safetensors added if missing)")
    neurons: list[int] | None = Field(None, description="first-layer neurons the weight snapshots carry (at most 32)")
    started_from: str | None = Field(None, description="the model to compare with afterwards (a file of the "
                                                       "models folder; null: the startup model)")

    def settings_fields(self) -> dict:
        """The fields that are TrainingSettings' own, by its names."""
        return {name: getattr(self, name) for name in DEFAULTS.to_dict()}


def preset(**changes) -> dict:
    """A complete JobRequest body (without name) from the defaults and `changes`."""
    body = JobRequest(**changes).model_dump(exclude={"name", "neurons", "started_from"})
    return body


PRESETS = [
    {"name": "the video's network", "settings": preset()},
    {"name": "bigger: 100 hidden", "settings": preset(layers=[100])},
    {"name": "ReLU", "settings": preset(activation="relu")},
]
