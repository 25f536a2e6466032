"""Command line: `latentlab` opens the app; sub-commands train, inspect, evaluate and sample models.

Heavy modules (torch, Qt) are imported inside the command that needs them, so `latentlab info`
answers without loading torch and the app starts without it. Every error is one line on stderr
and a non-zero exit; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from .core.errors import LatentlabError
from .core.text import first_line, shown_path

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CANCELLED = 130
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # Ctrl+C, and `kill` / a job scheduler

# Set for the app before numpy loads; a value the user chose is kept. The app's numpy work is one
# small decode per slider move: a multi-threaded BLAS wakes its threads for it, and when they wait
# for a core (a training thread is busy) the decode's p99 goes from 0.3 to 4 ms.
APP_ENVIRONMENT = {"OPENBLAS_NUM_THREADS": "1"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
        self.exit(
            EXIT_USAGE,
            f"{self.prog}: error: {shown_path(message)}\nsee `{self.prog} --help`\n",
        )


def build_parser() -> argparse.ArgumentParser:
    from .core.vae.config import DEFAULT_PRESET, PRECISIONS, PRESETS

    parser = Parser(
        prog="latentlab",
        description="Explore the latent space of a variational autoencoder trained on MNIST.",
    )
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
    train.add_argument("--preset", default=DEFAULT_PRESET, choices=sorted(PRESETS))
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
        help="also estimate the test negative log-likelihood with K importance samples (IWAE)",
    )

    sample = sub.add_parser("sample", help="rows of random styles, one column per class")
    sample.add_argument("file")
    sample.add_argument("--out", required=True, help=".png (image grid) or .npy (float32 array)")
    sample.add_argument("--rows", type=int, default=8)
    sample.add_argument("--seed", type=int, default=0)

    data = sub.add_parser("data", help="download or verify a dataset")
    data.add_argument("action", choices=["fetch", "verify"])
    data.add_argument("--dataset", default="mnist")
    _add_data_dir(data)

    morph = sub.add_parser("morph", help="decode a walk between two test points: GIF or PNG strip")
    morph.add_argument("file")
    morph.add_argument(
        "--from", dest="start", type=int, required=True, metavar="I", help="test image index"
    )
    morph.add_argument(
        "--to", dest="end", type=int, required=True, metavar="J", help="test image index"
    )
    morph.add_argument("--out", required=True, help=".gif (animation) or .png (strip)")
    morph.add_argument("--steps", type=int, default=10, help="frames, both ends included")
    morph.add_argument("--slerp", action="store_true", help="spherical, not linear, interpolation")
    morph.add_argument("--frame-ms", type=int, default=100, help="GIF time per frame")

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
    grid.add_argument("--dims", type=int, nargs=2, metavar=("I", "J"), help="z_I, z_J, not PCA")
    grid.add_argument("--class", dest="digit", type=int, help="class to decode (cVAE; default 0)")

    sub.add_parser("presets", help="list the training presets")
    from .cli_import import add_import_parser

    add_import_parser(sub)
    return parser


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", metavar="DIR", help="folder with the IDX files (or set LATENTLAB_DATA_DIR)"
    )


# --- commands ------------------------------------------------------------------------------


def cmd_gui(args: argparse.Namespace) -> int:
    for name, value in APP_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    from .gui.app import run

    return run(model_path=getattr(args, "model", None) or args.top_model)


def cmd_reset_settings(args: argparse.Namespace) -> int:
    """`latentlab --reset-settings`: remove the settings file; a link or a FIFO is left alone."""
    from .gui.settings import reset  # Qt core only, not the widgets

    ok, message = reset("latentlab", "latentlab")  # gui.app.APP_NAME, the names QSettings uses
    if ok:
        print(f"latentlab: {message}")
    else:
        print(f"latentlab: error: {message}", file=sys.stderr)
    return 0 if ok else EXIT_ERROR


def cmd_train(args: argparse.Namespace) -> int:
    from .core.jobs import JobCancelled
    from .core.vae.checkpoint import save_model
    from .core.vae.config import get_preset
    from .core.vae.events import BatchProgress, EpochEnd, Failed, Finished, Started
    from .core.vae.training import resolve_device, run_training

    # Everything that can be checked is checked before the first step, not after the last.
    out = _writable_output(args.out)
    changes = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.lr,
        "latent_dim": args.latent_dim,
        "kl_weight": args.kl_weight,
        "likelihood": args.likelihood,
        "seed": args.seed,
        "dataset": args.dataset,
    }
    config = get_preset(args.preset).config.replace(
        **{k: v for k, v in changes.items() if v is not None}
    )
    resolve_device(args.device)
    bar = ProgressBar(sys.stderr)
    with StopSignals() as stop:
        try:
            dataset = _load_training_data(config, args)
        except Stopped as stopped:
            print(
                f"latentlab: {stopped.what} while loading the data; nothing was trained or saved",
                file=sys.stderr,
            )
            return stopped.exit_code
        config = config.replace(num_classes=len(dataset.class_names))
        stop.raise_at_once = False  # from here a signal cancels the run at its next batch
        try:
            for event in run_training(
                config, dataset, device=args.device, precision=args.precision, cancel=stop.cancel
            ):
                if isinstance(event, Started):
                    print(
                        f"training {args.preset} on {config.dataset} ({event.train_size} images) "
                        f"on {event.device} ({event.precision}): {event.epochs} epochs of "
                        f"{event.batches_per_epoch} batches",
                        file=sys.stderr,
                    )
                elif isinstance(event, BatchProgress):
                    bar.update(event)
                elif isinstance(event, EpochEnd):
                    bar.clear()
                    print(epoch_summary(event), flush=True)
                elif isinstance(event, Finished):
                    _save_trained(save_model, event.record, out)  # a signal now waits for it
                    seconds = event.record.metrics["train_time_s"]
                    print(f"saved {shown_path(out)} ({seconds:.1f} s of training)", flush=True)
                    if stop.signum is not None:
                        print(
                            f"latentlab: {stop.what} during the save, which was finished",
                            file=sys.stderr,
                        )
                        return stop.exit_code
                    return 0
                elif isinstance(event, Failed):
                    bar.clear()
                    print(f"latentlab: error: {event.message}; nothing was saved", file=sys.stderr)
                    return EXIT_ERROR
        except JobCancelled as cancelled:
            bar.clear()
            done = len(cancelled.partial.history) if cancelled.partial is not None else 0
            what = "cancelled" if stop.signum in (None, signal.SIGINT) else stop.what
            print(f"latentlab: {what} after {done} epochs; nothing was saved", file=sys.stderr)
            return stop.exit_code
    return EXIT_ERROR  # pragma: no cover - run_training always ends with one of the above


def _writable_output(text: str) -> Path:
    """--out as a path a model can be saved to, or the one-line reason it cannot."""
    from .core.atomic import WriteError, check_writable

    if not text.strip():
        raise LatentlabError("--out is empty; give the model file's name (NAME.safetensors)")
    out = Path(text)
    try:
        check_writable(out)
    except WriteError as exc:
        raise LatentlabError(
            f"{shown_path(out)}: the model could not be saved there ({exc.strerror}); "
            f"{exc.advice}; nothing was trained"
        ) from None
    return out


def _load_training_data(config: Any, args: argparse.Namespace) -> Any:
    from .core.data.datasets import load_dataset

    return load_dataset(
        config.dataset,
        args.data_dir,
        download=not args.no_download,
        progress=_download_progress(sys.stderr),
    )


def _save_trained(save_model: Any, record: Any, out: Path) -> None:
    try:
        save_model(record, out)
    except OSError as exc:  # a full disk, a folder gone: say which file and what to do
        why = exc.strerror or str(exc)
        advice = getattr(exc, "advice", "")
        raise LatentlabError(
            f"{shown_path(out)}: the model could not be saved ({why})"
            + (f"; {advice}" if advice else "")
        ) from exc


class Stopped(BaseException):
    """A stop signal arrived while nothing could be cancelled gently (the data was loading)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def what(self) -> str:
        return _stopped_by(self.signum)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _stopped_by(signum: int | None) -> str:
    return "interrupted (Ctrl+C)" if signum in (None, signal.SIGINT) else "stopped by SIGTERM"


