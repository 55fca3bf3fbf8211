"""Where the time of a whole `digitnet train --epochs 3` process goes (issue #16): the command run
under pyinstrument (a sampling profiler: wall-clock time, imports and loading MNIST included),
its call tree saved as text.

    pip install -e '.[bench]'                  # pyinstrument
    python benchmarks/profile_train.py         # -> benchmarks/profile_train.txt
    python benchmarks/profile_train.py --out benchmarks/profile_train_before.txt -- --epochs 3 --shift-pixels 0

Arguments after `--` replace `--epochs 3 --batch-size 32`. Without pyinstrument it falls back to
cProfile (CPU time per function, sorted by cumulative time), which sees less (no time in C calls
it does not wrap, no threads). Never run by the test suite.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the `frameworks` package beside this file

from frameworks.common import cpu_model  # noqa: E402
from frameworks.processes import child_environment, run_process  # noqa: E402


def start_up_seconds(env) -> float:
    """Median wall clock of three fresh `python -c "import digitnet.cli"` processes: the start-up
    the profile's tree does not show (pyinstrument starts sampling after the first imports)."""
    return statistics.median(run_process([sys.executable, "-c", "import digitnet.cli"], env)["wall_seconds"]
                             for _ in range(3))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "profile_train.txt", help="where the text profile goes")
    parser.add_argument("train_args", nargs="*", default=["--epochs", "3", "--batch-size", "32"],
                        help="arguments for `digitnet train` (after --)")
    args = parser.parse_args(argv)
    env = child_environment(HERE.parent / "src")
    with tempfile.TemporaryDirectory(prefix="digitnet-profile-") as workdir:  # the saved model lands there
        raw = Path(workdir) / "profile.txt"
        if importlib.util.find_spec("pyinstrument") is not None:
            profiler = "pyinstrument (sampling, wall clock)"
            # `-c` rather than `-m digitnet.cli`, so the imports of digitnet and numpy are in the tree too
            command = [sys.executable, "-m", "pyinstrument", "--renderer", "text", "--outfile", str(raw), "-c",
                       "import sys; from digitnet.cli import main; sys.exit(main(sys.argv[1:]))",
                       "train", *args.train_args]
        else:
            profiler = "cProfile (pyinstrument is not installed)"
            command = [sys.executable, "-c", "import cProfile, pstats, sys; from digitnet.cli import main; "
                       f"sys.argv = ['digitnet', 'train', *{args.train_args!r}]; "
                       "cProfile.run('main()', 'stats'); "
                       f"pstats.Stats('stats', stream=open({str(raw)!r}, 'w')).sort_stats('cumulative').print_stats(60)"]
        load = os.getloadavg()[0]
        done = subprocess.run(command, env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            sys.exit(f"profiling failed (exit {done.returncode}): {done.stderr[-2000:]}")
        profile = raw.read_text()
    start_up = start_up_seconds(env)
    header = (f"# `digitnet train {' '.join(args.train_args)}` as one whole process, profiled by {profiler}\n"
              f"# made by `python benchmarks/profile_train.py {' '.join(sys.argv[1:] if argv is None else argv)}`"
              f" on {datetime.date.today()}\n"
              f"# machine: {cpu_model()}, {os.cpu_count()} cores, load average {load:.2f} at the start\n"
              f"# not in the tree: starting Python and `import digitnet.cli` take {start_up:.2f} s"
              " (median of 3 fresh processes)\n\n")
    args.out.write_text(header + profile)
    print(f"{args.out}: {len(profile.splitlines())} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
