"""The `digitnet` command: argument parsing and printing only; the work is in the library modules."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .cli_interop import COMMANDS as INTEROP_COMMANDS, add_interop_commands
from .cli_sweep import add_sweep_command, command_sweep
from .console import ArgumentParser, escaping_output, json_line, run_command, values_that_look_like_flags
from .errors import DigitnetError, printable

DEFAULT_OUT = "model.safetensors"

DESCRIPTION = """\
digitnet: the neural network of 3Blue1Brown's "But what is a neural network?".

784 input neurons hold a 28x28 image's pixel brightness (0.0 black to 1.0 white); two hidden
layers of 16 neurons; 10 output neurons, one per digit; the brightest output is the guess. Each
layer computes a' = sigmoid(W a + b). It learns W and b from MNIST's labelled examples by
gradient descent, with backpropagation. MNIST ships inside digitnet, and so does a trained model.
"""

EPILOG = """\
examples:
  digitnet train                      train the video's 784-16-16-10 network, print test accuracy
  digitnet train --layers 100 --activation relu --out relu100.safetensors
  digitnet evaluate model.safetensors accuracy per digit and the confusion matrix
  digitnet predict my_digit.png       what the shipped model sees in your image
  digitnet info                       the shipped model's layers and training
  digitnet serve --open               draw a digit in your browser and watch the network think
  digitnet plot weights               each hidden neuron's weights as a 28x28 picture
  digitnet dream 3                    the input that excites the "3" neuron most
  digitnet compare                    16-16 against other structures, side by side