class StopSignals:
    """Ctrl+C and SIGTERM during `train`, one way: the run stops at its next batch, and the
    command says what was stopped and that nothing was saved. Exit 128 + the signal's number
    (130, 143), as a shell reports a process the signal killed.

    Before the run starts (`raise_at_once`), the signal raises `Stopped` where the program is.
    """

    def __init__(self) -> None:
        self.cancel = threading.Event()
        self.signum: int | None = None
        self.raise_at_once = True
        self._previous: dict[int, Any] = {}

    @property
    def what(self) -> str:
        return _stopped_by(self.signum)

    @property
    def exit_code(self) -> int:
        return 128 + (self.signum or signal.SIGINT)

    def _handle(self, signum: int, frame: Any) -> None:
        self.signum = signum
        self.cancel.set()
        if self.raise_at_once:
            raise Stopped(signum)

    def __enter__(self) -> StopSignals:
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)


def epoch_summary(event: Any) -> str:
    test = event.test
    parts = [
        f"epoch {event.epoch:>3}/{event.epochs}",
        f"train loss {event.train.elbo_loss:8.2f}",
        f"test loss {test.elbo_loss:8.2f} (recon {test.recon:.2f} + kl {test.kl:.2f})",
    ]
    if event.test_accuracy is not None:
        parts.append(f"classifier ce {test.classifier:.4f}  test acc {event.test_accuracy:.4f}")
    parts.append(f"{event.elapsed_s:6.1f}s")
    return "  ".join(parts)


