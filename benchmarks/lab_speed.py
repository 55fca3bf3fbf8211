"""How fast the neuron lab judges an edit: the edited network on MNIST's 10,000 test images (issue 12).

The page asks POST /api/lab/evaluate after every change of a slider or brush stroke, so the answer
should come within a frame or two (16-33 ms). This measures, for typical edits of the shipped
784-16-16-10 model:

  * the library alone: `FastAnswers.guesses_of` (first-layer products kept, only edited neurons'
    columns recomputed) against a full `Network.predict_digit` pass;
  * the whole route, in-process over HTTP (FastAPI's TestClient: JSON in, edits checked and
    applied, the answer's 10 per-digit rows and up to 1000 changed images serialised).

Each figure is the median of --repeats runs (after one warm-up), in milliseconds. The machine may be
shared: the load average is printed with the table.

    python benchmarks/lab_speed.py              # ~10 s
    python benchmarks/lab_speed.py --repeats 200
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # the server answers many pages on few cores
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # run from a checkout without installing

import numpy as np  # noqa: E402

from digitnet.data import load_dataset  # noqa: E402
from digitnet.editing import FastAnswers, apply_edits, edits_from_json  # noqa: E402
from digitnet.modelfile import default_model_path, load_model  # noqa: E402

region = np.zeros((28, 28))
region[8:20, 12:16] = 1.0
EDITS = {
    "no edits": [],
    "bias of -10 on a first-layer neuron": [{"kind": "bias", "layer": 1, "neuron": 3, "value": -10}],
    "a first-layer neuron switched off": [{"kind": "off", "layer": 1, "neuron": 3}],
    "a painted first-layer neuron (784 weights)": [{"kind": "weights", "layer": 1, "neuron": 3,
                                                    "weights": region.ravel().tolist()}],
    "a second-layer neuron's weights x2": [{"kind": "scale", "layer": 2, "neuron": 5, "factor": 2}],
    "all 16 first-layer neurons' weights x1.5": [{"kind": "scale", "layer": 1, "neuron": i, "factor": 1.5}
                                                 for i in range(16)],
}


def median_ms(run, repeats: int) -> float:
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50, help="runs per figure (default: 50)")
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

        from digitnet.web import create_app
    network = load_model(default_model_path()).network
    images = load_dataset().test_images
    answers = FastAnswers(network, images)
    client = TestClient(create_app(), base_url="http://127.0.0.1")  # the server answers only to its own names
    print("| edit | full pass (ms) | FastAnswers (ms) | POST /api/lab/evaluate (ms) | same answers |")
    print("|---|---:|---:|---:|---:|")
    for name, items in EDITS.items():
        edited = apply_edits(network, edits_from_json(items))
        full = median_ms(lambda: edited.predict_digit(images), args.repeats)
        fast = median_ms(lambda: answers.guesses_of(edited), args.repeats)
        route = median_ms(lambda: client.post("/api/lab/evaluate", json={"edits": items}).raise_for_status(),
                          args.repeats)
        same = (answers.guesses_of(edited) == edited.predict_digit(images)).mean()
        print(f"| {name} | {full:.2f} | {fast:.2f} | {route:.2f} | {same:.2%} |")
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 "unknown CPU")
    print(f"\n{model}, {os.cpu_count()} cores, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}; "
          f"load average at the end: {os.getloadavg()[0]:.2f}; median of {args.repeats} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