run `digitnet COMMAND --help` for each command's options.
"""


MODEL_HELP = "a shipped model by name, video (the default), record or strong, or a model file"


def _model_argument(parser, help_text=MODEL_HELP):
    parser.add_argument("model", nargs="?", metavar="MODEL", help=help_text)
    parser.add_argument("--model", dest="model_option", metavar="MODEL", help="the same as MODEL")


def _load(name_or_path: str | None, purpose: str | None = None):
    """The model named (video, record, strong) or at a path (default: the shipped video network); with
    `purpose` (a command's name), refused in one line unless it reads 28x28 images and answers 10 digits."""
    from .modelfile import check_reads_digits, load_model, resolve_model_path
    model = load_model(resolve_model_path(name_or_path))
    return check_reads_digits(model, f"`digitnet {purpose}`") if purpose else model


def build_parser() -> argparse.ArgumentParser:
    from .network import ACTIVATIONS, OUTPUTS
    from .recipes import RECIPES
    from .training import COSTS, OPTIMIZERS, TrainingSettings

    defaults = TrainingSettings()
    parser = ArgumentParser(prog="digitnet", description=DESCRIPTION, epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"digitnet {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = commands.add_parser(
        "train", help="learn the weights and biases from MNIST by gradient descent",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Learn every weight and bias from labelled examples. Each step shows the network a "
                    "mini-batch of images, measures the cost (how wrong its outputs are), and nudges all "
                    "13,002 numbers downhill along the negative gradient that backpropagation computes. "
                    "The last 10,000 training images are held out to pick the best epoch; the test set "
                    "is only used for the final accuracy.")
    train.add_argument("--layers", type=int, nargs="*", default=[16, 16], metavar="N",
                       help="hidden layer sizes (the video's is 16 16); give none for no hidden layer")
    train.add_argument("--activation", choices=list(ACTIVATIONS), default="sigmoid",
                       help="the hidden layers' squish: sigmoid (the video's) or relu, max(0, z), or tanh")
    train.add_argument("--output", choices=list(OUTPUTS), default="softmax",
                       help="the output layer: softmax (probabilities summing to 1) or sigmoid (the video's)")
    train.add_argument("--cost", choices=list(COSTS), default=defaults.cost,
                       help="cross_entropy, or quadratic: the sum of squared differences the video uses")
    train.add_argument("--optimizer", choices=list(OPTIMIZERS), default=defaults.optimizer,
                       help="how to step downhill: adam, momentum (SGD with momentum) or plain sgd")
    train.add_argument("--epochs", type=int, default=defaults.epochs, help="passes over the training images")
    train.add_argument("--batch-size", type=int, default=defaults.batch_size, help="examples per gradient step")
    train.add_argument("--learning-rate", type=float, default=defaults.learning_rate, help="step size")
    train.add_argument("--momentum", type=float, default=defaults.momentum, help="momentum, for --optimizer momentum")
    train.add_argument("--weight-decay", type=float, default=defaults.weight_decay, help="L2 penalty on the weights")
    train.add_argument("--shift-pixels", type=int, default=defaults.shift_pixels,
                       help="each epoch, move every training image by up to N pixels (0 turns it off): "
                            "a digit moved a little is the same digit")
    train.add_argument("--deskew", action="store_true",
                       help="take each digit's slant out before it is learnt (deskew.py); the model then "
                            "deskews whatever it is shown, everywhere (worth about a point for 16-16)")
    train.add_argument("--seed", type=int, default=defaults.seed,
                       help="random seed for the initial weights and the shuffling; same seed, same model")
    train.add_argument("--data", metavar="DIR", help="folder of IDX files laid out like MNIST "
                       "(e.g. Fashion-MNIST) instead of the shipped MNIST")
    train.add_argument("--recipe", choices=list(RECIPES), help="train a shipped model's recipe (structure and "
                       "settings, see recipes.py): " + "; ".join(f"{r.name}: {r.summary}" for r in RECIPES.values())
                       + ". --epochs, --seed, --deskew and --data still apply")
    train.add_argument("--out", default=DEFAULT_OUT, metavar="FILE", help="where to save the model")
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    evaluate = commands.add_parser("evaluate", help="test accuracy, per digit, and the confusion matrix",
                                   description="Run the 10,000 MNIST test images (never used in training) "
                                               "through a model and count its right and wrong guesses.")
    _model_argument(evaluate)
    evaluate.add_argument("--data", metavar="DIR", help="IDX folder laid out like MNIST (default: shipped MNIST)")

    predict = commands.add_parser(
        "predict", help="recognize the digit in your own images",
        description="Each image (PNG, JPEG, BMP, GIF; any size; dark ink on light paper or the reverse) is "
                    "turned into the 784 inputs the way MNIST was made: grayscale, cropped to the ink, "
                    "scaled into 20x20 and centred by its centre of mass in 28x28. The brightest of the "
                    "10 output neurons is the guess; confidence is its share of the outputs.")
    predict.add_argument("images", nargs="+", metavar="IMAGE")
    predict.add_argument("--model", metavar="MODEL", help=MODEL_HELP)
    predict.add_argument("--json", action="store_true", help="one JSON object per line")

    info = commands.add_parser("info", help="a model's layers, weight and bias counts, and training",
                               description="Show a model's structure layer by layer, as the video counts it: each layer's "
                                           "neurons and squish, its weight matrix W (one row per neuron of "
                                           "the layer, one column per neuron of the layer before) and bias "
                                           "vector b, and the total number of weights and biases (13,002 "
                                           "for the video's 784-16-16-10). Then how it was trained: the "
                                           "settings, epochs, validation and test accuracy, and the data.")
    _model_argument(info)

    serve = commands.add_parser(
        "serve", help="open the explorer: draw a digit and watch the network think",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Start a local web page where you draw a digit and watch it light up the network layer "
                    "by layer, as in the video: the 28x28 input the network sees, each hidden neuron's "
                    "brightness, the strongest green (positive) and red (negative) connections, the 10 "
                    "outputs. Click a neuron for its weights, bias, weighted sum and activation; open the "
                    "matrix view for W a + b with the real numbers. Everything is served locally, offline.")
    serve.add_argument("--model", metavar="MODEL", help=MODEL_HELP)
    serve.add_argument("--models-dir", metavar="DIR",
                       help="folder of .safetensors models to switch between in the page, where the page's Train "
                            "panel saves what it trains (default: $XDG_DATA_HOME/digitnet/models, i.e. "
                            "~/.local/share/digitnet/models, made when first needed)")
    serve.add_argument("--sweep", action="append", default=[], metavar="FILE",
                       help="a results database of digitnet sweep (--db FILE) to show in the page's Sweeps panel: "
                            "its table, pictures and saved models (repeat for several)")
    serve.add_argument("--no-training", action="store_true",
                       help="turn off the page's Train panel (for a shared or classroom server)")
    serve.add_argument("--max-jobs", type=int, default=1, metavar="N",
                       help="how many networks the page may train at once (each takes a core)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on: loopback (the default) is only this computer; any other "
                            "address (0.0.0.0: every network) needs the token printed in the address at start")
    serve.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                       help="another name the page may be opened by (e.g. a proxy's); others are refused, "
                            "so a web site cannot reach the server by pointing its own name at this computer")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument("--open", action="store_true", help="open the page in your web browser")
    _add_picture_commands(commands)
    add_interop_commands(commands)  # export, import (cli_interop.py)
    add_sweep_command(commands)  # sweep, sweep report (cli_sweep.py)
    return parser


