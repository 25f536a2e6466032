"""Command line: `latentlab` opens the app; sub-commands train, inspect, evaluate and sample models.

Heavy modules (torch, Qt) are imported inside the command that needs them, so `latentlab info`
answers without loading torch and the app starts without it. Every error is one line on stderr
and a non-zero exit; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

from ..core.errors import LatentlabError
from ..core.text import first_line, shown_path
from .common import EXIT_CANCELLED, EXIT_ERROR, EXIT_USAGE, join_vector_options
from .density import add_density_parser, cmd_fit_density
from .desktop import add_desktop_parser, cmd_install_desktop
from .directions import add_directions_parser
from .doctor import add_doctor_parser, cmd_doctor
from .import_command import add_import_parser, cmd_import
from .maps import add_map_parser
from .models import cmd_eval, cmd_info, info_dict, info_text
from .pictures import add_class, add_scale, cmd_decode, cmd_manifold, cmd_morph, cmd_sample
from .train import ProgressBar, StopSignals, cmd_data, cmd_presets, cmd_train, epoch_summary

__all__ = [
    "APP_ENVIRONMENT",
    "COMMANDS",
    "EXIT_CANCELLED",
    "EXIT_ERROR",
    "EXIT_USAGE",
    "ProgressBar",
    "StopSignals",
    "build_parser",
    "epoch_summary",
    "info_dict",
    "info_text",
    "main",
]

# Set for the app before numpy loads; a value the user chose is kept. The app's numpy work is one
# small decode per slider move: a multi-threaded BLAS wakes its threads for it, and when they wait
# for a core (a training thread is busy) the decode's p99 goes from 0.3 to 4 ms.
APP_ENVIRONMENT = {"OPENBLAS_NUM_THREADS": "1"}


def open_file_form(words: list[str]) -> list[str]:
    """`latentlab FILE` is `latentlab gui --model FILE`, as a file manager or a user types it."""
    first = next((i for i, w in enumerate(words) if not w.startswith("-")), None)
    if first is None or words[first] in COMMANDS or words[first] in ("help",):
        return words
    if first > 0 and words[first - 1] in ("--model",):  # the value of a top-level option
        return words
    if os.path.exists(words[first]):
        return [*words[:first], "gui", "--model", words[first], *words[first + 1 :]]
    return words


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    words = open_file_form(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(join_vector_options(words))
    _quiet_library_logs(args.debug)
    command = args.command or "gui"
    if args.reset_settings:
        return cmd_reset_settings(args)
    try:
        return COMMANDS[command](args)
    except LatentlabError as exc:
        if args.debug:
            raise
        print(f"latentlab: error: {first_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("latentlab: interrupted", file=sys.stderr)
        return EXIT_CANCELLED
    except BrokenPipeError:  # `latentlab info FILE | head`: the reader left; that is no error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        if args.debug:
            raise
        print(f"latentlab: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _quiet_library_logs(debug: bool) -> None:
    """Library warnings (a skipped data folder...) would add lines to a one-line error.

    Only when nothing configured logging yet (an embedding program or a test runner keeps its
    own); ``--debug`` shows everything.
    """
    import logging

    logging.basicConfig(
        level=logging.DEBUG if debug else logging.ERROR, format="%(name)s: %(message)s"
    )


class Parser(argparse.ArgumentParser):
    """Usage errors in two lines, the problem and where the help is, not the whole usage.

    Sub-command parsers are of this class too (argparse makes them of the parent's class).
    """

    def error(self, message: str) -> NoReturn:
        choices = re.search(r"\(choose from (.*)\)$", message)
        if choices:  # 'a', 'b', 'c' -> a, b, c: the list of commands fits in two lines
            message = message[: choices.start(1)] + choices[1].replace("'", "") + ")"
        if message.startswith("argument COMMAND: invalid choice: "):  # two lines, not three
            word = message.split(": ", 2)[2].split(" (choose from")[0]
            message = f"unknown command {word} (and no such file)"
        self.exit(
            EXIT_USAGE,
            f"{self.prog}: error: {shown_path(message)}\nsee `{self.prog} --help`\n",
        )


def build_parser() -> argparse.ArgumentParser:
    from ..core.vae.config import DEFAULT_PRESET, PRECISIONS

    parser = Parser(
        prog="latentlab",
        description="Explore the latent space of a variational autoencoder (latentlab's own, "
        "or an imported one): the app, and commands for pictures and figures.",
    )
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument(
        "--model", dest="top_model", metavar="FILE", help="model to open in the app"
    )
    parser.add_argument(
        "--reset-settings",
        action="store_true",
        help="remove the app's settings file (window layout, recent models, theme) and exit",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = sub.add_parser("gui", help="open the desktop app (the default)")
    gui.add_argument("--model", metavar="FILE", help="model to open instead of the bundled one")

    train = sub.add_parser("train", help="train a model and save it")
    train.add_argument(
        "--preset",
        default=DEFAULT_PRESET,
        type=_preset_name,
        metavar="NAME",
        help=f"training recipe (default {DEFAULT_PRESET}; `latentlab presets` lists them)",
    )
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--lr", type=float, help="learning rate")
    train.add_argument("--latent-dim", type=int)
    train.add_argument("--kl-weight", type=float, help="beta: weight of the KL term")
    train.add_argument("--likelihood", choices=["gaussian", "bernoulli"])
    train.add_argument("--seed", type=int)
    train.add_argument("--dataset", help="mnist or fashion-mnist")
    _add_data_dir(train)
    train.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    train.add_argument(
        "--precision",
        default="auto",
        choices=PRECISIONS,
        help="the training step's matrix products; auto: bfloat16 where the hardware does it "
        "natively (AVX-512 BF16, AMX, recent GPUs), else float32",
    )
    train.add_argument("--no-download", action="store_true", help="never download the data")
    train.add_argument("--out", required=True, metavar="FILE.safetensors")

    info = sub.add_parser("info", help="validate a model file and show what it holds")
    info.add_argument("file")
    info.add_argument("--json", action="store_true", help="one JSON object on stdout")

    ev = sub.add_parser("eval", help="recompute a model's test metrics from the data")
    ev.add_argument("file")
    _add_data_dir(ev)
    ev.add_argument("--device", default="auto")
    ev.add_argument("--json", action="store_true")
    ev.add_argument(
        "--iwae",
        type=int,
        default=0,
        metavar="K",
        help="also estimate the test negative log-likelihood with K importance samples (IWAE, "
        "up to 5,000; a conditional model's class is marginalised out)",
    )
    ev.add_argument(
        "--binarized",
        action="store_true",
        help="with --iwae: dynamically binarised test images (Burda et al.), the protocol of "
        "published binarised-MNIST likelihoods",
    )
    ev.add_argument(
        "--probes",
        action="store_true",
        help="also probe z for each label and attribute (linear and MLP, held-out) and score "
        "MIG, DCI and SAP (docs/probes.md)",
    )

    sample = sub.add_parser("sample", help="rows of random styles, one column per class")
    sample.add_argument("file")
    sample.add_argument("--out", required=True, help=".png (image grid) or .npy (float32 array)")
    sample.add_argument("--rows", type=int, default=8)
    sample.add_argument("--seed", type=int, default=0)
    add_class(sample, "(conditional models: rows of that class only, not a column per class)")
    sample.add_argument(
        "--styles",
        choices=("auto", "mixture", "prior"),
        default="auto",
        help="draw styles from the file's class mixture or the prior N(0, I) (auto: the mixture "
        "where the file has one)",
    )
    add_scale(sample, "about 56 px a tile: 2 for 28 x 28")

    decode = sub.add_parser("decode", help="decode one latent vector to an image (PNG or .npy)")
    decode.add_argument("file")
    decode.add_argument(
        "--z",
        required=True,
        metavar="V1,V2,...",
        help="the latent vector, one value per dimension (write --z=-1,2 or --z -1,2)",
    )
    add_class(decode, "(conditional models; default 0)")
    decode.add_argument(
        "--out", required=True, help=".png (ink on paper or colour) or .npy (float32 H x W x C)"
    )
    add_scale(decode, "1: the model's own size")

    data = sub.add_parser("data", help="download or verify a dataset")
    data.add_argument("action", choices=["fetch", "verify"])
    data.add_argument("--dataset", default="mnist")
    _add_data_dir(data)

    morph = sub.add_parser(
        "morph", help="decode a walk between two points (test images or vectors): GIF or PNG strip"
    )
    morph.add_argument("file")
    start = morph.add_mutually_exclusive_group(required=True)
    start.add_argument("--from", dest="start", type=int, metavar="I", help="test image index")
    start.add_argument(
        "--from-z", dest="start_z", metavar="V1,V2,...", help="a latent vector (no test points)"
    )
    end = morph.add_mutually_exclusive_group(required=True)
    end.add_argument("--to", dest="end", type=int, metavar="J", help="test image index")
    end.add_argument("--to-z", dest="end_z", metavar="V1,V2,...", help="a latent vector")
    add_class(morph, "at a --from-z / --to-z end (conditional models; default 0)")
    morph.add_argument("--out", required=True, help=".gif (animation) or .png (strip)")
    morph.add_argument("--steps", type=int, default=10, help="frames, both ends included")
    morph.add_argument("--slerp", action="store_true", help="spherical, not linear, interpolation")
    morph.add_argument("--frame-ms", type=int, default=100, help="GIF time per frame")
    add_scale(morph, "about 112 px a GIF frame, 84 px a strip tile: 4 and 3 for 28 x 28")

    grid = sub.add_parser("manifold", help="images decoded on a grid over two latent axes (PNG)")
    grid.add_argument("file")
    grid.add_argument("--out", required=True, metavar="FILE.png")
    grid.add_argument("--size", type=int, default=15, help="images per row and column")
    grid.add_argument(
        "--range",
        dest="half_range",
        type=float,
        default=2.5,
        help="half-width of the grid in latent units (default 2.5)",
    )
    grid.add_argument("--gaussian", action="store_true", help="normal-quantile spacing")
    grid.add_argument(
        "--dims",
        type=int,
        nargs=2,
        metavar=("I", "J"),
        help="latent dimensions I and J (counted from 0: the app's z1 is 0), not the PCA axes",
    )
    add_class(grid, "(conditional models; default 0)")
    add_scale(grid, "about 56 px a tile: 2 for 28 x 28")

    sub.add_parser("presets", help="list the training presets")
    add_import_parser(sub)
    add_density_parser(sub)
    add_doctor_parser(sub)
    add_desktop_parser(sub)
    add_map_parser(sub, COMMANDS)
    add_directions_parser(sub, COMMANDS)
    return parser


def _preset_name(text: str) -> str:
    """A known preset name; the error stays one line however many presets there are."""
    from ..core.vae.config import PRESETS

    if text not in PRESETS:
        raise argparse.ArgumentTypeError(
            f"unknown preset {text!r}; `latentlab presets` lists the {len(PRESETS)} there are"
        )
    return text


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", metavar="DIR", help="folder with the IDX files (or set LATENTLAB_DATA_DIR)"
    )


# --- commands ------------------------------------------------------------------------------


def cmd_gui(args: argparse.Namespace) -> int:
    from ..gui.display_check import display_problem

    problem = display_problem()  # before Qt: its own answer is an abort (exit 134)
    if problem is not None:
        print(f"latentlab: error: {problem}", file=sys.stderr)
        return EXIT_ERROR
    for name, value in APP_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    from ..gui.app import run

    return run(model_path=getattr(args, "model", None) or args.top_model)


def cmd_reset_settings(args: argparse.Namespace) -> int:
    """`latentlab --reset-settings`: remove the settings file; a link or a FIFO is left alone."""
    from ..gui.settings import reset  # Qt core only, not the widgets

    ok, message = reset("latentlab", "latentlab")  # gui.app.APP_NAME, the names QSettings uses
    if ok:
        print(f"latentlab: {message}")
    else:
        print(f"latentlab: error: {message}", file=sys.stderr)
    return 0 if ok else EXIT_ERROR


COMMANDS = {
    "gui": cmd_gui,
    "train": cmd_train,
    "info": cmd_info,
    "eval": cmd_eval,
    "sample": cmd_sample,
    "data": cmd_data,
    "presets": cmd_presets,
    "morph": cmd_morph,
    "manifold": cmd_manifold,
    "decode": cmd_decode,
    "import": cmd_import,
    "fit-density": cmd_fit_density,
    "doctor": cmd_doctor,
    "install-desktop": cmd_install_desktop,
}


class _Version(argparse.Action):
    """`latentlab --version`; the package metadata is read only when asked (start-up time)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(f"latentlab {version()}")  # on stdout, as argparse's own version action
        parser.exit(0)


def version() -> str:
    """The installed package's version (pyproject.toml's, once installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("latentlab")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"
