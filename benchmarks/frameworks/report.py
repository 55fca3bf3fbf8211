"""The markdown tables compare_frameworks.py prints, from the runs it collected."""

from __future__ import annotations

import statistics

from .common import median
from .in_process import INFERENCE, LABELS


def wall(runs, name):
    """Median wall-clock seconds of the whole-process runs called `name`, or None if there were none."""
    return statistics.median(run["wall_seconds"] for run in runs[name]) if runs.get(name) else None


def marginal_epoch(runs, prefix, short, long, key="wall_seconds"):
    """(t_long - t_short) / (long - short) from the medians of whole-process runs of both lengths
    (`key` "cpu_seconds": the same from their CPU time, which another process's load moves less)."""
    if not runs.get(f"{prefix}-{short}") or not runs.get(f"{prefix}-{long}"):
        return None
    t_short, t_long = (median(runs[f"{prefix}-{epochs}"], key) for epochs in (short, long))
    return (t_long - t_short) / (long - short)


def ratio(numerator, denominator):
    return None if numerator is None or denominator is None else numerator / denominator


def fastest_torch(group_of, key, best):
    """The better of PyTorch's two thread settings (2 and 1): `best` is min for seconds, max for
    images/s, so a busy core slowing one setting does not flatter digitnet."""
    return best(median(group_of(name), key) for name in ("torch", "torch-1thread") if group_of(name))


def row(figure, value, unit, target, met):
    shown = "n/a" if value is None else (f"{value:.2f}x" if unit == "x" else f"{value:,.{unit}f}")
    verdict = "—" if met is None or value is None else ("met" if met(value) else "**not met**")
    print(f"| {figure} | {shown} | {target} | {verdict} |")


def print_targets(args, whole, per_epoch):
    short, long = args.marginal_epochs
    print("## Issue #16's targets\n")
    print("| figure | value | target | |")
    print("|---|---:|---:|---|")
    if whole is not None:
        torch3 = min(filter(None, (wall(whole, "torch-3"), wall(whole, "torch-own-threads-3"))))  # the faster
        jax3 = wall(whole, "jax-3")
        defaults3, like3 = wall(whole, "digitnet-defaults-3"), wall(whole, "digitnet-like-3")
        row("whole process, 3 epochs: PyTorch (its faster thread setting) / `digitnet train --epochs 3 --batch-size 32`",
            ratio(torch3, defaults3),
            "x", ">= 5x", lambda v: v >= 5)
        row("the same, digitnet with the others' settings (`--weight-decay 0 --shift-pixels 0`)", ratio(torch3, like3),
            "x", ">= 5x", lambda v: v >= 5)
        row("whole process, 3 epochs: JAX / digitnet (the others' settings)", ratio(jax3, like3), "x", "", None)
        mine = marginal_epoch(whole, "digitnet-like", short, long)
        row(f"marginal epoch (runs of {short} and {long} epochs): JAX / digitnet",
            ratio(marginal_epoch(whole, "jax", short, long), mine), "x", ">= 1.8x", lambda v: v >= 1.8)
        row("marginal epoch: PyTorch / digitnet", ratio(marginal_epoch(whole, "torch", short, long), mine), "x", "", None)
        memory_run = "digitnet-defaults-all" if whole.get("digitnet-defaults-all") else "digitnet-defaults-3"
        peak = statistics.median(run["max_rss_mb"] for run in whole[memory_run])
        what = "no flags" if memory_run.endswith("all") else "defaults, `--epochs 3 --batch-size 32`"
        row(f"peak memory (max RSS, MB) of `digitnet train`, {what}", peak, 0, "<= 250", lambda v: v <= 250)
        row("`digitnet evaluate`, whole process (s)", wall(whole, "evaluate"), 2, "<= 0.3", lambda v: v <= 0.3)
        ready = statistics.median(run["first_load"] for run in whole["load-after-first-use"]) * 1000
        row("shipped MNIST ready after the first use: `load_dataset()` in a fresh process (ms)", ready, 0,
            "<= 50", lambda v: v <= 50)
    if per_epoch is not None:
        runs, bigger = per_epoch["runs"], per_epoch["bigger"]
        if runs.get("jax"):
            row("per epoch inside the process (start-up and JAX's compile excluded): JAX / digitnet",
                ratio(median(runs["jax"], "epoch_seconds"), median(runs["digitnet"], "epoch_seconds")), "x", "", None)
        big = (784, 300, 100, 10)
        row("784-300-100-10 per epoch: PyTorch (its faster thread setting) / digitnet",
            ratio(fastest_torch(lambda name: bigger.get((big, name)), "epoch_seconds", min),
                  median(bigger[big, "digitnet"], "epoch_seconds")),
            "x", ">= 2x", lambda v: v >= 2)
        row("batch inference, 10,000 images: digitnet / PyTorch (its faster thread setting) images/s",
            ratio(median(runs["digitnet"], "images_per_second"), fastest_torch(runs.get, "images_per_second", max)),
            "x", ">= 1x", lambda v: v >= 1)
        row("one image through `Network.predict_digit` (us)", median(runs["digitnet"], "predict_digit_microseconds"),
            1, "<= 25", lambda v: v <= 25)
        row("one image through `Network.feedforward` (us)", median(runs["digitnet"], "feedforward_microseconds"),
            1, "", None)
        reached = [run["reached_96"] for run in per_epoch["defaults"]]
        seconds = statistics.median(r["training_seconds"] for r in reached) if reached and all(reached) else None
        row("`digitnet train` defaults: training seconds to 96% test accuracy", seconds, 2, "<= 2",
            lambda v: v <= 2)
    print("\nRatios are other / digitnet for times (higher: digitnet faster) and digitnet / other for images/s.")
    print("The load average is printed at the start and the end: on these 2 cores the benchmark's own two processes make\n"
          "it ~1-1.5; more means other work shared the machine, and the figures are rougher.\n")