class ProgressBar:
    """One line redrawn in place on a terminal; silent when the stream is not a terminal."""

    def __init__(self, stream: TextIO, width: int = 30, min_interval_s: float = 0.1) -> None:
        self.stream = stream
        self.width = width
        self.enabled = stream.isatty()
        self.min_interval_s = min_interval_s
        self._last = 0.0

    def update(self, event: Any) -> None:
        now = time.monotonic()
        if not self.enabled or (
            now - self._last < self.min_interval_s and event.batch < event.batches
        ):
            return
        self._last = now
        filled = int(self.width * event.batch / event.batches)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(
            f"\repoch {event.epoch}/{event.epochs} [{bar}] {event.batch}/{event.batches} "
            f"loss {event.loss:.2f}"
        )
        self.stream.flush()

    def clear(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * (self.width + 60) + "\r")
            self.stream.flush()


def _download_progress(stream: TextIO):
    last: dict[str, float] = {}

    def report(p: Any) -> None:
        now = time.monotonic()
        if p.total and p.done < p.total and now - last.get(p.filename, 0.0) < 0.5:
            return
        last[p.filename] = now
        total = f"{p.total / 1e6:.1f}" if p.total else "?"
        print(f"downloading {p.filename}: {p.done / 1e6:.1f} of {total} MB", file=stream)

    return report


def cmd_info(args: argparse.Namespace) -> int:
    from .core.vae.checkpoint import load_model

    record = load_model(args.file)
    _check_opens_in_app(record, args.file)
    if args.json:
        print(json.dumps(info_dict(record, args.file), indent=2))
        return 0
    print(info_text(record, args.file))
    return 0


def _check_opens_in_app(record: Any, path: str) -> None:
    """`info` accepts exactly the files the app opens, so build the explorer state as it does."""
    from .core.errors import ModelFileError

    try:
        _explorer_state(record)
    except ValueError as exc:
        raise ModelFileError(
            f"{shown_path(path)}: {exc}"
        ) from None  # the app's words for the same file


def _explorer_state(record: Any) -> Any:
    """The explorer state on `record`, built exactly as the app builds it."""
    from .core.explore.state import ExplorerState
    from .core.vae.latent_model import vae_document

    state = ExplorerState()
    state.open(vae_document(record))
    return state


def info_dict(record: Any, path: str) -> dict[str, Any]:
    return {
        "file": str(path),
        "format_version": record.format_version,
        "kind": "conditional VAE" if record.config.conditional else "plain VAE",
        "config": record.config.to_dict(),
        "dataset": record.config.dataset,
        "class_names": list(record.class_names),
        "created": record.created,
        "metrics": record.metrics,
        "history": record.history,
        "test_points": len(record.test_encoding) if record.test_encoding else 0,
    }


