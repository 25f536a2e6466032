"""The training engine: a generator of events, so any front end can drive, show and cancel it.

The whole dataset lives in one float tensor on the device; each epoch gathers it once in a fresh
random order and then takes contiguous slices as batches, so there is no per-item Python and no
DataLoader. Every batch and every yield is a cancel point (`latentlab.core.jobs`): a cancelled run
raises `JobCancelled` carrying the record of its last finished epoch; a failed one yields it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from latentlab.core.jobs import Cancel, JobCancelled, check_cancelled
from latentlab.core.text import shown_path
from latentlab.core.vae.config import Config
from latentlab.core.vae.events import (
    BatchProgress,
    EpochEnd,
    Failed,
    Finished,
    LossSummary,
    Started,
    TrainEvent,
)
from latentlab.core.vae.model import VAE, loss_parts
from latentlab.core.vae.precision import precision_name, resolve_precision
from latentlab.core.vae.record import ModelRecord, TestEncoding
from latentlab.core.vae.snapshots import SnapshotPlan, SnapshotTaker
from latentlab.core.vae.train_step import make_step

if TYPE_CHECKING:
    from latentlab.core.data.datasets import Dataset

EVAL_CHUNK = 2000  # test images per forward pass when evaluating
DEVICE_TYPES = ("cpu", "cuda", "mps")
DEVICES = "auto, cpu, cuda (or cuda:N) or mps"


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` picks CUDA, then Apple's MPS, then the CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    from latentlab.core.errors import TrainingError

    try:
        device = torch.device(name)
    except (RuntimeError, ValueError, TypeError):
        raise TrainingError(f"unknown device {shown_path(name)!r}; use {DEVICES}") from None
    if device.type not in DEVICE_TYPES:
        raise TrainingError(f"device {name!r} is not one latentlab trains on; use {DEVICES}")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise TrainingError(f"device {name!r} was asked for, but no CUDA GPU is available")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise TrainingError(
            f"device {name!r} was asked for, but there are {torch.cuda.device_count()} CUDA GPUs"
        )
    mps = getattr(torch.backends, "mps", None)
    if device.type == "mps" and not (mps is not None and mps.is_available()):
        raise TrainingError("device 'mps' was asked for, but Apple's MPS is not available")
    return device


@dataclass
class DeviceData:
    """A dataset as device tensors: images flattened to (N, 784) float32 in [0, 1]."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    @classmethod
    def from_dataset(cls, dataset: Dataset, device: torch.device) -> DeviceData:
        def images(a: np.ndarray) -> torch.Tensor:
            flat = np.asarray(a).reshape(len(a), -1).astype(np.float32)  # one writable copy
            return torch.from_numpy(flat).to(device).div_(255.0)

        def labels(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(a.astype(np.int64)).to(device)

        return cls(
            images(dataset.train_images),
            labels(dataset.train_labels),
            images(dataset.test_images),
            labels(dataset.test_labels),
        )


def make_optimizer(model: torch.nn.Module, config: Config) -> torch.optim.Optimizer:
    params = model.parameters()
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.learning_rate, momentum=0.9)
    cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    try:  # fused: one kernel for all parameters, same maths
        return cls(params, lr=config.learning_rate, fused=True)
    except (RuntimeError, TypeError):
        return cls(model.parameters(), lr=config.learning_rate)


def make_scheduler(
    optimizer: torch.optim.Optimizer, config: Config, steps: int
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """Per-batch learning-rate schedule; None keeps the rate constant.

    Cosine decay to zero lets the last epoch settle instead of hopping between minima, so the
    weights that are saved (the last epoch's) are the good ones, without peeking at the test set.
    """
    if config.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, steps))
    return None