PLOTS = {
    "weights": "each first-layer neuron's 784 weights as a 28x28 picture (green +, red -), with its bias; "
               "--layer 1 or deeper: that layer's weight matrix as a heatmap",
    "training": "loss and train/validation accuracy per epoch, from the history saved in the model",
    "confusion": "the confusion matrix on the 10,000 test images",
    "mistakes": "the test images the network gets wrong most confidently, with truth and guess",
    "activations": "the cascade for one IMAGE: the 28x28 input, each hidden layer lighting up, the outputs",
    "noise": "random noise in, a digit out: the network has no way to say 'not a digit'",
}


def _add_picture_commands(commands) -> None:
    def output_option(parser, default):
        parser.add_argument("--out", default=default, metavar="FILE",
                            help=f"picture to write; .png, .svg or .pdf (default: {default})")

    plot = commands.add_parser("plot", help="pictures of what the network learned (PNG or SVG)",
                               description="Draw what is inside a model. " + " ".join(
                                   f"{name}: {text}." for name, text in PLOTS.items()))
    kinds = plot.add_subparsers(dest="plot", metavar="PICTURE", required=True)
    for name, text in PLOTS.items():
        kind = kinds.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        _model_argument(kind)
        if name == "activations":
            kind.add_argument("image", metavar="IMAGE", help="an image of a digit (PNG, JPEG, BMP, GIF)")
        if name == "weights":
            kind.add_argument("--layer", type=int, default=0,
                              help="0: the first hidden layer's pictures (default); 1, 2, ...: deeper matrices")
        if name == "mistakes":
            kind.add_argument("--count", type=int, default=24, help="how many mistakes to show (default: 24)")
        output_option(kind, f"{name}.png")

    dream = commands.add_parser(
        "dream", help="the input that most excites one output neuron",
        description="Ask the network what it thinks a DIGIT looks like: start from faint noise and climb the "
                    "gradient of that output neuron's weighted sum with respect to the 784 input pixels "
                    "(with a small penalty keeping the pixels modest). The answer is rarely a digit a person "
                    "would draw, which says something about what the hidden layers really learned.")
    dream.add_argument("digit", type=int, choices=range(10), metavar="DIGIT", help="0-9")
    _model_argument(dream)
    dream.add_argument("--steps", type=int, default=300, help="gradient ascent steps (default: 300)")
    output_option(dream, "dream.png")

    explain = commands.add_parser(
        "explain", help="which pixels pushed the answer up or down",
        description="For one IMAGE, color each pixel by gradient x input: green where the ink pushed the "
                    "guessed digit's output up, red where it pushed it down; and the same for the guess "
                    "against the runner-up.")
    explain.add_argument("image", metavar="IMAGE", help="an image of a digit (PNG, JPEG, BMP, GIF)")
    _model_argument(explain)
    explain.add_argument("--digit", type=int, choices=range(10), metavar="DIGIT",
                         help="explain this digit's output instead of the guess")
    output_option(explain, "explain.png")

    compare = commands.add_parser(
        "compare", help="train several structures side by side and compare them",
        description="The video chose two hidden layers of 16 'somewhat arbitrarily'. This trains the video's "
                    "16-16 sigmoid network, 16-16 ReLU, 30 hidden, 100 hidden and 300-100 on the same data "
                    "with the same seed and settings, in parallel processes, then prints test accuracy, "
                    "weights and biases and training time, and draws their validation curves.")
    compare.add_argument("--epochs", type=int, default=10, help="epochs for each structure (default: 10)")
    compare.add_argument("--jobs", type=int, default=2, help="parallel trainings (default: 2, one per core)")
    compare.add_argument("--seed", type=int, default=0, help="the one seed all structures share (default: 0)")
    compare.add_argument("--data", metavar="DIR", help="IDX folder laid out like MNIST (default: shipped MNIST)")
    output_option(compare, "compare.png")


