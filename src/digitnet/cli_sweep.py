"""`digitnet sweep`: train many structures and settings, each with a few seeds, into a results
database, and report what they found. Parsing and printing only; the work is in digitnet.sweep."""

from __future__ import annotations

import argparse
import signal
import sys

from .errors import DigitnetError

DESCRIPTION = """\
Is 16-16 a good choice? Train every structure and setting a SPEC file asks for, each with a few
seeds so every result has a spread, and keep each finished run in an SQLite database (--db) the
moment it finishes. Run the same command again to resume: finished runs are skipped, the rest
are trained; Ctrl-C loses nothing that finished. Two sweeps can share one database.

Runs go to local processes (--jobs at a time) or, with --scheduler, to a Dask cluster: start
`dask scheduler` on one machine and `dask worker tcp://HOST:8786` on each machine that has
digitnet installed.

`digitnet sweep report --db FILE` prints a table (mean ± spread over seeds for each point) and
draws the pictures: test accuracy against weights and biases with the Pareto front and the video's
784-16-16-10 marked, accuracy against each swept setting, and the best points' validation curves.
"""

EPILOG = """\
examples:
  digitnet sweep examples/sweep-small.toml --db small.sqlite       12 tiny runs, under a minute
  digitnet sweep report --db small.sqlite                          the table and the pictures
  digitnet sweep big.toml --db big.sqlite --scheduler tcp://10.0.0.5:8786

a spec (TOML):
  name = "structures"
  seeds = 3                                # seeds 0, 1, 2 for every point
  [data]
  train_images = 10000                     # the first 10,000 training images (default: all 50,000)
  [grid]                                   # every combination; or [random] with samples = N
  hidden_layers = [[], [16], [16, 16], [100]]
  activation = ["sigmoid", "relu"]
  epochs = 3
  learning_rate = [0.001, 0.005]
"""


def add_sweep_command(commands) -> None:
    """Register `digitnet sweep` on the CLI's subcommands."""
    sweep = commands.add_parser("sweep", help="train many structures and settings into a database; report them",
                                description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sweep.add_argument("spec", metavar="SPEC", help="the sweep's TOML file, or `report` to report on --db")
    sweep.add_argument("--db", required=True, metavar="FILE",
                       help="the SQLite results database (made if missing; resumed if it exists)")
    sweep.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="run on the Dask cluster of this scheduler instead of local processes")
    sweep.add_argument("--connect-timeout", type=float, default=10, metavar="SECONDS",
                       help="how long to wait for the scheduler to answer (default: 10)")
    sweep.add_argument("--jobs", type=int, default=2,
                       help="local processes training at once (default: 2, one per core)")
    sweep.add_argument("--out", metavar="DIR",
                       help="report: folder for the pictures (default: the database's name + '-report')")
    sweep.add_argument("--top", type=int, default=30, help="report: how many points the table lists (default: 30)")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")


def command_sweep(args) -> int:
    if args.spec == "report":
        return _report(args)
    # SIGTERM (a `kill`, a batch system's time limit) stops the sweep as Ctrl-C does: the finished runs
    # are kept and the worker processes are stopped, not left training for nobody.
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _sweep(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _terminate(signum, frame):
    raise KeyboardInterrupt


def _sweep(args) -> int:
    from tqdm import tqdm

    from .sweep.cluster import connect, worker_count
    from .sweep.local import check_jobs
    from .sweep.runner import run_sweep
    from .sweep.database import open_results
    from .sweep.spec import load_spec

    spec = load_spec(args.spec)
    client = None
    if args.scheduler is None:
        check_jobs(args.jobs)
    with open_results(args.db) as database:
        if args.scheduler is not None:
            client = connect(args.scheduler, args.connect_timeout)
        try:
            bar = None

            def on_start(progress):
                nonlocal bar
                points = len(spec.runs) // max(len(spec.seeds), 1)
                where = (f"{args.jobs} local processes" if client is None else
                         f"the Dask cluster at {args.scheduler} ({worker_count(client)} workers now)")
                todo = progress.total - progress.skipped
                print(f"sweep {spec.name!r}: {progress.total} runs ({points} points x {len(spec.seeds)} seeds); "
                      f"{progress.skipped} already in {args.db}" + (f", training {todo} on {where}" if todo else ""),
                      file=sys.stderr)
                if client is not None and worker_count(client) == 0:
                    print("no workers yet: start some with `dask worker " + args.scheduler + "`", file=sys.stderr)
                bar = tqdm(total=progress.total, initial=progress.skipped, unit="run", file=sys.stderr,
                           disable=args.quiet or not todo, dynamic_ncols=True, smoothing=0)

            def on_result(progress):
                best = progress.best
                bar.set_postfix_str(f"best {best.test_accuracy:.2%} {best.run.structure.name}", refresh=False)
                bar.update(1)

            progress = run_sweep(spec, database, scheduler=client, n_jobs=args.jobs, on_start=on_start,
                                 on_result=on_result)
            if bar is not None:
                bar.close()
        finally:
            if client is not None:
                client.close()
    new = len(progress.new_results)
    if progress.interrupted:
        new = progress.finished - progress.skipped  # counted from the database, as finished is
        print(f"interrupted: {progress.finished} of {progress.total} runs are saved in {args.db} ({new} new); "
              "run the same command again to train the rest", file=sys.stderr)
        return 130
    if progress.best is not None:
        best = progress.best
        print(f"best new run: {best.run.structure.name} (seed {best.run.settings.seed}), "
              f"{best.test_accuracy:.2%} test accuracy", file=sys.stderr)
    print(f"{progress.finished} of {progress.total} runs in {args.db} ({new} trained now, {progress.skipped} "
          f"before); `digitnet sweep report --db {args.db}` for the table and pictures")
    return 0


def _report(args) -> int:
    from pathlib import Path

    from .sweep.database import open_results
    from .sweep.pictures import draw_report
    from .sweep.report import group_points, report_table

    if args.top < 1:
        raise DigitnetError(f"--top must be >= 1, not {args.top}")
    with open_results(args.db, create=False) as database:
        rows = database.rows()
    if not rows:
        raise DigitnetError(f"{args.db}: holds no finished runs yet")
    points = group_points(rows)
    print(f"{len(rows)} runs, {len(points)} points (mean ± spread over seeds; P: on the Pareto front)")
    print(report_table(points, limit=args.top))
    db = Path(args.db)
    folder = Path(args.out) if args.out else db.with_name(db.stem + "-report")
    for path in draw_report(points, folder):
        print(f"wrote {path}")
    return 0