def run_training(
    config: Config,
    dataset: Dataset,
    *,
    device: str = "auto",
    precision: str = "auto",
    cancel: Cancel = None,
    progress_every: int = 10,
    fit_density: bool = True,
    snapshots: SnapshotPlan | None = None,
) -> Iterator[TrainEvent]:
    """Train a model from scratch, yielding events; the last is Finished or Failed.

    Cancelled (``cancel`` set before a batch, or `JobCancelled` thrown in at a yield), it raises
    `JobCancelled` whose ``partial`` is the record after the last finished epoch (None if none).
    `precision` is the training step's matrix products (see `precision.py`); `auto` takes
    bfloat16 where the hardware does it natively. Evaluation and the saved weights are float32.
    With `fit_density`, the finished model gets its class mixtures (`core.vae.density`), fitted
    to its encoded training set; each epoch's sample row draws from a quick one-Gaussian-per-class
    fit of a few thousand training images (a cancelled or failed run's record has no density).
    With `snapshots`, it also yields a `LatentSnapshot` of a fixed test subset before the first
    step, every `snapshots.every` steps and at each epoch's end (`core.vae.snapshots`).
    """
    dev = resolve_device(device)
    dtype = resolve_precision(precision, dev)
    torch.manual_seed(config.seed)
    model = VAE(config).to(dev)
    optimizer = make_optimizer(model, config)
    step = make_step(model, config, dtype)
    gen = torch.Generator(device=dev).manual_seed(config.seed)
    data = DeviceData.from_dataset(dataset, dev)
    n, bs = len(data.x_train), config.batch_size
    batches = math.ceil(n / bs)
    scheduler = make_scheduler(optimizer, config, batches * config.epochs)
    history: list[dict] = []
    snapshot: dict[str, torch.Tensor] | None = None  # weights after the last finished epoch
    start = time.perf_counter()

    def result() -> ModelRecord | None:
        if snapshot is None:
            return None
        model.load_state_dict(snapshot)
        return _record(model, config, dataset, data, history, start, dev, dtype)

    taker = None
    if snapshots is not None:
        taker = SnapshotTaker(snapshots, config, data.x_test, dataset.test_labels)
    steps = 0
    try:
        yield Started(config.epochs, batches, n, str(dev), precision_name(dtype))
        if taker is not None:
            yield taker.take(model, 0, 0)
        for epoch in range(1, config.epochs + 1):
            model.train()
            order = torch.randperm(n, generator=gen, device=dev)
            xs, ys = data.x_train[order], data.y_train[order]
            sums = torch.zeros(4, device=dev, dtype=torch.float64)
            window, window_batches = torch.zeros((), device=dev), 0
            for b in range(batches):
                check_cancelled(cancel)
                xb, yb = xs[b * bs : (b + 1) * bs], ys[b * bs : (b + 1) * bs]
                parts = step(xb, yb, gen)  # sets every parameter's gradient
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                steps += 1
                with torch.no_grad():
                    batch = torch.stack([parts.total, parts.recon, parts.kl, parts.classifier])
                    sums += batch.double() * len(xb)
                    window += parts.total.detach()
                window_batches += 1
                if window_batches == progress_every or b == batches - 1:
                    loss = window.item() / window_batches
                    if not math.isfinite(loss):
                        yield Failed(_nan_message(epoch, b + 1, config), result())
                        return
                    yield BatchProgress(
                        epoch, config.epochs, b + 1, batches, loss, time.perf_counter() - start
                    )
                    window, window_batches = torch.zeros((), device=dev), 0
                if taker is not None and b < batches - 1 and taker.due(steps):
                    yield taker.take(model, steps, epoch)
            if taker is not None:
                yield taker.take(model, steps, epoch, epoch_end=True)
            train_summary = LossSummary(*(sums / n).tolist())
            test_summary, accuracy = evaluate(model, data.x_test, data.y_test, config)
            if not all(math.isfinite(v) for v in test_summary.as_dict().values()):
                yield Failed(_nan_message(epoch, batches, config), result())
                return
            elapsed = time.perf_counter() - start
            history.append(
                {
                    "epoch": epoch,
                    "train": train_summary.as_dict(),
                    "test": test_summary.as_dict(),
                    "test_accuracy": accuracy,
                    "elapsed_s": round(elapsed, 3),
                }
            )
            snapshot = {k: v.detach().clone() for k, v in model.state_dict().items()}
            row_seed = config.seed * 1000 + epoch
            quick = _quick_density(model, data, row_seed) if fit_density else None
            samples = sample_row(model, config, seed=row_seed, density=quick)
            yield EpochEnd(
                epoch,
                config.epochs,
                train_summary,
                test_summary,
                accuracy,
                elapsed,
                samples,
                (
                    ("class Gaussians" if config.conditional else "a Gaussian")
                    + " of the encoded training set"
                )
                if quick
                else "the prior N(0, I)",
            )
    except JobCancelled as stop:
        raise JobCancelled(str(stop), partial=result()) from None
    record = result()
    assert record is not None
    if fit_density:
        from latentlab.core.vae.density_fit import fit_model_density

        check_cancelled(cancel)
        density, seconds = fit_model_density(
            model, data.x_train, dataset.train_labels, seed=config.seed
        )
        record.density = density.at_temperature(config.density_temperature)
        record.metrics["density_fit_s"] = round(seconds, 2)
        record.metrics["density_heldout_gain_nats"] = record.density.heldout_gain
    yield Finished(record)