def training_plan(args):
    """Every check of `digitnet train`'s arguments that needs no data, before anything is loaded:
    the settings, the layer sizes against the shared limits, --out (writable, room for the model)
    and memory. Returns (settings, layer_sizes, out); raises DigitnetError (one line)."""
    from .files import check_writable
    from .training import TrainingSettings, check_training_memory
    from .validation import Sizes, check_parameters, parameter_count

    settings = TrainingSettings(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
                                optimizer=args.optimizer, momentum=args.momentum, cost=args.cost,
                                weight_decay=args.weight_decay, shift_pixels=args.shift_pixels,
                                seed=args.seed, deskew=args.deskew)
    layer_sizes = (784, *args.layers, 10)
    check_parameters("--layers", {"layer_sizes": Sizes()}, layer_sizes=layer_sizes)
    # A wrong --out should not cost the run. float32 weights and biases, and the metadata (the
    # history grows by ~150 bytes an epoch).
    model_bytes = parameter_count(layer_sizes) * 4 + 4096 + 200 * settings.epochs
    out = check_writable(args.out, "model", size=model_bytes)
    check_training_memory(layer_sizes, settings)
    return settings, layer_sizes, out


def _apply_recipe(args):
    """With --recipe NAME, the recipe (recipes.py) whose structure now stands in args; else None."""
    if getattr(args, "recipe", None) is None:
        return None
    from .recipes import recipe_named
    recipe = recipe_named(args.recipe)
    args.layers, args.activation, args.output = list(recipe.hidden_layers), recipe.activation, recipe.output
    return recipe


