"""Per-epoch figures measured inside the training process (start-up excluded): one job per fresh
process, `compare_frameworks.py --worker JOB` runs `worker(job)` and prints its figures as JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from digitnet.data import load_dataset

from .common import BATCH_SIZE, LEARNING_RATE, THREADS, as_arrays
from .digitnet_trainers import (defaults_to_96, initial_weights, train_digitnet, train_digitnet_all_60000,
                                train_digitnet_reference)
from .inference import inference

INFERENCE = ("digitnet", "torch", "torch-1thread", "jax", "sklearn", "nielsen")  # the runs that also time inference
LABELS = {"digitnet": "digitnet `train`",
          "digitnet-reference": "digitnet's reference loop: `backprop` + optimizer per array, no fast path",
          "torch": "PyTorch, nn.Sequential loop", "torch-1thread": "PyTorch on 1 thread (for comparison)",
          "jax": "JAX, the epoch as one `jit` of `lax.scan` (optax Adam)",
          "sklearn": "scikit-learn MLPClassifier", "nielsen": "Nielsen's per-example loop"}


def worker(job):
    np.seterr(over="ignore")  # Nielsen's 1 / (1 + e^-z) overflows harmlessly for very negative z
    data = load_dataset()
    layer_sizes = tuple(job["layer_sizes"])
    if job["kind"] == "defaults":
        return defaults_to_96(data)
    framework, epochs = job["framework"], job["epochs"]
    settings = {"learning_rate": LEARNING_RATE, "batch_size": BATCH_SIZE}
    arrays = None if framework.startswith("digitnet") else as_arrays(data)
    if framework == "digitnet":
        figures, model = train_digitnet(data, layer_sizes, epochs)
    elif framework == "digitnet-60000":
        figures, model = train_digitnet_all_60000(data, layer_sizes, epochs)
    elif framework == "digitnet-reference":
        figures, model = train_digitnet_reference(data, layer_sizes, epochs)
    elif framework.startswith("torch"):
        import torch
        from . import torch_mlp
        torch.set_num_threads(1 if framework == "torch-1thread" else THREADS)
        figures, model = torch_mlp.train(arrays, layer_sizes, epochs, initial=initial_weights(layer_sizes), **settings)
    elif framework == "jax":
        from . import jax_mlp
        figures, model = jax_mlp.train(arrays, layer_sizes, epochs, initial=initial_weights(layer_sizes), **settings)
        # The first epoch compiles train_epoch; the per-epoch figure is the steady one after it.
        figures["compile_epoch_seconds"] = figures["epoch_seconds"][0]
        figures["epoch_seconds"] = figures["epoch_seconds"][1:] or figures["epoch_seconds"]
    elif framework == "sklearn":
        from .sklearn_mlp import train_sklearn
        figures, model = train_sklearn(arrays, layer_sizes, epochs)
    else:
        from .nielsen import train_nielsen
        figures, model = train_nielsen(arrays, initial_weights(layer_sizes), epochs, job["nielsen_subset"])
    if job.get("inference"):
        if arrays is None:
            arrays = as_arrays(data)
        figures.update(inference(framework.split("-")[0], model, arrays))
    return figures


def run_job(script, job):
    """`job` in a fresh `python script --worker JOB` process; its figures, or None (said on stderr) if
    it failed, so one broken trainer leaves a gap in the tables instead of ending the benchmark."""
    done = subprocess.run([sys.executable, str(script), "--worker", json.dumps(job)], capture_output=True, text=True)
    if done.returncode != 0:
        print(f"job {job['framework'] if 'framework' in job else job['kind']} failed:\n{done.stderr[-1500:]}",
              file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])