QUICK_DENSITY_IMAGES = 5000  # training images encoded for each epoch's sample row


def _quick_density(model: VAE, data: DeviceData, seed: int):
    """One full-covariance Gaussian per class of z ~ q(z|x) over the first training images."""
    from latentlab.core.vae.density import fit_class_density
    from latentlab.core.vae.density_fit import sample_posterior

    x = data.x_train[:QUICK_DENSITY_IMAGES]
    labels = data.y_train[:QUICK_DENSITY_IMAGES].cpu().numpy()
    config = model.config
    counts = np.bincount(labels, minlength=config.num_classes) if config.conditional else [len(x)]
    if min(counts) < 2:
        return None  # a class too rare in this slice: the row falls back to the prior
    z = sample_posterior(model, x, seed)
    density = fit_class_density(
        z, labels if config.conditional else None, config.num_classes, seed, max_components=1
    )
    return density.at_temperature(config.density_temperature)


def _nan_message(epoch: int, batch: int, config: Config) -> str:
    return (
        f"training stopped: the loss became NaN or infinite in epoch {epoch}, batch {batch} "
        f"(learning rate {config.learning_rate:g} may be too high); "
        "the weights of the last finished epoch were kept"
    )


@torch.inference_mode()
def evaluate(
    model: VAE, x: torch.Tensor, y: torch.Tensor, config: Config, seed: int = 12345
) -> tuple[LossSummary, float | None]:
    """Per-image test losses (one z sample per image, fixed seed) and classifier accuracy."""
    model.eval()
    gen = torch.Generator(device=x.device).manual_seed(seed)
    sums = torch.zeros(4, dtype=torch.float64, device=x.device)
    correct = 0
    for i in range(0, len(x), EVAL_CHUNK):
        xb, yb = x[i : i + EVAL_CHUNK], y[i : i + EVAL_CHUNK]
        parts = loss_parts(model(xb, gen), xb, yb, config)
        sums += torch.stack([parts.total, parts.recon, parts.kl, parts.classifier]).double() * len(
            xb
        )
        correct += int(parts.correct)
    summary = LossSummary(*(sums / max(len(x), 1)).tolist())
    return summary, (correct / len(x) if config.conditional and len(x) else None)


