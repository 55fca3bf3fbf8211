"""Fuzz the three readers of untrusted bytes for a while; print inputs tried and crashes per target.

A "crash" is any exception other than DigitnetError (the one error a bad file may cause), or a
target that dies (timeout, out of memory). Targets:

  idx     data.read_idx on a file (gzipped or not): the IDX reader
  model   modelfile.load_model on a file: the safetensors header, metadata JSON and tensors
  image   preprocess.to_network_input on bytes: Pillow's decoders and digitnet's preprocessing

Engines: "atheris" (coverage-guided libFuzzer, if `pip install atheris` worked; digitnet and
Pillow are instrumented) or "random" (seeded random mutation of valid files: bit flips, bytes,
"interesting" integers, truncations, insertions of random bytes or format tokens, deletions,
repeats, splices). Each target runs in its own process. Crashing inputs are saved to --out.

    python benchmarks/fuzz.py --seconds 60                 # each target for a minute
    python benchmarks/fuzz.py --targets model --inputs 100000 --engine random --seed 1
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "src"
TARGETS = ("idx", "model", "image")
INTERESTING = [0, 1, 2, 28, 127, 128, 255, 256, 784, 10_000, 65_535, 65_536, 2**31 - 1, 2**31, 2**32 - 1,
               2**53, 2**63 - 1, 2**63, 2**64 - 1]
# Pieces of each format that random bytes would rarely spell (also given to libFuzzer as -dict).
TOKENS = {
    "idx": [b"\x00\x00\x08\x03", b"\x00\x00\x0e\x04", b"\x00\x00\x0d\x01", b"\x1f\x8b\x08\x00", b"\x00\x01\x00\x00"],
    "model": [b'"__metadata__"', b'"digitnet"', b'"dtype"', b'"shape"', b'"data_offsets"', b'"F32"', b'"F64"',
              b'"U8"', b'"BF16"', b'\\"format_version\\"', b'\\"layer_sizes\\"', b'\\"activation\\"',
              b'\\"output\\"', b'\\"history\\"', b"[", b"]", b"{", b"}", b"[[[[[[[[", b"]]]]]]]]", b"null", b"true",
              b"1e999", b"-0", b"NaN", b"\\u0000", b"\\ud800", b"99999999999999999999999", b'\\"sigmoid\\"', b"[]"],
    "image": [b"\x89PNG\r\n\x1a\n", b"IHDR", b"IDAT", b"IEND", b"tRNS", b"zTXt", b"iCCP", b"acTL", b"GIF89a",
              b"NETSCAPE2.0", b"\xff\xd8\xff\xe0", b"\xff\xc0", b"\xff\xda", b"Exif\x00\x00", b"BM", b"II*\x00",
              b"MM\x00*", b"RIFF", b"WEBPVP8L", b"\xff\xff\xff\x7f"],
}


# --- valid files to start from --------------------------------------------------------------------------


def seeds(target: str) -> list[bytes]:
    import numpy as np

    if target == "idx":
        def idx(array, code=0x08):
            header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
            return header + array.astype(array.dtype.newbyteorder(">")).tobytes()
        plain = [idx(np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)), idx(np.arange(10, dtype=np.uint8)),
                 idx(np.arange(12, dtype=np.int16).reshape(3, 4), 0x0B),
                 idx(np.linspace(0, 1, 24, dtype=np.float32).reshape(2, 3, 4), 0x0D),
                 idx(np.arange(16, dtype=np.float64).reshape(2, 2, 2, 2), 0x0E), idx(np.zeros((0, 28, 28), np.uint8))]
        return plain + [gzip.compress(data, mtime=0) for data in plain]
    if target == "model":
        from digitnet.modelfile import save_model
        from digitnet.network import Network
        found = []
        with tempfile.TemporaryDirectory() as folder:
            for number, sizes in enumerate([(784, 2, 10), (784, 10), (784, 1, 1, 10)]):
                path = save_model(Path(folder) / f"{number}.safetensors",
                                  Network(sizes, ("sigmoid", "relu", "tanh")[number], "softmax", seed=number),
                                  {"history": [{"epoch": 1, "validation_accuracy": 0.5}], "best_epoch": 1,
                                   "training": {"epochs": 1}})
                found.append(path.read_bytes())
        return found
    from PIL import Image, ImageDraw
    drawing = Image.new("L", (24, 32), 255)
    ImageDraw.Draw(drawing).line([(4, 4), (20, 4), (9, 28)], fill=0, width=4)
    transparent = Image.new("RGBA", drawing.size, (0, 0, 0, 0))
    transparent.putalpha(Image.eval(drawing, lambda value: 255 - value))
    found = []
    for file_format, picture, params in [
            ("PNG", drawing, {}), ("PNG", transparent, {}), ("PNG", drawing.convert("P"), {"transparency": 0}),
            ("PNG", Image.fromarray(np.asarray(drawing, np.uint16) * 257), {}), ("GIF", drawing.convert("P"), {}),
            ("GIF", drawing.convert("P"), {"save_all": True, "append_images": [drawing.convert("P")]}),
            ("JPEG", drawing, {"quality": 80}), ("JPEG", drawing.convert("CMYK"), {}), ("BMP", drawing.convert("RGB"), {}),
            ("TIFF", drawing, {}), ("TIFF", Image.fromarray(np.asarray(drawing, np.float32) / 255, "F"), {}),
            ("WEBP", drawing, {"lossless": True}), ("ICO", drawing, {})]:
        buffer = io.BytesIO()
        try:
            picture.save(buffer, file_format, **params)
        except (KeyError, OSError):  # a codec this Pillow lacks
            continue
        found.append(buffer.getvalue())
    return found


# --- the targets: one input in, DigitnetError or a result out ---------------------------------------------


def make_target(target: str, scratch: Path):
    """-> a function(bytes) that returns normally or raises DigitnetError; anything else is a crash."""
    if target == "image":
        from digitnet.preprocess import to_network_input
        return to_network_input
    from digitnet.data import read_idx
    from digitnet.modelfile import load_model
    name, read = {"idx": ("fuzz-idx.gz", read_idx), "model": ("fuzz.safetensors", load_model)}[target]
    path = scratch / name

    def run(data: bytes):  # the readers take a path, as users give them
        path.write_bytes(data)
        read(path)
    return run


class Tally:
    """Inputs tried, how each ended, and one example per distinct crash; written to `report` as JSON."""

    def __init__(self, target: str, report: Path, crashes_folder: Path):
        self.target, self.report, self.crashes_folder = target, report, crashes_folder
        self.inputs = self.refused = self.accepted = 0
        self.crashes: dict[str, dict] = {}
        self.started = time.monotonic()

    def run_one(self, run, data: bytes, error_type) -> None:
        self.inputs += 1
        try:
            run(data)
        except error_type:
            self.refused += 1
        except Exception as error:  # the finding: anything but DigitnetError
            self.record(error, data)
        else:
            self.accepted += 1

    def record(self, error: Exception, data: bytes) -> None:
        frames = traceback.extract_tb(error.__traceback__)
        ours = [frame for frame in frames if "digitnet" in frame.filename] or frames
        where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
        signature = f"{type(error).__name__} at {where}"
        entry = self.crashes.setdefault(signature, {"count": 0, "message": str(error)[:200], "example": None})
        entry["count"] += 1
        if entry["example"] is None:
            self.crashes_folder.mkdir(parents=True, exist_ok=True)
            example = self.crashes_folder / f"{self.target}-{len(self.crashes)}-{type(error).__name__}.bin"
            example.write_bytes(data)
            entry["example"] = str(example)

    def write(self) -> None:
        self.report.write_text(json.dumps({
            "target": self.target, "inputs": self.inputs, "refused": self.refused, "accepted": self.accepted,
            "crashes": self.crashes, "seconds": round(time.monotonic() - self.started, 1)}))


# --- engines -------------------------------------------------------------------------------------------


def mutate(rng: random.Random, data: bytes, pool: list[bytes], tokens: list[bytes]) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        end = len(data)
        position = rng.randrange(min(end, 64)) if end and rng.random() < 0.5 else rng.randrange(end + 1)
        operation = rng.randrange(10)
        if operation == 0 and end:
            data[min(position, end - 1)] ^= 1 << rng.randrange(8)
        elif operation == 1 and end:
            data[min(position, end - 1)] = rng.randrange(256)
        elif operation == 2:
            size, order = rng.choice([(4, ">I"), (4, "<I"), (8, "<Q"), (8, ">Q")])
            value = rng.choice([v for v in INTERESTING if v < 2 ** (8 * size)])
            data[position:position + size] = struct.pack(order, value)
        elif operation == 3:
            del data[position:]
        elif operation == 4:
            data[position:position] = rng.randbytes(rng.randint(1, 16))
        elif operation == 5 and tokens:
            data[position:position] = rng.choice(tokens)
        elif operation == 6:
            del data[position:position + rng.randint(1, 32)]
        elif operation == 7:
            data[position:position] = data[position:position + rng.randint(1, 64)] * rng.randint(1, 4)
        elif operation == 8:
            other = rng.choice(pool)
            cut = rng.randrange(len(other) + 1)
            data[position:] = other[cut:]
        elif operation == 9 and tokens and end:
            token = rng.choice(tokens)
            data[position:position + len(token)] = token
    return bytes(data)


def run_random(target: str, tally: Tally, inputs: int, seconds: float, seed: int) -> None:
    from digitnet.errors import DigitnetError
    rng = random.Random(f"{seed}-{target}")
    pool = seeds(target)
    tokens = TOKENS[target]
    with tempfile.TemporaryDirectory() as scratch:
        run = make_target(target, Path(scratch))
        tally.started = time.monotonic()
        deadline = tally.started + seconds
        next_report = 0
        while tally.inputs < inputs and time.monotonic() < deadline:
            if rng.random() < 0.05:
                data = rng.randbytes(rng.randint(0, 300))
            else:
                data = mutate(rng, rng.choice(pool), pool, tokens)
            tally.run_one(run, data, DigitnetError)
            if tally.inputs >= next_report:
                tally.write()
                next_report += 2_000
    tally.write()


def run_atheris(target: str, tally: Tally, inputs: int, seconds: float, seed: int) -> None:
    import atheris

    with atheris.instrument_imports(include=["digitnet", "PIL"]):
        from PIL import Image
        Image.init()  # import every Pillow plugin now, while instrumenting
        import digitnet.data  # noqa: F401
        import digitnet.modelfile  # noqa: F401
        import digitnet.preprocess  # noqa: F401
        from digitnet.errors import DigitnetError
    scratch = Path(tempfile.mkdtemp(prefix="digitnet-fuzz-"))
    corpus = scratch / "corpus"
    corpus.mkdir()
    for number, data in enumerate(seeds(target)):
        (corpus / f"seed-{number}").write_bytes(data)
    dictionary = scratch / "tokens.dict"
    dictionary.write_text("".join('"' + "".join(f"\\x{byte:02x}" for byte in token) + '"\n'
                                  for token in TOKENS[target]))
    run = make_target(target, scratch)
    tally.started = time.monotonic()  # the clock starts now, after instrumenting and the seeds
    deadline = tally.started + seconds

    def test_one_input(data: bytes) -> None:
        tally.run_one(run, data, DigitnetError)
        if tally.inputs % 2_000 == 0:
            tally.write()
        if tally.inputs >= inputs or time.monotonic() >= deadline:
            tally.write()
            shutil.rmtree(scratch, ignore_errors=True)
            os._exit(0)  # libFuzzer never returns; stop here with the report written

    atheris.Setup([sys.argv[0], str(corpus), f"-dict={dictionary}", "-max_len=20000", "-timeout=30",
                   "-rss_limit_mb=3000", f"-seed={seed + 1}", f"-max_total_time={int(seconds) + 60}"],
                  test_one_input)
    atheris.Fuzz()


# --- the driver ------------------------------------------------------------------------------------------


def child(args) -> None:
    sys.path.insert(0, args.source)
    tally = Tally(args.child, Path(args.report), Path(args.out))
    engine = run_atheris if args.engine == "atheris" else run_random
    engine(args.child, tally, args.inputs, args.seconds, args.seed)


def engine_available(name: str) -> bool:
    if name != "atheris":
        return True
    try:
        import atheris  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--targets", nargs="+", choices=TARGETS, default=list(TARGETS), help="what to fuzz")
    parser.add_argument("--seconds", type=float, default=60.0, help="time per target")
    parser.add_argument("--inputs", type=int, default=10**9, help="inputs per target (whichever limit comes first)")
    parser.add_argument("--engine", choices=["auto", "atheris", "random"], default="auto",
                        help="auto: atheris if installed, else random")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same inputs with --engine random)")
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "digitnet-fuzz-crashes"),
                        help="folder for inputs that crashed a target")
    parser.add_argument("--source", default=str(SOURCE), help="the digitnet source folder to fuzz")
    parser.add_argument("--child", choices=TARGETS, help=argparse.SUPPRESS)
    parser.add_argument("--report", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.engine == "auto":
        args.engine = "atheris" if engine_available("atheris") else "random"
    if args.child:
        child(args)
        return 0
    print(f"fuzzing {', '.join(args.targets)} of {args.source} with {args.engine}, seed {args.seed}, "
          f"up to {args.seconds:g} s or {args.inputs:,} inputs each")
    total_crashes = 0
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    for target in args.targets:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
            report = Path(handle.name)
        command = [sys.executable, __file__, "--child", target, "--report", str(report), "--engine", args.engine,
                   "--seconds", str(args.seconds), "--inputs", str(args.inputs), "--seed", str(args.seed),
                   "--out", args.out, "--source", args.source]
        result = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        tally = json.loads(report.read_text() or "{}") if report.stat().st_size else {}
        report.unlink()
        crashes = sum(entry["count"] for entry in tally.get("crashes", {}).values())
        if result.returncode != 0:  # the process itself died: a timeout, out of memory, a hard crash
            crashes += 1
            tally.setdefault("crashes", {})[f"process exited with {result.returncode}"] = {
                "count": 1, "message": result.stderr.strip().splitlines()[-1:] or [""], "example": None}
        total_crashes += crashes
        inputs, seconds = tally.get("inputs", 0), tally.get("seconds", 0) or 1
        print(f"{target:>5}: {inputs:>10,} inputs in {seconds:.0f} s ({inputs / seconds:,.0f}/s): "
              f"{tally.get('refused', 0):,} refused with DigitnetError, {tally.get('accepted', 0):,} accepted, "
              f"{crashes} crashes")
        for signature, entry in tally.get("crashes", {}).items():
            print(f"       {entry['count']:,} x {signature}: {entry['message']}  (example: {entry['example']})")
    print(f"total crashes (exceptions other than DigitnetError): {total_crashes}")
    return 1 if total_crashes else 0


if __name__ == "__main__":
    sys.exit(main())
