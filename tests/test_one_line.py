"""Every user mistake and every operating-system error is one line, as classes: every command that
writes a file under every way a write fails, every command that reads a model under every way a
read fails, every command printing to a full device or an ASCII-only terminal, every command given
a model it cannot use. One line naming the file, no traceback, nothing half-written, nothing lost.

Writes run the real command as a subprocess, in real conditions: a full tmpfs, a read-only mount
(both need `mount`, so skipped where it is not allowed), a file-size limit (`ulimit -f`), a folder
the user may not write or enter (as root: without the capabilities that override permissions), a
name too long, a
device, a FIFO.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitnet import cli, files
from digitnet.data import load_dataset
from digitnet.modelfile import default_model_path, load_model, save_model
from digitnet.network import Network
from helpers import digitnet_env, run_digitnet, write_idx_set

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux mounts, users and devices")


def one_error_line(stderr: str, *fragments: str) -> str:
    """The one `digitnet ...: error: ...` line of stderr (progress lines may come before it)."""
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, stderr
    other = [line for line in stderr.splitlines() if line not in errors]
    assert all(line.startswith(("training ", "on ", "best epoch", "epoch ")) for line in other), stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


# ---- a shared workspace: a tiny IDX set, an image, a matplotlib font cache -----------------------------


@pytest.fixture(scope="module")
def workspace():
    root = Path(tempfile.mkdtemp(prefix="digitnet-one-line-"))
    os.chmod(root, 0o755)
    data = write_idx_set(root / "idx", n_train=10_100, n_test=10, gzipped=False)
    seven = (load_dataset().test_images[0].reshape(28, 28) * 255).astype(np.uint8)
    Image.fromarray(seven).save(root / "seven.png")
    mpl = root / "mpl"  # matplotlib's font cache, built once, so no child has to write one
    mpl.mkdir()
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env={**os.environ, "MPLCONFIGDIR": str(mpl)},
                   check=True, timeout=120)
    for path in [root, *root.rglob("*")]:
        os.chmod(path, 0o777 if path.is_dir() else 0o666)
    yield {"root": root, "data": data, "seven": root / "seven.png", "mpl": mpl}
    shutil.rmtree(root, ignore_errors=True)


# Each command that writes a file, with the file (TARGET) it writes.
WRITERS = {
    "train": ["train", "--layers", "4", "--epochs", "1", "--quiet", "--data", "{data}", "--out", "TARGET"],
    "plot weights": ["plot", "weights", "--out", "TARGET"],
    "dream": ["dream", "3", "--steps", "3", "--out", "TARGET"],
    "explain": ["explain", "{seven}", "--out", "TARGET"],
}
SUFFIX = {"train": ".safetensors"}


def _mount(folder: Path, options: str) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    return done.returncode == 0


def _fill(folder: Path) -> None:
    """Write a file until the file system is full."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:  # ENOSPC: full
        pass
    finally:
        os.close(fd)


def _without_root_overrides():
    """Make the child subject to file permissions even as root: drop CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH from the capability bounding set before exec (root's new program then never
    gets them), as a container without those capabilities runs."""
    if os.getuid() == 0:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _with_file_size_limit():
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))


class Place:
    """Where a command's output goes, and how the command is run there."""

    def __init__(self, folder: Path, name: str, preexec=None, mounted: bool = False):
        self.folder, self.name, self.preexec, self.mounted = folder, name, preexec, mounted

    @property
    def target(self) -> Path:
        return self.folder / self.name


PLACES = ["full disk", "file-size limit", "read-only mount", "no permission", "folder not enterable",
          "name too long", "a device", "a FIFO", "a folder"]