@torch.inference_mode()
def sample_row(model: VAE, config: Config, seed: int, density=None) -> np.ndarray:
    """The per-epoch figure row: one style decoded for each class (10 images).

    With a `density` (`core.vae.density.LatentDensity`), each class's style is drawn from its own
    mixture; without, one prior style N(0, I) is decoded for every class.
    """
    model.eval()
    dev = next(model.parameters()).device
    gen = torch.Generator(device=dev).manual_seed(seed)
    count = config.num_classes if config.conditional else 10
    if density is not None:
        rng = np.random.default_rng(seed)
        if config.conditional:
            z = np.concatenate([density.sample(1, c, rng) for c in range(count)])
            images = model.decode(torch.from_numpy(z).to(dev), torch.eye(count, device=dev))
        else:
            images = model.decode(torch.from_numpy(density.sample(count, 0, rng)).to(dev))
    elif config.conditional:
        z = torch.randn(1, config.latent_dim, generator=gen, device=dev).expand(count, -1)
        images = model.decode(z, torch.eye(count, device=dev))
    else:
        images = model.decode(torch.randn(count, config.latent_dim, generator=gen, device=dev))
    return images.reshape(count, 28, 28).float().cpu().numpy()


@torch.inference_mode()
def encode_test_set(model: VAE, x: torch.Tensor, labels: np.ndarray) -> TestEncoding:
    """Latent means, log variances and class probabilities of every test image."""
    model.eval()
    mus, logvars, probs = [], [], []
    for i in range(0, len(x), EVAL_CHUNK):
        xb = x[i : i + EVAL_CHUNK]
        mu, var = model.encode(xb)
        mus.append(mu.float().cpu())
        logvars.append(var.log().float().cpu())
        if model.classifier is not None:
            probs.append(torch.softmax(model.classifier(xb), -1).float().cpu())
    return TestEncoding(
        mu=torch.cat(mus).numpy(),
        logvar=torch.cat(logvars).numpy(),
        labels=np.asarray(labels, dtype=np.uint8),
        probs=torch.cat(probs).numpy() if probs else None,
    )


def _record(
    model: VAE,
    config: Config,
    dataset: Dataset,
    data: DeviceData,
    history: list[dict],
    start: float,
    device: torch.device,
    dtype: torch.dtype,
) -> ModelRecord:
    last = history[-1]
    test = last["test"]
    metrics = {
        "test_loss": test["recon"] + test["kl"],
        "test_recon": test["recon"],
        "test_kl": test["kl"],
        "test_objective": test["total"],
        "epochs_trained": last["epoch"],
        "train_time_s": round(time.perf_counter() - start, 2),
        "device": str(device),
        "precision": precision_name(dtype),
        "train_size": len(data.x_train),
    }
    if config.conditional:
        metrics["test_accuracy"] = last["test_accuracy"]
        metrics["test_classifier_ce"] = test["classifier"]
    return ModelRecord(
        config=config,
        weights={k: v.detach().cpu().float().numpy().copy() for k, v in model.state_dict().items()},
        class_names=tuple(dataset.class_names),
        history=list(history),
        metrics=metrics,
        test_encoding=encode_test_set(model, data.x_test, dataset.test_labels),
    )


def model_from_record(record: ModelRecord, device: str = "cpu") -> VAE:
    """Rebuild the torch model of a record (to evaluate or encode new data)."""
    model = VAE(record.config)
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in record.weights.items()})
    return model.to(resolve_device(device))


def evaluate_record(record: ModelRecord, dataset: Dataset, device: str = "auto") -> dict:
    """Recompute a model's test metrics from the data."""
    model = model_from_record(record, device)
    dev = next(model.parameters()).device
    data = DeviceData.from_dataset(dataset, dev)
    summary, accuracy = evaluate(model, data.x_test, data.y_test, record.config)
    metrics = {
        "test_loss": summary.elbo_loss,
        "test_recon": summary.recon,
        "test_kl": summary.kl,
        "test_objective": summary.total,
        "test_size": len(data.x_test),
    }
    if record.config.conditional:
        metrics["test_accuracy"] = accuracy
        metrics["test_classifier_ce"] = summary.classifier
    return metrics
