"""The command line's arguments, fuzzed: hypothesis writes argument lists (any command, any flag, any
value: numbers of every spelling, -inf, NaN, huge, negative, text with newlines and escape
sequences, empty strings, unknown flags), and every one is either accepted or answered in one line,
with no traceback. For `train`, accepted arguments go on through every check `train` makes before
it loads data (`cli.training_plan`: the settings, the layer limits, --out, memory).

The counts of a run are printed (`pytest -s tests/test_fuzz_cli.py`) and are the README's figures.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digitnet import cli
from digitnet.console import values_that_look_like_flags
from digitnet.errors import DigitnetError, printable

OUT_FOLDER = tempfile.TemporaryDirectory(prefix="digitnet-fuzz-cli-")

EXAMPLES = 2000  # argument lists per run

# The flags each command takes (from the parser itself, so a new flag is fuzzed too), without the
# ones that print multi-line help or the version by design.
PARSER = cli.build_parser()


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps its sub-parsers here; there is no public way
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


COMMANDS = _subparsers(PARSER)
FLAGS = {name: sorted({option for action in sub._actions for option in action.option_strings
                       if option not in ("-h", "--help", "--version")})
         for name, sub in COMMANDS.items()}
FLAGS["plot"] = []  # plot's work is in its own sub-commands
PICTURES = sorted(_subparsers(COMMANDS["plot"]))

NUMBERS = st.one_of(
    st.integers(-10**30, 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["-inf", "-Infinity", "inf", "nan", "-nan", "NaN", "1e400", "-1e400", "0x10", "1_000",
                     " 3", "3 ", "", "-", "--", "-0", "0.0", "1e-320", "٣", "⅓", "1,5"]),
)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)  # argv cannot hold lone surrogates
PLAUSIBLE = st.sampled_from(["16", "1", "2", "0", "-1", "0.01", "1e-3", "relu", "adam", "sgd", "softmax", "sigmoid",
                             "quadratic", "constant", "x.png", "model.safetensors"])
VALUES = st.one_of(PLAUSIBLE, NUMBERS, TEXT)


@st.composite
def argument_lists(draw) -> list[str]:
    command = draw(st.sampled_from(sorted(COMMANDS) * 2 + ["train"] * 6 + ["trian", "", "-x", "--layers"]))
    args = [command]
    if command == "plot":
        args.append(draw(st.sampled_from(PICTURES + ["nonsense"])))
    flags = FLAGS.get(command, []) + ["--nonsense", "-q", "--epoch", "--out="]
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.integers(0, 19))
        if kind < 16 and flags:  # mostly a flag with one value, often a plausible one
            args.append(draw(st.sampled_from(flags)))
            args += draw(st.lists(PLAUSIBLE, min_size=1, max_size=1) if kind < 10 else st.lists(VALUES, max_size=2))
        elif kind < 18:
            args.append(draw(VALUES))
        else:
            args.append(f"{draw(st.sampled_from(flags or ['--x']))}={draw(VALUES)}")
    return [a for a in args if "\0" not in a]  # exec cannot pass a NUL byte


def answer(argv: list[str]) -> tuple[str, str]:
    """What the CLI's argument handling makes of `argv`: ("accepted", "") or ("refused", its stderr).
    Parsing as main() does; for train, every check made before the data is loaded."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            args = PARSER.parse_args(values_that_look_like_flags(argv))  # reusable: it keeps no state
            if getattr(args, "command", None) == "train":
                args.out = str(Path(OUT_FOLDER.name) / args.out)  # checked there, never written
                cli.training_plan(args)
        except SystemExit as exit_:
            if exit_.code == 0:
                return "accepted", ""
            return "refused by the parser", stderr.getvalue()
        except DigitnetError as error:  # as main() prints it
            return "refused by train's checks", f"digitnet train: error: {printable(error)}\n"
    return "accepted", ""


def test_every_argument_list_is_accepted_or_refused_in_one_line():
    tally = Counter()

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(argument_lists())
    def check(argv):
        outcome, stderr = answer(argv)  # any other exception than these fails the test: a traceback
        tally["cases tried"] += 1
        tally[outcome] += 1
        if outcome.startswith("refused"):
            assert stderr.count("\n") == 1 and stderr.endswith("\n"), (argv, stderr)
            assert stderr.startswith("digitnet") and ": error: " in stderr, (argv, stderr)
            assert stderr.isprintable() or stderr[:-1].isprintable(), (argv, stderr)  # escaped
            tally["answered in one line"] += 1

    check()
    print(f"\nCLI argument fuzz: {dict(tally)}")
    assert tally["cases tried"] >= EXAMPLES * 0.9
    refused = tally["refused by the parser"] + tally["refused by train's checks"]
    assert refused == tally["answered in one line"] and tally["accepted"] > 0
    assert tally["refused by the parser"] > 0 and tally["refused by train's checks"] > 0
