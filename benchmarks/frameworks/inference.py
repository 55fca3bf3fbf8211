"""Inference: the 10,000 test images as one batch, and one image through each library's Python API."""

from __future__ import annotations

import numpy as np

from .common import time_calls


def inference(framework, model, data):
    """{"images_per_second", "one_image_microseconds", ...} for a trained `model` of `framework`;
    `data` is the dict of float32 arrays (common.as_arrays)."""
    images, one = data["test_images"], data["test_images"][:1]
    extra = {}
    if framework == "digitnet":
        batch, single = (lambda: model.predict_probabilities(images)), (lambda: model.predict_probabilities(one))
        extra["predict_digit_microseconds"] = time_calls(lambda: model.predict_digit(one)) * 1e6
        extra["feedforward_microseconds"] = time_calls(lambda: model.feedforward(one)) * 1e6
    elif framework == "torch":
        import torch
        tensor = torch.from_numpy(images)

        def batch():
            with torch.inference_mode():
                return torch.softmax(model(tensor), dim=1).numpy()

        def single():
            with torch.inference_mode():
                return torch.softmax(model(torch.from_numpy(one)), dim=1).numpy()
    elif framework == "jax":
        import jax
        from .jax_mlp import logits
        probabilities = jax.jit(lambda params, x: jax.nn.softmax(logits(params, x)))
        batch = lambda: np.asarray(probabilities(model, images))  # noqa: E731  (back to numpy, as a user needs it)
        single = lambda: np.asarray(probabilities(model, one))  # noqa: E731
    elif framework == "sklearn":
        batch, single = (lambda: model.predict_proba(images)), (lambda: model.predict_proba(one))
    else:
        columns = images[:, :, np.newaxis]
        batch = lambda: [model.feedforward(x) for x in columns]  # noqa: E731  (Nielsen: one at a time)
        single = lambda: model.feedforward(columns[0])  # noqa: E731
    seconds = time_calls(batch, min_seconds=1.0)
    return {"images_per_second": len(images) / seconds, "one_image_microseconds": time_calls(single) * 1e6, **extra}
