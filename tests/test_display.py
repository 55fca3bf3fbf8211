"""Jupyter's rich display of a Network, an Evaluation and a Trace: real HTML and PNG, through IPython's
own display formatter, and no pyplot state left behind."""

import base64
import io
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from digitnet.evaluation import evaluate
from digitnet.modelfile import default_model_path, load_model
from digitnet.network import Network
from interop_helpers import mnist


@pytest.fixture(scope="module")
def network():
    return load_model(default_model_path()).network


def png_size(data: bytes):
    image = Image.open(io.BytesIO(data))
    image.verify()
    return Image.open(io.BytesIO(data)).size


def embedded_pngs(html: str):
    return [base64.b64decode(match) for match in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


def test_a_network_shows_its_structure_and_first_layer_pictures(network):
    html = network._repr_html_()
    for text in ("784-16-16-10", "hidden 1", "sigmoid", "12,544 (16x784)", "total: 13,002 weights and biases"):
        assert text in html
    (picture,) = embedded_pngs(html)
    assert png_size(picture) == png_size(network._repr_png_())
    width, height = png_size(picture)
    assert width > 400 and height > 400


def test_an_evaluation_shows_its_confusion_matrix(network):
    data = mnist()
    result = evaluate(network, data.test_images[:1000], data.test_labels[:1000])
    html = result._repr_html_()
    assert f"accuracy {result.accuracy:.2%}" in html
    cells = [int(c.replace(",", "")) for c in re.findall(r"<td[^>]*>([\d,]+)</td>", html)]
    assert len(cells) == 100 and sum(cells) == 1000
    np.testing.assert_array_equal(np.array(cells).reshape(10, 10), result.confusion)
    assert min(png_size(result._repr_png_())) > 300


def test_a_trace_shows_the_cascade(network):
    trace = network.trace(mnist().test_images[:2])
    html = trace._repr_html_()
    assert "the first of 2 images" in html
    outputs = ", ".join(f"{v:.2f}" for v in trace.outputs[0])
    assert outputs in html
    assert len(embedded_pngs(html)) == 1 and min(png_size(trace._repr_png_())) > 150


def test_ipython_formats_them_as_html_and_png():
    formatters = pytest.importorskip("IPython.core.formatters")
    data, _ = formatters.DisplayFormatter().format(Network((784, 4, 10)))
    assert {"text/html", "image/png", "text/plain"} <= set(data)
    png_size(data["image/png"])


def test_displaying_leaves_no_pyplot_state():
    code = """
import sys
from digitnet.evaluation import Evaluation
from digitnet.network import Network
import numpy as np
network = Network((784, 4, 10))  # few pictures: quick to draw
network._repr_html_(); network._repr_png_()
Evaluation(np.eye(10, dtype=np.int64))._repr_html_(); Evaluation(np.eye(10, dtype=np.int64))._repr_png_()
network.trace(np.zeros((1, 784)))._repr_png_()
print("pyplot imported:", "matplotlib.pyplot" in sys.modules)
import matplotlib.pyplot as plt
network._repr_png_()
print("open figures:", plt.get_fignums())
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "pyplot imported: False" in result.stdout and "open figures: []" in result.stdout
