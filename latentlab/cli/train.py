"""`latentlab train`, `data` and `presets`: training runs, their signals and progress lines."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from ..core.errors import LatentlabError
from ..core.text import shown_path
from .common import EXIT_ERROR

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # Ctrl+C, and `kill` / a job scheduler


def cmd_train(args: argparse.Namespace) -> int:
    from ..core.jobs import JobCancelled
    from ..core.vae.checkpoint import save_model
    from ..core.vae.config import get_preset
    from ..core.vae.events import BatchProgress, EpochEnd, Failed, Finished, Started
    from ..core.vae.training import resolve_device, run_training

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
    from ..core.atomic import WriteError, check_writable

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
    from ..core.data.datasets import load_dataset

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
        self.show(
            event.batch,
            event.batches,
            f"epoch {event.epoch}/{event.epochs}",
            f"loss {event.loss:.2f}",
        )

    def show(self, done: int, total: int, before: str, after: str = "") -> None:
        """`before [#####.....] done/total after`, redrawn at most every min_interval_s."""
        now = time.monotonic()
        if not self.enabled or (now - self._last < self.min_interval_s and done < total):
            return
        self._last = now
        filled = int(self.width * done / max(total, 1))
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{before} [{bar}] {done}/{total} {after}".rstrip())
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


def cmd_data(args: argparse.Namespace) -> int:
    from ..core.data.datasets import fetch, verify

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
    from ..core.vae.config import DEFAULT_PRESET, PRESETS

    for preset in PRESETS.values():
        mark = " (default for the bundled model)" if preset.name == DEFAULT_PRESET else ""
        print(f"{preset.name}{mark}\n    {preset.description}")
    return 0
