"""Files written by earlier versions must keep loading and answering the same (tests/golden/)."""

import json
from pathlib import Path

import numpy as np

from digitnet.data import read_idx, to_inputs
from digitnet.modelfile import load_model

GOLDEN = Path(__file__).parent / "golden"


def test_golden_model_and_idx_give_their_recorded_predictions():
    model = load_model(GOLDEN / "tiny-784-4-10.safetensors")
    assert model.network.layer_sizes == (784, 4, 10) and model.network.activation == "tanh"
    images = read_idx(GOLDEN / "five-images-idx3-ubyte")
    assert images.shape == (5, 28, 28)
    recorded = json.loads((GOLDEN / "tiny-predictions.json").read_text())
    probabilities = model.network.predict_probabilities(to_inputs(images))
    np.testing.assert_allclose(probabilities, recorded["probabilities"], atol=2e-6)
    assert list(probabilities.argmax(axis=1)) == recorded["digits"]