def command_train(args) -> int:
    from tqdm import tqdm

    from .data import load_dataset
    from .evaluation import evaluate
    from .modelfile import save_model_or_rescue
    from .network import Network
    from .training import check_fits, seen_by, train, training_metadata

    recipe = _apply_recipe(args)  # --recipe NAME: its structure now, its settings below
    settings, layer_sizes, out = training_plan(args)
    if recipe is not None:  # the recipe's settings; an --epochs or --seed given changes them
        from dataclasses import replace

        from .training import TrainingSettings
        defaults = TrainingSettings()
        settings = replace(recipe.settings, **{key: getattr(args, key) for key in ("epochs", "seed")
                                               if getattr(args, key) != getattr(defaults, key)})
        if args.deskew:  # a flag that is off by default: given, it applies to any recipe
            settings = replace(settings, deskew=True)
    dataset = load_dataset(args.data)
    network = Network(layer_sizes, args.activation, args.output, seed=args.seed)
    check_fits(network, dataset, settings)
    print(f"training {network.describe()}", file=sys.stderr)
    print(f"on {len(dataset.train_labels):,} images from {dataset.source}, "
          f"validating on {len(dataset.validation_labels):,}", file=sys.stderr)
    bar = None

    def on_batch(epoch, done, total, loss):
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=f"epoch {epoch}/{settings.epochs}", unit="batch", leave=False,
                       disable=args.quiet, file=sys.stderr, dynamic_ncols=True)
        bar.update(done - bar.n)
        bar.set_postfix(loss=f"{loss:.4f}", refresh=False)

    def on_epoch(record):
        nonlocal bar
        if bar is not None:
            bar.close()
            bar = None
        if not args.quiet:
            tqdm.write(f"epoch {record.epoch:3d}/{settings.epochs}  loss {record.loss:.4f}  "
                       f"train {record.train_accuracy:.2%}  validation {record.validation_accuracy:.2%}  "
                       f"{record.seconds:.2f} s", file=sys.stderr)

    result = train(network, dataset, settings, on_batch=on_batch, on_epoch=on_epoch)
    if bar is not None:
        bar.close()
    if not result.history:
        print("stopped before the first epoch finished; nothing saved", file=sys.stderr)
        return 130
    if result.interrupted:
        print(f"interrupted: keeping the best epoch so far ({result.best_epoch})", file=sys.stderr)
    seen = seen_by(dataset, settings)  # deskewed, as in training, if settings.deskew
    test = evaluate(network, seen.test_pixels, seen.test_labels)
    metadata = training_metadata(settings, result, dataset)
    metadata["test_accuracy"] = test.accuracy
    if recipe is not None:
        metadata.update(recipe=recipe.name, recipe_summary=recipe.summary)
    saved, failure = save_model_or_rescue(out, network, metadata)
    print(f"best epoch {result.best_epoch}: validation accuracy "
          f"{result.history[result.best_epoch - 1].validation_accuracy:.2%}; saved to {printable(saved)}", file=sys.stderr)
    print(f"test accuracy: {test.accuracy:.2%} ({test.correct:,} of {test.count:,} test images)")
    if failure is not None:
        raise DigitnetError(f"{failure}; the trained model is safe in {saved}: move it where you want it")
    return 130 if result.interrupted else 0


def command_evaluate(args) -> int:
    from .data import load_dataset
    from .evaluation import evaluate

    model = _load(args.model, "evaluate")
    dataset = model.dataset_for(load_dataset(args.data))  # deskewed if the model learned so
    result = evaluate(model.network, dataset.test_pixels, dataset.test_labels)
    print(f"model: {printable(model.path)}  ({model.network.describe()})")
    print(f"test accuracy: {result.accuracy:.2%} ({result.correct:,} of {result.count:,})")
    print()
    print("digit  accuracy  images")
    for digit, (accuracy, count) in enumerate(zip(result.per_digit_accuracy, result.confusion.sum(axis=1))):
        print(f"{digit:>5}  {accuracy:8.2%}  {count:6,}")
    print()
    print("confusion matrix (rows: true digit, columns: the network's guess)")
    print("      " + "".join(f"{g:>6}" for g in range(10)))
    for true, row in enumerate(result.confusion):
        print(f"{true:>5} " + "".join(f"{c:>6}" for c in row))
    return 0


def command_predict(args) -> int:
    import numpy as np

    from .preprocess import to_network_input

    from .familiarity import TrainingDigits, familiarity

    model = _load(args.model, "predict")
    network = model.network
    failures = 0
    training_digits = None  # read once, at the first image that needs it
    for name in args.images:
        try:
            inputs = to_network_input(Path(name), require_one_digit=True)
        except DigitnetError as error:
            failures += 1
            if args.json:
                print(json_line({"file": name, "error": str(error)}))
            else:
                print(f"digitnet predict: error: {printable(error)}", file=sys.stderr)
            continue
        try:
            probabilities = network.predict_probabilities(model.prepare(inputs)[np.newaxis])[0].astype(float)
        except DigitnetError as error:  # the model's fault, not the image's: no image will do better
            raise DigitnetError(f"{printable(model.path)}: {error}") from None
        digit = int(probabilities.argmax())
        training_digits = training_digits or TrainingDigits.shipped()  # as MNIST has them: the raw input
        score, is_far = (float(x[0]) for x in familiarity(inputs, training_digits))
        if args.json:
            print(json_line({"file": name, "digit": digit, "confidence": round(probabilities[digit], 6),
                             "probabilities": [round(p, 6) for p in probabilities],
                             "familiarity": round(score, 4), "unlike_training_digits": bool(is_far)}))
        else:
            warning = (f"  warning: unlike the training digits (distance {score:.1f}x the threshold), "
                       "the answer means little") if is_far else ""
            print(f"{printable(name)}: {digit}  (confidence {probabilities[digit]:.1%}){warning}")
    return 1 if failures else 0