@pytest.fixture
def place(request, workspace):
    kind, writer = request.param
    base = Path(tempfile.mkdtemp(dir=workspace["root"]))
    os.chmod(base, 0o777)
    name = "out" + SUFFIX.get(writer, ".png")
    made = None
    if kind == "full disk":
        if not _mount(base / "disk", "size=256k,mode=1777"):
            pytest.skip("cannot mount a tmpfs here")
        _fill(base / "disk")
        made = Place(base / "disk", name, mounted=True)
    elif kind == "read-only mount":
        if not _mount(base / "disk", "size=256k,ro"):
            pytest.skip("cannot mount a tmpfs here")
        made = Place(base / "disk", name, mounted=True)
    elif kind == "file-size limit":
        made = Place(base, name, preexec=_with_file_size_limit)
    elif kind == "no permission":
        os.chmod(base, 0o555)
        made = Place(base, name, preexec=_without_root_overrides)
    elif kind == "folder not enterable":
        locked = base / "locked"
        locked.mkdir()
        (locked / "inside").mkdir()
        os.chmod(locked, 0o666)  # readable, but without x nothing inside can be reached
        made = Place(locked / "inside", name, preexec=_without_root_overrides)
    elif kind == "name too long":
        made = Place(base, "n" * 256 + name)
    elif kind == "a device":
        made = Place(Path("/dev"), "null")
    elif kind == "a FIFO":
        os.mkfifo(base / name)
        made = Place(base, name)
    elif kind == "a folder":
        (base / name).mkdir()
        made = Place(base, name)
    made.kind, made.writer = kind, writer
    yield made
    if made.mounted:
        subprocess.run(["umount", str(made.folder)], check=False)
    for path in [base, *base.rglob("*")]:
        try:
            os.chmod(path, 0o777)
        except OSError:
            pass
    shutil.rmtree(base, ignore_errors=True)


CASES = [(kind, writer) for writer in WRITERS for kind in PLACES]


@pytest.mark.parametrize("place", CASES, indirect=True, ids=[f"{w} | {k}" for k, w in CASES])
def test_every_writer_under_every_write_failure_says_one_line_and_loses_nothing(place, workspace, capsys, monkeypatch):
    writer = place.writer
    args = [place.target if a == "TARGET" else a.format(**workspace) for a in WRITERS[writer]]
    before = os.lstat(place.target) if os.path.lexists(place.target) else None
    cwd = Path(tempfile.mkdtemp(dir=workspace["root"]))
    os.chmod(cwd, 0o777)
    if place.preexec is None:  # the condition is in the file system: cli.main in this process will do
        monkeypatch.chdir(cwd)
        code, _, stderr = run_main(capsys, *args)
    else:  # a limit or lost capabilities of the process itself: the real command in a child
        result = run_digitnet(*args, cwd=cwd, preexec_fn=place.preexec, timeout=240,
                              env=digitnet_env(MPLCONFIGDIR=str(workspace["mpl"])))
        code, stderr = result.returncode, result.stderr
    line = one_error_line(stderr)
    assert code == 1, stderr
    assert str(place.target)[:60] in line or str(place.folder)[:60] in line
    # Nothing half-written: no temp file, and what was at the target is what it was (a device stays one).
    if os.access(place.folder, os.R_OK | os.X_OK):
        assert not [p for p in os.listdir(place.folder) if p.endswith(".tmp")]
    if before is not None:
        after = os.lstat(place.target)
        assert (stat.S_IFMT(after.st_mode), after.st_ino) == (stat.S_IFMT(before.st_mode), before.st_ino)
    if writer == "train" and "trained model is safe in" in line:
        rescued = Path(line.split("trained model is safe in ")[1].split(": move it")[0])
        assert load_model(rescued).network.layer_sizes == (784, 4, 10)  # the run is not lost
    shutil.rmtree(cwd, ignore_errors=True)