def info_text(record: Any, path: str) -> str:
    cfg = record.config
    lines = [
        shown_path(path),
        f"  {'conditional' if cfg.conditional else 'plain'} VAE, {cfg.latent_dim} free latent "
        f"dimensions, {cfg.likelihood} likelihood, trained on {cfg.dataset}",
        f"  created {record.created}, format version {record.format_version}",
        "  config: " + ", ".join(f"{k}={v}" for k, v in cfg.to_dict().items()),
        "  metrics:",
    ]
    for key, value in record.metrics.items():
        lines.append(
            f"    {key}: {value:.4f}" if isinstance(value, float) else f"    {key}: {value}"
        )
    if record.history:
        lines.append("  history (test loss, nats/image):")
        for h in record.history:
            acc = h.get("test_accuracy")
            acc_text = f"  acc {acc:.4f}" if isinstance(acc, float) else ""
            test = h.get("test") if isinstance(h.get("test"), dict) else {}
            loss = [test.get(k, 0) for k in ("recon", "kl")]
            loss_text = f"{sum(loss):.2f}" if all(_is_number(v) for v in loss) else "?"
            lines.append(f"    epoch {h.get('epoch')}: {loss_text}{acc_text}")
    return "\n".join(lines)


def _is_number(value: Any) -> bool:
    """A JSON number (history entries come from files, so they may hold anything)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def cmd_eval(args: argparse.Namespace) -> int:
    from .core.data.datasets import load_dataset
    from .core.vae.checkpoint import load_model
    from .core.vae.report import MAX_IWAE_K
    from .core.vae.training import evaluate_record, resolve_device

    _in_range("--iwae", args.iwae, 0, MAX_IWAE_K)
    resolve_device(args.device)
    record = load_model(args.file)
    dataset = load_dataset(record.config.dataset, args.data_dir)
    metrics = evaluate_record(record, dataset, device=args.device)
    if args.iwae:
        from .core.vae.report import iwae_metrics

        metrics.update(iwae_metrics(record, dataset, args.iwae, device=args.device))
    if args.json:
        print(
            json.dumps({"file": args.file, "metrics": metrics, "stored": record.metrics}, indent=2)
        )
        return 0
    print(
        f"{shown_path(args.file)} on the {dataset.name} test set ({metrics['test_size']} images):"
    )
    for key, value in metrics.items():
        stored = record.metrics.get(key)
        note = f"   (stored: {stored:.4f})" if isinstance(stored, float) else ""
        print(f"  {key}: {value:.4f}{note}" if isinstance(value, float) else f"  {key}: {value}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    import numpy as np

    from .core.explore.sampling import MAX_ROWS, sample_grid, save_grid_png
    from .core.vae.checkpoint import load_model
    from .core.vae.config import MAX_SEED
    from .core.vae.latent_model import VaeModel

    _in_range("--rows", args.rows, 1, MAX_ROWS)
    _in_range("--seed", args.seed, 0, MAX_SEED)
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".npy"):
        raise LatentlabError(f"{shown_path(out)}: --out must end in .png or .npy")
    record = load_model(args.file)
    grid = sample_grid(VaeModel(record), rows=args.rows, seed=args.seed)
    if out.suffix.lower() == ".npy":
        import io

        from .core.atomic import write_atomic

        buffer = io.BytesIO()
        np.save(buffer, grid)
        write_atomic(out, buffer.getvalue())
    else:
        save_grid_png(grid, out)
    print(f"wrote {shown_path(out)} ({args.rows} rows x {grid.shape[1]} columns)")
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from .core.data.datasets import fetch, verify

    if args.action == "fetch":
        folder = fetch(args.dataset, args.data_dir, progress=_download_progress(sys.stderr))
        print(f"{args.dataset}: all files present and verified in {shown_path(folder)}")
        return 0
    if args.data_dir is not None and not Path(args.data_dir).is_dir():
        what = "is not a folder" if Path(args.data_dir).exists() else "does not exist"
        raise LatentlabError(f"{shown_path(args.data_dir)}: the folder {what} (--data-dir)")
    checks = verify(args.dataset, args.data_dir)
    bad = 0
    for check in checks:
        where = shown_path(check.path if check.path is not None else check.filename)
        print(f"{'ok ' if check.ok else 'BAD'}  {where}  {check.message}")
        bad += not check.ok
    if bad:
        print(
            f"latentlab: error: {bad} of {len(checks)} files failed verification", file=sys.stderr
        )
        return EXIT_ERROR
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    from .core.vae.config import DEFAULT_PRESET, PRESETS

    for preset in PRESETS.values():
        mark = " (default for the bundled model)" if preset.name == DEFAULT_PRESET else ""
        print(f"{preset.name}{mark}\n    {preset.description}")
    return 0


def cmd_manifold(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .core.explore.manifold import decode_manifold, save_manifold_png
    from .core.vae.checkpoint import load_model

    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise LatentlabError(f"{shown_path(out)}: --out must end in .png")
    record = load_model(args.file)
    try:
        state = _explorer_state(record)
        if args.dims:
            i, j = args.dims
            if i == j or not (1 <= i <= state.latent_dim and 1 <= j <= state.latent_dim):
                raise ValueError(f"--dims needs two different dimensions in 1..{state.latent_dim}")
            state.set_projection("dims", i - 1, j - 1)
        if args.digit is not None:
            if not state.conditional:
                raise ValueError("--class needs a conditional model")
            state.set_class(args.digit)
        spacing = "gaussian" if args.gaussian else "even"
        grid = decode_manifold(
            state.model,
            state.projection,
            state.z,
            state.condition(),
            size=args.size,
            half_range=args.half_range,
            spacing=spacing,
        )
    except ValueError as exc:
        raise LatentlabError(str(exc)) from exc
    x, y = state.projection.titles
    if state.latent_dim == 1:  # one axis: every row of the grid would be the same
        grid = replace(grid, images=grid.images[:1], ys=grid.ys[:1])
        save_manifold_png(grid, out)
        print(f"wrote {shown_path(out)}: {args.size} images along {x} (a 1-D model: one row)")
        return 0
    save_manifold_png(grid, out)
    print(
        f"wrote {shown_path(out)}: {args.size} x {args.size} images over {x} and {y}, "
        f"{spacing} spacing"
    )
    return 0


def cmd_morph(args: argparse.Namespace) -> int:
    from .core.explore.imaging import MAX_FRAME_MS, MIN_FRAME_MS
    from .core.explore.morph import MAX_STEPS, MIN_STEPS, end_at_point, morph, save_morph
    from .core.vae.checkpoint import load_model
    from .core.vae.latent_model import VaeModel

    out = Path(args.out)
    if out.suffix.lower() not in (".gif", ".png"):
        raise LatentlabError(f"{shown_path(out)}: --out must end in .gif or .png")
    _in_range("--steps", args.steps, MIN_STEPS, MAX_STEPS)
    _in_range("--frame-ms", args.frame_ms, MIN_FRAME_MS, MAX_FRAME_MS)
    record = load_model(args.file)
    try:
        model, points = VaeModel(record), record.test_encoding
        a, b = end_at_point(model, points, args.start), end_at_point(model, points, args.end)
        kind = "slerp" if args.slerp else "linear"
        result = morph(model, a, b, args.steps, kind)
    except (ValueError, IndexError) as exc:
        raise LatentlabError(str(exc)) from exc
    save_morph(result.frames, out, frame_ms=args.frame_ms)
    print(f"wrote {shown_path(out)}: {a.label} -> {b.label}, {len(result)} frames, {kind}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from .cli_import import cmd_import as run_import_command

    return run_import_command(args)


def _in_range(option: str, value: int, low: int, high: int) -> None:
    """Size-like options are bounded, so a typo cannot ask for gigabytes or years."""
    if not low <= value <= high:
        raise LatentlabError(f"{option} must be in {low}..{high:,}, got {value:,}")


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
    "import": cmd_import,
}