def command_info(args) -> int:
    from .modelfile import history_records, is_number

    model = _load(args.model)
    network, meta = model.network, model.metadata
    # Everything below from `meta` is untrusted text from the file: printed escaped (printable).
    print(f"model: {printable(model.path)}")
    print(f"digitnet {printable(meta.get('digitnet_version', '?'))} model, format version {meta.get('format_version')}")
    print()
    print(f"{'layer':<8}{'neurons':>8}  {'squish':<9}{'weights':>10}{'biases':>8}")
    print(f"{'input':<8}{network.layer_sizes[0]:>8}  {'-':<9}{'-':>10}{'-':>8}")
    for l, (w, b) in enumerate(zip(network.weights, network.biases)):
        last = l == len(network.weights) - 1
        label = "output" if last else f"hidden {l + 1}"
        squish = network.output if last else network.activation
        print(f"{label:<8}{w.shape[0]:>8}  {squish:<9}{w.size:>10,}{b.size:>8,}")
    print(f"total: {network.parameter_count:,} weights and biases")
    # The training record is untrusted JSON from the file: show what has the expected type, skip the rest.
    training = meta.get("training")
    if isinstance(training, dict) and training:
        print()
        print("training: " + printable(", ".join(f"{k}={v}" for k, v in training.items())))
        if isinstance(meta.get("recipe"), str) and isinstance(meta.get("recipe_summary"), str):
            print(f"made by: digitnet train --recipe {printable(meta['recipe'])} ({printable(meta['recipe_summary'])})")
        if model.deskews:
            print("inputs: deskewed (deskew.py): every command and the page take each digit's slant out first")
        history = history_records(meta)
        best = meta.get("best_epoch")
        record = next((r for r in history if r["epoch"] == best), history[-1] if history else None)
        if record is not None:
            seconds = meta.get("training_seconds")
            print(f"epochs run: {len(history)}, best: {record['epoch']} "
                  f"(validation accuracy {record['validation_accuracy']:.2%})"
                  + (f", {seconds:.1f} s of training" if is_number(seconds) else ""))
        if is_number(meta.get("test_accuracy")):
            print(f"test accuracy: {meta['test_accuracy']:.2%}")
        if isinstance(meta.get("data_checksum"), str):
            print(f"data: {printable(meta.get('data_source', '?'))} (sha256 {printable(meta['data_checksum'][:16])}...)")
    return 0


def command_plot(args) -> int:
    from . import plots
    from .modelfile import history_records

    plots.check_picture_target(args.out)  # before anything is read or drawn

    if args.plot == "activations":
        from .preprocess import to_network_input
        inputs = to_network_input(Path(args.image))  # read before the model, so a bad image fails first
    model = _load(args.model, None if args.plot == "training" else f"plot {args.plot}")
    network = model.network
    if args.plot in ("confusion", "mistakes"):
        from .data import load_dataset
        from .evaluation import evaluate
        mnist = model.dataset_for(load_dataset())  # what the network sees: deskewed if it learned so
    if args.plot == "weights":
        path = plots.plot_weights(network, args.out, layer=args.layer)
    elif args.plot == "training":
        path = plots.plot_training(history_records(model.metadata), args.out)
    elif args.plot == "confusion":
        path = plots.plot_confusion(evaluate(network, mnist.test_pixels, mnist.test_labels), args.out)
    elif args.plot == "mistakes":
        path = plots.plot_mistakes(network, mnist.test_images, mnist.test_labels, args.out, count=args.count)
    elif args.plot == "activations":
        path = plots.plot_activations(network, model.prepare(inputs), args.out)
    else:
        path = plots.plot_noise(network, args.out)
    print(f"wrote {printable(path)}")
    return 0