def print_whole_process(args, runs):
    short, long = args.marginal_epochs
    print("## Whole processes, as a user meets them\n")
    print("Wall clock from the process's start to its exit (interpreter start, imports, loading MNIST, training,"
          " saving), its CPU seconds (user + system, all threads) and its peak memory (max RSS, from `wait4`).\n")
    print("| command | wall s | CPU s | of it system s | max RSS MB | test accuracy |")
    print("|---|---:|---:|---:|---:|---:|")
    labels = {"import": '`python -c "import digitnet.cli"`'}
    for epochs in sorted({3, short, long}):
        labels[f"digitnet-defaults-{epochs}"] = f"`digitnet train --epochs {epochs} --batch-size 32`"
        labels[f"digitnet-like-{epochs}"] = (f"`digitnet train --epochs {epochs} --batch-size 32 "
                                             "--weight-decay 0 --shift-pixels 0`")
        labels[f"torch-{epochs}"] = f"`python benchmarks/frameworks/torch_mlp.py --epochs {epochs} --threads 1` (PyTorch)"
        labels[f"torch-own-threads-{epochs}"] = (f"`python benchmarks/frameworks/torch_mlp.py --epochs {epochs}`"
                                                 " (PyTorch, its own thread count)")
        labels[f"jax-{epochs}"] = f"`python benchmarks/frameworks/jax_mlp.py --epochs {epochs}` (JAX)"
    labels["digitnet-defaults-all"] = "`digitnet train` (no flags: 30 epochs, its defaults)"
    labels["evaluate"] = "`digitnet evaluate`"
    for name, label in labels.items():
        if not runs.get(name):
            continue
        group = runs[name]
        accuracies = [run["test_accuracy"] for run in group if run.get("test_accuracy") is not None]
        accuracy = f"{statistics.median(accuracies):.2%}" if accuracies else ""
        print(f"| {label} | {wall(runs, name):.2f} | {median(group, 'cpu_seconds'):.2f} | "
              f"{median(group, 'system_seconds'):.2f} | {median(group, 'max_rss_mb'):.0f} | {accuracy} |")
    print("\n`digitnet` is the console script pip installs (run by this Python, the checkout's src/ first on"
          " PYTHONPATH); `--weight-decay 0 --shift-pixels 0` gives it the others' settings (its learning rate"
          " follows a cosine schedule, which has no flag and costs nothing per step). The PyTorch and JAX"
          " scripts import their framework, read the four gzipped IDX files digitnet ships with gzip + numpy,"
          " train 50,000 images per epoch with a validation pass over the held-out 10,000 after each, as digitnet"
          " does, and finish with the test accuracy.\n")

    print(f"### The marginal epoch: (t{long} - t{short}) / {long - short}, start-up cancelled\n")
    print(f"| trainer | {short} epochs, s | {long} epochs, s | marginal epoch, s | vs digitnet |"
          " marginal epoch from CPU seconds | vs digitnet |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    mine = marginal_epoch(runs, "digitnet-like", short, long)
    mine_cpu = marginal_epoch(runs, "digitnet-like", short, long, "cpu_seconds")
    for prefix, label in (("digitnet-like", "digitnet (`--weight-decay 0 --shift-pixels 0`)"),
                          ("torch", "PyTorch (1 thread)"),
                          ("jax", "JAX, jit + `lax.scan` per epoch")):
        epoch, cpu = marginal_epoch(runs, prefix, short, long), marginal_epoch(runs, prefix, short, long, "cpu_seconds")
        if epoch is not None:
            print(f"| {label} | {wall(runs, f'{prefix}-{short}'):.2f} | {wall(runs, f'{prefix}-{long}'):.2f} | "
                  f"{epoch:.3f} | {epoch / mine:.2f}x | {cpu:.3f} | {cpu / mine_cpu:.2f}x |")
    print("\nThe target is on the wall-clock column. CPU seconds count every thread (digitnet copies the next"
          " epoch's images on a second one; XLA may use both cores), so they are no speed, but other processes"
          " on the machine move them less: where the two columns disagree, the wall clock was disturbed.")

    print("\n### Loading the shipped MNIST in a fresh process\n")
    print("`python -c` importing `digitnet.data` and calling `load_dataset()` twice; \"first use\" with"
          " `XDG_CACHE_HOME` pointing at an empty folder (so a cache there is built), \"after\" a second process"
          " with the same folder.\n")
    print("| process | import digitnet.data, ms | first `load_dataset()`, ms | then reading every pixel once, ms |"
          " second `load_dataset()`, ms | whole process, s | max RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, label in (("load-first-use", "first use ever (empty cache folder)"),
                        ("load-after-first-use", "after the first use")):
        group = runs[name]
        print(f"| {label} | {median(group, 'import') * 1000:.0f} | {median(group, 'first_load') * 1000:.0f} | "
              f"{median(group, 'read_every_pixel') * 1000:.0f} | {median(group, 'second_load') * 1000:.0f} | "
              f"{wall(runs, name):.2f} | {median(group, 'max_rss_mb'):.0f} |")
    print()


def print_in_process(args, results, bigger_sizes):
    runs = results["runs"]
    base = median(runs["digitnet"], "epoch_seconds")
    print("## Training the video's network, per epoch (inside the process, start-up excluded)\n")
    print("| trainer | seconds per epoch | training images/s | test accuracy | time vs digitnet |")
    print("|---|---:|---:|---:|---:|")
    for name, group in runs.items():
        if not group:
            print(f"| {LABELS[name]} | failed (see stderr) | | | |")
            continue
        seconds = median(group, "epoch_seconds")
        note = f" (timed on {args.nielsen_subset:,} images per epoch, scaled)" if name == "nielsen" else ""
        print(f"| {LABELS[name]}{note} | {seconds:.3f} | {50_000 / seconds:,.0f} | "
              f"{median(group, 'test_accuracy'):.2%} | {seconds / base:.2f}x |")
    print(f"\n{args.epochs} epochs per run. digitnet `train`'s seconds include its validation pass over 10,000 images"
          " at the end of every epoch; every trainer's include its shuffling. JAX's first epoch compiles the"
          " jitted epoch"
          + (f" ({median(runs['jax'], 'compile_epoch_seconds'):.2f} s) and is left out of its figure" if runs.get("jax")
             else "")
          + "; its epoch is the 1,562 whole mini-batches (49,984 images). Nielsen's accuracy is after training on"
          f" {args.nielsen_subset:,} images per epoch.\n")
    if results["all_60000"]:
        print(f"With all 60,000 MNIST training images in an epoch (none held out; the validation pass then"
              f" runs over the 10,000 test images, for timing only), digitnet `train` takes"
              f" {median(results['all_60000'], 'epoch_seconds'):.3f} s per epoch.\n")

    print("## Inference\n")
    print("| library | 10,000 test images as one batch: images/s | one image: microseconds |")
    print("|---|---:|---:|")
    library = {"digitnet": "digitnet", "torch": "PyTorch", "torch-1thread": "PyTorch on 1 thread", "jax": "JAX (jitted, result back to numpy)",
               "sklearn": "scikit-learn", "nielsen": "Nielsen's loop"}
    for name in INFERENCE:
        if runs.get(name):
            print(f"| {library[name]} | {median(runs[name], 'images_per_second'):,.0f} | "
                  f"{median(runs[name], 'one_image_microseconds'):.1f} |")
    print(f"\ndigitnet: `Network.predict_probabilities` (one image through `predict_digit`:"
          f" {median(runs['digitnet'], 'predict_digit_microseconds'):.1f} us, `feedforward`:"
          f" {median(runs['digitnet'], 'feedforward_microseconds'):.1f} us); PyTorch: softmax of the model under"
          " `torch.inference_mode()`; JAX: a jitted softmax of the logits; scikit-learn: `predict_proba`;"
          " Nielsen: `feedforward` on each column vector.\n")

    print("## digitnet's defaults: `digitnet train` with no flags\n")
    defaults = results["defaults"]
    reached = [run["reached_96"] for run in defaults]
    last = defaults[-1] if defaults else {"epochs": "?", "best_epoch": "?", "final_test_accuracy": float("nan")}
    print("| | |\n|---|---:|")
    if reached and all(reached):
        print(f"| first epoch with >= 96% test accuracy | {reached[-1]['epoch']} of {last['epochs']} |")
        print(f"| training seconds to get there | {statistics.median(r['training_seconds'] for r in reached):.2f} |")
    else:
        print("| first epoch with >= 96% test accuracy | not reached |")
    print(f"| training seconds, all {last['epochs']} epochs (shifting and validation included) | "
          f"{statistics.median(run['total_training_seconds'] for run in defaults) if defaults else float('nan'):.2f} |")
    print(f"| test accuracy of the kept (best validation) epoch {last['best_epoch']} | "
          f"{last['final_test_accuracy']:.2%} |")
    print("\nThe test accuracy is measured after every epoch here only; training itself never looks at"
          " the test images.\n")

    print("## Larger networks against PyTorch (seconds per epoch)\n")
    print("| network | digitnet | PyTorch, 2 threads | PyTorch, 1 thread | faster PyTorch / digitnet |")
    print("|---|---:|---:|---:|---:|")
    for sizes in bigger_sizes:
        if not results["bigger"].get((sizes, "digitnet")):
            continue
        mine = median(results["bigger"][sizes, "digitnet"], "epoch_seconds")
        two, one = (median(results["bigger"][sizes, name], "epoch_seconds") if results["bigger"].get((sizes, name))
                    else None for name in ("torch", "torch-1thread"))
        shown = " | ".join("not run (--quick)" if value is None else f"{value:.3f}" for value in (two, one))
        faster = min(value for value in (two, one) if value is not None)
        print(f"| {'-'.join(map(str, sizes))} | {mine:.3f} | {shown} | {faster / mine:.2f}x |")
    print(f"\nSame job otherwise (sigmoid hidden, softmax, Adam, batch 32), {max(2, args.epochs // 2)} epochs per run.")