def test_a_disk_that_fills_during_training_keeps_the_run_in_the_working_folder(workspace):
    base = Path(tempfile.mkdtemp(dir=workspace["root"]))
    disk, cwd = base / "disk", base / "work"
    cwd.mkdir()
    if not _mount(disk, "size=48m"):
        pytest.skip("cannot mount a tmpfs here")
    try:
        target = disk / "model.safetensors"
        # Wide layers: each epoch takes long enough (~1 s here) to stop the process between two.
        process = subprocess.Popen(
            [sys.executable, "-m", "digitnet.cli", "train", "--layers", "1500", "1500", "--epochs", "3", "--data",
             str(workspace["data"]), "--out", str(target)],
            cwd=cwd, env=digitnet_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = []
        for line in iter(process.stderr.readline, ""):  # --out was checked (room enough), epoch 1 is done
            lines.append(line)
            if "epoch   1/3" in line:
                break
        process.send_signal(signal.SIGSTOP)
        _fill(disk)  # now the disk fills, two epochs before the save at the end
        assert not target.exists()
        process.send_signal(signal.SIGCONT)
        _, rest = process.communicate(timeout=240)
        stderr = "".join(lines) + rest
        line = one_error_line(stderr, str(target), "No space left on device", "trained model is safe in")
        assert process.returncode == 1
        rescued = Path(line.split("trained model is safe in ")[1].split(": move it")[0])
        assert rescued.parent == cwd and load_model(rescued).metadata["best_epoch"] in (1, 2, 3)
        assert sorted(os.listdir(disk)) == ["filler"]  # no temp file left on the full disk
    finally:
        subprocess.run(["umount", str(disk)], check=False)
        shutil.rmtree(base, ignore_errors=True)


# ---- in process: every reader under every way a read fails ------------------------------------------


def run_main(capsys, *args) -> tuple[int, str, str]:
    """cli.main as the command runs it; argparse's exit (status 2) counts as a return."""
    try:
        code = cli.main([str(a) for a in args])
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


MODEL_READERS = {
    "info": ["info", "MODEL"],
    "evaluate": ["evaluate", "MODEL"],
    "predict": ["predict", "--model", "MODEL", "{seven}"],
    "plot weights": ["plot", "weights", "MODEL", "--out", "{out}/w.png"],
    "plot confusion": ["plot", "confusion", "MODEL", "--out", "{out}/c.png"],
    "dream": ["dream", "3", "MODEL", "--steps", "2", "--out", "{out}/d.png"],
    "explain": ["explain", "{seven}", "MODEL", "--out", "{out}/e.png"],
}
IMAGE_READERS = {
    "predict": ["predict", "IMAGE"],
    "predict --json": ["predict", "--json", "IMAGE"],
    "explain": ["explain", "IMAGE", "--out", "{out}/e.png"],
    "plot activations": ["plot", "activations", "IMAGE", "--out", "{out}/a.png"],
}


def _broken_sources(folder: Path) -> dict[str, Path]:
    """Each way a path can fail to be read, as a real path."""
    (folder / "a-folder").mkdir()
    os.mkfifo(folder / "no-writer.fifo")
    (folder / "loop").symlink_to(folder / "loop")
    (folder / "text.bin").write_bytes(b"neither a model nor an image\n")
    (folder / "empty").write_bytes(b"")
    return {"missing": folder / "missing", "a folder": folder / "a-folder", "FIFO without writer": folder / "no-writer.fifo",
            "endless device": Path("/dev/zero"), "symlink loop": folder / "loop", "not the format": folder / "text.bin",
            "empty": folder / "empty", "name with a newline": folder / "forged\nline", "control characters": folder / "\x1b[31mred"}


READ_KINDS = ["missing", "a folder", "FIFO without writer", "endless device", "symlink loop", "not the format",
              "empty", "name with a newline", "control characters"]
READ_CASES = ([("model", reader, kind) for reader in MODEL_READERS for kind in READ_KINDS]
              + [("image", reader, kind) for reader in IMAGE_READERS for kind in READ_KINDS])


@pytest.mark.parametrize("what, reader, kind", READ_CASES, ids=[f"{w}: {r} | {k}" for w, r, k in READ_CASES])
def test_every_reader_under_every_read_failure_says_one_line(tmp_path, capsys, monkeypatch, workspace, what, reader, kind):
    from digitnet import modelfile, preprocess
    monkeypatch.setattr(files, "FIFO_WAIT_SECONDS", 0.05)  # the FIFO is refused after this wait, not hung on
    monkeypatch.setattr(modelfile, "MAX_MODEL_BYTES", 1 << 20)  # so /dev/zero is refused after 1 MiB
    monkeypatch.setattr(preprocess, "MAX_FILE_BYTES", 1 << 20)
    source = _broken_sources(tmp_path)[kind]
    template = (MODEL_READERS if what == "model" else IMAGE_READERS)[reader]
    placeholder = "MODEL" if what == "model" else "IMAGE"
    args = [source if a == placeholder else a.format(seven=workspace["seven"], out=tmp_path) for a in template]
    code, out, err = run_main(capsys, *args)
    assert code == 1
    lines = [line for line in (out + err).splitlines() if line]
    assert len(lines) == 1, lines
    assert "\x1b" not in out + err  # escape sequences from a name never reach the terminal
    if reader == "predict --json":
        answer = json.loads(out)
        assert set(answer) == {"file", "error"}
    else:
        assert err.startswith(f"digitnet {args[0]}: error: "), err


# ---- models that load but that a command cannot use ---------------------------------------------------


UNUSABLE = {"784-8-20": (784, 8, 20), "784-1": (784, 1), "100-10": (100, 10), "784-16-9": (784, 16, 9)}
USERS = {**MODEL_READERS, "plot mistakes": ["plot", "mistakes", "MODEL", "--out", "{out}/m.png"],
         "plot activations": ["plot", "activations", "MODEL", "{seven}", "--out", "{out}/a.png"],
         "plot noise": ["plot", "noise", "MODEL", "--out", "{out}/n.png"]}
USERS.pop("info")  # info shows any model: that is what it is for
USER_CASES = [(command, model) for command in USERS for model in UNUSABLE]


@pytest.mark.parametrize("command, model", USER_CASES, ids=[f"{c} | {m}" for c, m in USER_CASES])
def test_a_model_a_command_cannot_use_is_one_line_naming_the_file(tmp_path, capsys, workspace, command, model):
    path = save_model(tmp_path / f"{model}.safetensors", Network(UNUSABLE[model], seed=0))
    args = [path if a == "MODEL" else a.format(seven=workspace["seven"], out=tmp_path) for a in USERS[command]]
    code, out, err = run_main(capsys, *args)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and f"{path}: a {model} network" in err and "needs 784 inputs" in err, err


def test_info_shows_a_model_no_other_command_can_use(tmp_path, capsys):
    path = save_model(tmp_path / "odd.safetensors", Network((784, 8, 20), seed=0))
    code, out, _ = run_main(capsys, "info", path)
    assert code == 0 and "total: 6,460 weights and biases" in out


# ---- numbers that overflow -------------------------------------------------------------------------------


def _silent_sigmoid_model(tmp_path) -> Path:
    """Sigmoid outputs that all round to 0 in float32 (every z below -17): their sum is 0."""
    network = Network((784, 16, 10), output="sigmoid", seed=0)
    network.biases[-1][:] = -60.0
    network.biases[-1][7] = -40.0
    return save_model(tmp_path / "silent.safetensors", network)


def _overflowing_model(tmp_path) -> Path:
    """Finite weights, so the file loads, but weighted sums that overflow float32 to infinity."""
    network = Network((784, 16, 10), activation="relu", output="softmax", seed=0)
    network.weights[0][:] = 3e38
    return save_model(tmp_path / "huge.safetensors", network)


def strict_json(line: str):
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")
    return json.loads(line, parse_constant=refuse)


@pytest.mark.parametrize("mode", ["--json", "text"])
def test_outputs_that_round_to_zero_give_a_finite_confidence_and_real_json(tmp_path, capsys, workspace, mode):
    flags = ["--json"] if mode == "--json" else []
    code, out, err = run_main(capsys, "predict", *flags, "--model", _silent_sigmoid_model(tmp_path), workspace["seven"])
    assert code == 0, err
    if mode == "--json":
        answer = strict_json(out)
        assert answer["digit"] == 7 and 0 < answer["confidence"] <= 1
        assert abs(sum(answer["probabilities"]) - 1) < 1e-4
    else:
        assert ": 7  (confidence" in out and "nan" not in out.lower()


@pytest.mark.parametrize("mode", ["--json", "text"])
def test_a_model_whose_sums_overflow_is_one_line_naming_it_never_nan(tmp_path, capsys, workspace, mode):
    flags = ["--json"] if mode == "--json" else []
    path = _overflowing_model(tmp_path)
    code, out, err = run_main(capsys, "predict", *flags, "--model", path, workspace["seven"])
    assert code == 1 and out == "" and err.count("\n") == 1
    assert f"{path}: the network's weighted sums overflow" in err


# ---- argument mistakes -----------------------------------------------------------------------------------


ARGUMENT_MISTAKES = [
    (["train", "--seed", "-1"], "seed must be a whole number"),
    (["train", "--learning-rate", "-inf"], "learning_rate must be a finite number > 0, not -inf"),
    (["train", "--learning-rate", "-nan"], "learning_rate must be a finite number > 0, not nan"),
    (["train", "--learning-rate", "inf"], "learning_rate must be a finite number > 0, not inf"),
    (["train", "--momentum", "-Infinity"], "momentum must be"),
    (["train", "--epochs", "x"], "argument --epochs: invalid int value: 'x'"),
    (["train", "--epochs", "0"], "epochs must be a whole number in [1, 1000000]"),
    (["train", "--layers", "100000"], "each layer is a whole number of 1 to 65,536 neurons"),
    (["train", "--layers", *["8"] * 63], "has 65 layers"),
    (["train", "--layers", "0"], "each layer is a whole number of 1"),
    (["train", "--shift-pixels", "9"], "shift_pixels must be a whole number in [0, 4]"),
    (["train", "--batch-size", "-5"], "batch_size must be"),
    (["trian"], "invalid choice: 'trian'"),
    (["train", "--nonsense"], "unrecognized arguments: --nonsense"),
    (["plot"], "the following arguments are required: PICTURE"),
    (["dream", "12"], "argument DIGIT: invalid choice: 12"),
    (["predict"], "the following arguments are required: IMAGE"),
    (["predict", "--model"], "argument --model: expected one argument"),
    (["serve", "--port", "x"], "argument --port: invalid int value"),
    (["compare", "--jobs", "0"], "jobs must be >= 1"),
    (["train", "--out", "\x1b]0;title\x07.safetensors", "--layers", "100000"], "65,536"),
]


@pytest.mark.parametrize("args, message", ARGUMENT_MISTAKES, ids=[" ".join(a)[:50] for a, _ in ARGUMENT_MISTAKES])
def test_every_argument_mistake_is_one_line(capsys, args, message):
    code, out, err = run_main(capsys, *args)
    assert code in (1, 2) and out == ""
    assert err.count("\n") == 1 and message in err, err
    if code == 2:  # argparse's own: points to the help
        assert err.rstrip().endswith("--help`)")


def test_layers_100000_is_refused_before_any_memory_is_taken(capsys):
    import tracemalloc
    tracemalloc.start()
    try:
        code, _, err = run_main(capsys, "train", "--layers", "100000")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 1 and "100000" in err
    assert peak < 16 << 20  # not the 627 MB of its first layer's weights


# ---- untrusted text: a model's metadata printed escaped --------------------------------------------------


def test_a_models_metadata_cannot_forge_lines_or_send_escape_sequences(tmp_path, capsys):
    forged = {"training": {"epochs": "1\ntest accuracy: 100.00%", "\x1b[2Jseed": "\x1b]0;owned\x07"},
              "data_source": "MNIST\r\ntest accuracy: 100.00%\u202e", "data_checksum": "ab\x1b[5m" + "0" * 60,
              "history": [], "test_accuracy": 0.5}
    path = save_model(tmp_path / "forged.safetensors", Network((784, 4, 10), seed=0), forged)
    code, out, err = run_main(capsys, "info", path)
    assert code == 0, err
    assert "\x1b" not in out and "\r" not in out and "\u202e" not in out
    assert [line for line in out.splitlines() if line.startswith("test accuracy")] == ["test accuracy: 50.00%"]
    assert "epochs=1\\ntest accuracy: 100.00%" in out


def test_a_file_name_cannot_forge_a_line_of_predictions(tmp_path, capsys, workspace):
    forged = tmp_path / "x.png\nfake.png: 3  (confidence 100.0%)"
    shutil.copy(workspace["seven"], forged)
    code, out, _ = run_main(capsys, "predict", forged)
    assert code == 0 and out.count("\n") == 1 and "\\nfake.png" in out


# ---- the output: a full device, an ASCII-only terminal ---------------------------------------------------


PRINTERS = {"info": ["info"], "predict": ["predict", "{seven}"], "predict --json": ["predict", "--json", "{seven}"],
            "evaluate": ["evaluate"], "plot weights": ["plot", "weights", "--out", "{root}/w.png"]}


@pytest.mark.parametrize("printer", PRINTERS)
def test_every_command_printing_to_a_full_device_says_one_line(workspace, printer):
    with open("/dev/full", "w") as full:
        result = run_digitnet(*[a.format(**workspace) for a in PRINTERS[printer]], stdout=full, cwd=workspace["root"],
                              env=digitnet_env(MPLCONFIGDIR=str(workspace["mpl"])))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "cannot write the output: No space left on device" in result.stderr


@pytest.mark.parametrize("printer", ["info", "predict"])
def test_an_ascii_only_terminal_gets_escapes_not_a_traceback(tmp_path, workspace, printer):
    model = save_model(tmp_path / "modèle-٧.safetensors", Network((784, 4, 10), seed=0),
                       {"training": {"note": "Ω"}, "data_source": "données"})
    image = tmp_path / "sept-٧.png"
    shutil.copy(workspace["seven"], image)
    args = ["info", model] if printer == "info" else ["predict", "--model", model, image]
    result = run_digitnet(*args, env=digitnet_env(PYTHONIOENCODING="ascii", LANG="C", LC_ALL="C"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and result.stdout.isascii() and "\\u0667" in result.stdout


# ---- memory: a data set that inflates, a header that claims too much -------------------------------------


def _idx_set_with(folder: Path, images_file: bytes) -> Path:
    write_idx_set(folder, n_train=10_100, n_test=10, gzipped=False)
    (folder / "train-images-idx3-ubyte").unlink()
    (folder / "train-images-idx3-ubyte.gz").write_bytes(images_file)
    return folder


def _gzip_bomb() -> bytes:
    """A gzip of ~250 kB whose IDX header declares 10 images but which inflates to 256 MiB."""
    import zlib
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    header = bytes([0, 0, 8, 3]) + (10).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    body = compressor.compress(header)
    zeros = bytes(1 << 24)
    for _ in range(16):
        body += compressor.compress(zeros)
    return body + compressor.flush()


@pytest.mark.parametrize("kind", ["bomb", "header claims 2.4 GB"])
def test_a_data_folder_that_would_not_fit_is_refused_without_inflating_it(tmp_path, kind):
    import gzip
    import tracemalloc

    from digitnet.errors import DigitnetError
    if kind == "bomb":
        images = _gzip_bomb()
    else:
        images = gzip.compress(bytes([0, 0, 8, 3]) + (3_000_000).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2)
    folder = _idx_set_with(tmp_path / "set", images)
    tracemalloc.start()
    try:
        with pytest.raises(DigitnetError) as caught:
            load_dataset(folder)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "train-images-idx3-ubyte.gz" in str(caught.value) and "\n" not in str(caught.value)
    assert peak < 16 << 20, f"{peak:,} bytes"  # nowhere near the 256 MiB it inflates or the 2.4 GB it claims


def test_a_data_set_beyond_the_memory_limit_is_refused_before_it_is_read(tmp_path):
    # 1.5 GB declared (1.9 million images), 7.5 GB in memory with the float32 copy; the process may
    # have 3 GB (ulimit -v): refused from the header, in one line.
    import gzip
    images = gzip.compress(bytes([0, 0, 8, 3]) + (1_900_000).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2)
    folder = _idx_set_with(tmp_path / "set", images)

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    result = run_digitnet("evaluate", "--data", folder, preexec_fn=limit_memory)
    assert result.returncode == 1
    one_error_line(result.stderr, "train-images-idx3-ubyte.gz", "GB of memory")