def command_dream(args) -> int:
    from .plots import check_picture_target, plot_dream

    check_picture_target(args.out)

    print(f"wrote {printable(plot_dream(_load(args.model, 'dream').network, args.out, digits=args.digit, steps=args.steps))}")
    return 0


def command_explain(args) -> int:
    from .plots import check_picture_target, plot_explain
    from .preprocess import to_network_input

    check_picture_target(args.out)

    inputs = to_network_input(Path(args.image))
    model = _load(args.model, "explain")
    print(f"wrote {printable(plot_explain(model.network, model.prepare(inputs), args.out, digit=args.digit))}")
    return 0


def command_compare(args) -> int:
    from dataclasses import replace

    from tqdm import tqdm

    from .compare import DEFAULT_SETTINGS, DEFAULT_STRUCTURES, check_jobs, compare, comparison_table
    from .data import load_dataset
    from .plots import plot_comparison

    from .plots import check_picture_target

    settings = replace(DEFAULT_SETTINGS, epochs=args.epochs, seed=args.seed)
    check_jobs(args.jobs)
    check_picture_target(args.out)  # before the trainings, not after them
    dataset = load_dataset(args.data) if args.data else None  # else each worker loads the shipped MNIST
    print(f"training {len(DEFAULT_STRUCTURES)} structures for {args.epochs} epochs each, "
          f"{args.jobs} at a time...", file=sys.stderr)
    with tqdm(total=len(DEFAULT_STRUCTURES), unit="network", file=sys.stderr) as bar:
        def on_done(row):
            bar.update(1)
            tqdm.write(f"  {row.name}: {row.test_accuracy:.2%} test accuracy", file=sys.stderr)
        rows = compare(DEFAULT_STRUCTURES, settings, dataset=dataset, n_jobs=args.jobs, on_done=on_done)
    print(comparison_table(rows))
    print(f"wrote {printable(plot_comparison(rows, args.out))}")
    return 0


def command_serve(args) -> int:
    from .web.server import serve

    from .modelfile import resolve_model_path

    serve(resolve_model_path(args.model) if args.model else None, host=args.host, port=args.port,
          open_browser=args.open, models_dir=args.models_dir, allow_hosts=tuple(args.allow_host),
          training=not args.no_training, max_jobs=args.max_jobs, sweeps=tuple(args.sweep))
    return 0


COMMANDS = {"train": command_train, "evaluate": command_evaluate, "predict": command_predict, "info": command_info,
            "serve": command_serve, "plot": command_plot, "dream": command_dream, "explain": command_explain,
            "compare": command_compare, "sweep": command_sweep, **INTEROP_COMMANDS}


def main(argv=None) -> int:
    escaping_output()
    parser = build_parser()
    args = parser.parse_args(values_that_look_like_flags(list(sys.argv[1:] if argv is None else argv)))
    if args.command is None:
        parser.print_help()
        return 0
    return run_command(args.command, _on_one_blas_thread(_with_model_option(COMMANDS[args.command])), args)


def _on_one_blas_thread(command):
    """The command with BLAS on one thread. digitnet's matrix products are skinny (16 neurons wide for
    the video's network), and OpenBLAS's second thread waiting on them costs more than it gives as
    soon as the machine has other work: 10,000 test images took 92 ms on two threads against 10 ms on
    one, with other processes on the 2 cores (9.7 ms / 4.8 ms for the first layer's product alone).
    (train sets its own, and the explorer's threads would contend with BLAS's.)"""
    def run(args):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return command(args)
    return run


def _with_model_option(command):
    """The command, taking MODEL given as --model too (refused when given both ways)."""
    def run(args):
        if getattr(args, "model_option", None) is not None:
            if args.model is not None:
                raise DigitnetError(f"give the model once, as MODEL or --model, not both "
                                    f"({printable(args.model)}, {printable(args.model_option)})")
            args.model = args.model_option
        return command(args)
    return run


if __name__ == "__main__":
    sys.exit(main())
