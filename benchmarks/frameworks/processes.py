"""Whole-process figures, as a user meets them: each run is a fresh `python` process, timed by
the wall clock from its start to its exit, with its own CPU time and peak memory (max RSS) from
`os.wait4`, so nothing of the parent (this benchmark's own imports and data) is counted.

The runs: `digitnet train` as a user types it and with the other trainers' settings, the PyTorch
and JAX scripts beside this file (`torch_mlp.py`, `jax_mlp.py`, which import their framework and
read the gzipped IDX files themselves), `digitnet evaluate`, and a fresh process loading MNIST.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# What the others do and `digitnet train`'s flags can say: no weight decay, no image shifting.
# (Its learning-rate schedule is cosine and has no flag; a schedule costs nothing per step.)
LIKE_THE_OTHERS = ["--weight-decay", "0", "--shift-pixels", "0"]

# A fresh process loading the shipped MNIST twice; prints its times as one JSON line. Reading every
# pixel once counts the page faults a memory-mapped load defers to the first epoch.
LOAD_PROBE = """
import json, time
started = time.perf_counter()
from digitnet.data import load_dataset
imported = time.perf_counter()
data = load_dataset()
loaded = time.perf_counter()
for name in ("train_images", "validation_images", "test_images"):
    getattr(data, name).max()
touched = time.perf_counter()
load_dataset()
again = time.perf_counter()
print(json.dumps({"import": imported - started, "first_load": loaded - imported,
                  "read_every_pixel": touched - loaded, "second_load": again - touched}))
"""


def digitnet_command() -> list[str]:
    """`digitnet` as the user's shell finds it: the console script beside this Python (what pip
    installs), else `python -m digitnet.cli`."""
    script = Path(sys.executable).parent / "digitnet"
    if script.is_file():
        return [sys.executable, str(script)]  # the script's own shebang names this Python too
    return [sys.executable, "-m", "digitnet.cli"]


def child_environment(src: Path, extra: dict | None = None) -> dict:
    """This process's environment with the checkout's src/ first on PYTHONPATH (so the digitnet
    measured is the one beside the benchmark) and any `extra` variables."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


def run_process(command: list[str], env: dict, cwd: str | None = None) -> dict:
    """Run `command` to its end: {"wall_seconds", "cpu_seconds", "system_seconds", "max_rss_mb",
    "stdout"}. A failing command raises RuntimeError with the end of its stderr."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage, not every child's
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}: {stderr[-2000:]}")
    return {"wall_seconds": wall, "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "system_seconds": usage.ru_stime, "max_rss_mb": usage.ru_maxrss / 1024, "stdout": stdout}


def test_accuracy(stdout: str) -> float | None:
    """The "test accuracy: 93.80%" (digitnet) or "test accuracy 94.24%" (the scripts) a run printed."""
    match = re.search(r"test accuracy:? ([0-9.]+)%", stdout)
    return float(match.group(1)) / 100 if match else None


class WholeProcessRuns:
    """Builds each kind of run's command and keeps every run's figures under its name."""

    def __init__(self, src: Path, data_dir: Path):
        self.src, self.data_dir = src, data_dir
        self.env = child_environment(src)
        self.runs: dict[str, list[dict]] = {}
        self.workdir = tempfile.mkdtemp(prefix="digitnet-bench-")  # where `digitnet train` saves its model

    def close(self):
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _record(self, name, figures):
        self.runs.setdefault(name, []).append(figures)
        return figures

    def digitnet_train(self, epochs: int | None, like_the_others: bool):
        """`digitnet train --epochs N --batch-size 32` (epochs None: no flags at all, its defaults)."""
        flags = [] if epochs is None else ["--epochs", str(epochs), "--batch-size", "32"]
        flags += LIKE_THE_OTHERS if like_the_others else []
        figures = run_process([*digitnet_command(), "train", *flags], self.env, cwd=self.workdir)
        figures["test_accuracy"] = test_accuracy(figures["stdout"])
        name = f"digitnet-{'like' if like_the_others else 'defaults'}-{epochs or 'all'}"
        return self._record(name, figures)

    def script(self, framework: str, epochs: int, threads: int | None = 1):
        """benchmarks/frameworks/{torch,jax}_mlp.py --epochs N on the shipped IDX files; PyTorch with
        `--threads 1` unless `threads` is None (why: torch_mlp.py's docstring)."""
        command = [sys.executable, str(HERE / f"{framework}_mlp.py"), "--data", str(self.data_dir), "--epochs", str(epochs)]
        if framework == "torch" and threads is not None:
            command += ["--threads", str(threads)]
        figures = run_process(command, self.env)
        figures["test_accuracy"] = test_accuracy(figures["stdout"])
        name = f"{framework}-{epochs}" if framework != "torch" or threads is not None else f"torch-own-threads-{epochs}"
        return self._record(name, figures)

    def evaluate(self):
        return self._record("evaluate", run_process([*digitnet_command(), "evaluate"], self.env, cwd=self.workdir))

    def interpreter_and_import(self):
        """`python -c "import digitnet.cli"`: what every command pays before doing anything."""
        return self._record("import", run_process([sys.executable, "-c", "import digitnet.cli"], self.env))

    def load_probe(self, cache_home: str, name: str):
        """A fresh process timing load_dataset() twice, its user cache folder (XDG_CACHE_HOME) at
        `cache_home`: an empty folder for the first use ever, the same folder again after it."""
        env = child_environment(self.src, {"XDG_CACHE_HOME": cache_home})
        figures = run_process([sys.executable, "-c", LOAD_PROBE], env)
        figures.update(json.loads(figures["stdout"].strip().splitlines()[-1]))
        return self._record(name, figures)
