"""Training speed: the engine against an idiomatic PyTorch loop, the matmul floor, and scaling.

Parts (select with `run.py --only training.PART`):

- speed: epochs of the engine's own `run_training()` generator (its default precision, and float32
  where that is bfloat16), an idiomatic DataLoader loop and the bare GEMMs of the same epoch
  in each precision, measured in turn (engine, idiomatic, floor, engine, ...), all on recipe
  `pytorch-vae` from the same initial weights; then the models' test loss.
- options: what changes numbers as well as speed, each with its test loss: batch 512 in the
  engine, and its products in bfloat16 against float32 (both forced, whatever `auto` picks).
- time-to-good: the default bundled recipe trained as the app trains it, wall time to the first
  epoch with test accuracy >= 0.98, and in total.
- scale: engine epoch time against training-set size and batch size, per image.
- gpu: the engine's epoch on CUDA when there is one.

    python benchmarks/run.py --only training [--quick] [--epochs N] [--device cpu|auto|cuda]
"""

from __future__ import annotations

import argparse
import itertools
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from common import (
    Result,
    alternate,
    data_dir,
    log,
    ratios,
    result_from,
    selected_parts,
    unavailable,
)

if TYPE_CHECKING:  # torch and latentlab load only when a training benchmark runs
    import torch

    from latentlab.core.data.datasets import Dataset
    from latentlab.core.vae.config import Config
    from latentlab.core.vae.model import Forward

NAME = "training"
PARTS = ("speed", "options", "time-to-good", "scale", "gpu")
DESCRIPTION = "engine vs idiomatic loop, matmul floor, time to a good model, scaling, GPU"

RECIPE = "pytorch-vae"  # 784-400-20, batch 128: the figure the targets are about
GOOD_ACCURACY = 0.98
QUICK_TRAIN_SIZE = 10_000


@dataclass(frozen=True)
class Settings:
    """How much work each part does; --quick shrinks everything to a run of about a minute."""

    epochs: int = 5  # alternated epochs per contender (speed, options)
    train_size: int | None = None  # training images used by speed/options/scale (None: all)
    good_epochs: int | None = None  # time-to-good: None = the preset's own epoch count
    good_train_size: int | None = None
    scale_fractions: tuple[float, ...] = (0.25, 0.5, 1.0)
    scale_batches: tuple[int, ...] = (64, 128, 256, 512)
    scale_rounds: int = 3
    option_batch: int = 512
    quick: bool = False


QUICK = Settings(
    epochs=2,
    train_size=QUICK_TRAIN_SIZE,
    good_epochs=1,
    good_train_size=None,
    scale_batches=(128, 512),
    scale_rounds=1,
    quick=True,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("training")
    group.add_argument(
        "--epochs", type=int, help="alternated epochs per contender (speed, options)"
    )
    group.add_argument("--train-size", type=int, help="use only the first N training images")


def settings_from(args: argparse.Namespace) -> Settings:
    base = QUICK if getattr(args, "quick", False) else Settings()
    changes: dict[str, Any] = {}
    if getattr(args, "epochs", None):
        changes["epochs"] = args.epochs
    if getattr(args, "train_size", None):
        changes["train_size"] = args.train_size
    return replace(base, **changes)


# --- the contenders: each times one epoch per call ---------------------------------------------


def _sync(device: torch.device) -> None:
    """Wait for queued GPU work, so a clock read after it is honest (no-op on the CPU)."""
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


class EngineRun:
    """The engine's own `run_training()` generator, resumed one epoch at a time.

    Timed: from resuming the generator to its last BatchProgress of the epoch (shuffle, every
    step, its progress events and their `.item()` syncs). Not timed: building the model and the
    device tensors (before `Started`) and the per-epoch test evaluation (between the last
    BatchProgress and EpochEnd), which the idiomatic loop does not do either.
    """

    def __init__(
        self, config: Config, dataset: Dataset, device: str, precision: str = "auto"
    ) -> None:
        from latentlab.core.vae.events import Started
        from latentlab.core.vae.training import run_training as train

        self.events = train(config, dataset, device=device, precision=precision)
        first = next(self.events)
        if not isinstance(first, Started):
            raise RuntimeError(f"engine did not start: {first!r}")
        self.batches = first.batches_per_epoch
        self.precision = first.precision  # what `auto` chose
        self.test: float | None = None
        self.accuracy: float | None = None

    def epoch(self) -> float:
        from latentlab.core.vae.events import BatchProgress, EpochEnd

        t0 = time.perf_counter()
        for event in self.events:
            if isinstance(event, BatchProgress) and event.batch == event.batches:
                break
            if not isinstance(event, BatchProgress):
                raise RuntimeError(f"engine stopped mid-epoch: {event!r}")
        else:
            raise RuntimeError("engine stopped before the epoch ended")
        seconds = time.perf_counter() - t0
        end = next(self.events)
        if not isinstance(end, EpochEnd):
            raise RuntimeError(f"expected the epoch's end, got {end!r}")
        self.test, self.accuracy = end.test.elbo_loss, end.test_accuracy
        return seconds

    def test_loss(self) -> float | None:
        return self.test

    def close(self) -> None:
        self.events.close()


def test_tensors(dataset: Dataset, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The test split as the engine evaluates it: (N, 784) float32 in [0, 1] and int64 labels."""
    import numpy as np
    import torch

    x = np.asarray(dataset.test_images).reshape(len(dataset.test_images), -1)
    images = torch.from_numpy(x.astype(np.float32)).to(device).div_(255.0)
    labels = torch.from_numpy(np.asarray(dataset.test_labels).astype(np.int64)).to(device)
    return images, labels


def _items_dataset(images: Any, labels: Any) -> Any:
    """A per-item Dataset like torchvision's MNIST + ToTensor: one image to float per item."""
    import numpy as np
    import torch

    class MnistItems(torch.utils.data.Dataset):
        def __init__(self) -> None:
            self.images = np.array(images, dtype=np.uint8)  # writable, as torchvision keeps it
            self.labels = np.array(labels, dtype=np.int64)

        def __len__(self) -> int:
            return len(self.labels)

        def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
            return torch.from_numpy(self.images[i]).float().div(255), int(self.labels[i])

    return MnistItems()


def idiomatic_loss(out: Forward, x: torch.Tensor) -> torch.Tensor:
    """pytorch/examples' VAE loss: BCE of sigmoid outputs plus the KL, summed over the batch.

    The same objective as the engine's (Bernoulli NLL + KL, beta = 1), written the tutorial way:
    sigmoid then BCE (two kernels, not the fused BCE-with-logits), `reduction='sum'` rather than
    the engine's batch mean. Adam is invariant to that constant scale (up to its eps).
    """
    import torch
    import torch.nn.functional as F

    from latentlab.core.vae.model import kl_to_standard_normal

    bce = F.binary_cross_entropy(torch.sigmoid(out.recon_logits), x, reduction="sum")
    return bce + kl_to_standard_normal(out.mu, out.var).sum()


class Idiomatic:
    """The loop a PyTorch user writes first: DataLoader(shuffle=True) over per-item tensors.

    Plain `torch.optim.Adam` (neither fused nor foreach on the CPU), `loss.item()` per batch for
    the running loss as pytorch/examples prints it, batches moved to the device one at a time.
    """

    def __init__(
        self,
        config: Config,
        dataset: Dataset,
        device: torch.device,
        init_state: dict[str, torch.Tensor],
    ) -> None:
        import torch

        from latentlab.core.vae.model import VAE

        self.config, self.device = config, device
        self.model = VAE(config).to(device)
        self.model.load_state_dict(init_state)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.learning_rate)
        self.loader = torch.utils.data.DataLoader(
            _items_dataset(dataset.train_images, dataset.train_labels),
            batch_size=config.batch_size,
            shuffle=True,
            generator=torch.Generator().manual_seed(config.seed),
        )
        self.x_test, self.y_test = test_tensors(dataset, device)
        self.running_loss = 0.0

    def epoch(self) -> float:
        t0 = time.perf_counter()
        self.model.train()
        for x, _ in self.loader:
            x = x.to(self.device).view(-1, self.config.input_dim)
            self.optimizer.zero_grad()
            loss = idiomatic_loss(self.model(x), x)
            loss.backward()
            self.running_loss += loss.item()
            self.optimizer.step()
        return time.perf_counter() - t0

    def test_loss(self) -> float:
        from latentlab.core.vae.training import evaluate

        summary, _ = evaluate(self.model, self.x_test, self.y_test, self.config)
        return summary.elbo_loss


def gemm_operands(
    config: Config, batch: int, device: torch.device, dtype: torch.dtype | None = None
) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """(a, b, out) for every matrix product of one forward + backward pass over `batch` images.

    Per Linear(in, out): forward x @ W.T (batch, in) x (in, out); weight gradient dY.T @ x
    (out, batch) x (batch, in); input gradient dY @ W (batch, out) x (out, in), skipped where
    the input is the data (it needs no gradient). Transposes are views, as in autograd.
    """
    import torch

    from latentlab.core.vae.layout import mlp_dims

    ops = []
    for net, dims in mlp_dims(config).items():
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(dims)):
            x = torch.randn(batch, fan_in, device=device, dtype=dtype)
            w = torch.randn(fan_out, fan_in, device=device, dtype=dtype)
            dy = torch.randn(batch, fan_out, device=device, dtype=dtype)
            ops.append((x, w.t(), torch.empty(batch, fan_out, device=device, dtype=dtype)))
            ops.append((dy.t(), x, torch.empty(fan_out, fan_in, device=device, dtype=dtype)))
            needs_input_grad = net == "decoder" or i > 0
            if needs_input_grad:
                ops.append((dy, w, torch.empty(batch, fan_in, device=device, dtype=dtype)))
    return ops


class MatmulFloor:
    """The epoch's GEMMs alone (`torch.mm` at the exact shapes, full batches then the last one).

    In `dtype`: float32, or bfloat16 for an engine whose products run in it (`--precision`).
    """

    def __init__(
        self, config: Config, n: int, device: torch.device, dtype: torch.dtype | None = None
    ) -> None:
        full, last = divmod(n, config.batch_size)
        self.device = device
        self.plan = [(gemm_operands(config, config.batch_size, device, dtype), full)]
        if last:
            self.plan.append((gemm_operands(config, last, device, dtype), 1))

    def epoch(self) -> float:
        import torch

        t0 = time.perf_counter()
        for ops, count in self.plan:
            for _ in range(count):
                for a, b, out in ops:
                    torch.mm(a, b, out=out)
        _sync(self.device)
        return time.perf_counter() - t0

    def gemms_per_epoch(self) -> int:
        return sum(len(ops) * count for ops, count in self.plan)


# --- parts -------------------------------------------------------------------------------------


def subset(dataset: Dataset, n: int | None) -> Dataset:
    """The first `n` training images (all when None or larger); the test set stays whole."""
    if n is None or n >= len(dataset.train_labels):
        return dataset
    return replace(
        dataset, train_images=dataset.train_images[:n], train_labels=dataset.train_labels[:n]
    )


def recipe(name: str = RECIPE, **changes: Any) -> Config:
    from latentlab.core.vae.config import PRESETS

    return PRESETS[name].config.replace(**changes)


def initial_state(config: Config) -> dict[str, torch.Tensor]:
    """The weights `run_training()` starts from: it seeds torch with config.seed, then builds VAE(config)."""
    import torch

    from latentlab.core.vae.model import VAE

    torch.manual_seed(config.seed)
    return {k: v.clone() for k, v in VAE(config).state_dict().items()}


def bench_speed(dataset: Dataset, epochs: int, device: str, note: str = "") -> list[Result]:
    """Target 1: engine vs idiomatic s/epoch (ratio >= 2), engine vs matmul floor (<= 1.5).

    The engine runs as `run_training()` does by default (`precision="auto"`); where that picks
    bfloat16, the float32 engine and both floors are measured in the same alternation too.
    """
    import torch

    from latentlab.core.vae.training import resolve_device

    dev = resolve_device(device)
    config = recipe(epochs=epochs)
    n = len(dataset.train_labels)
    engine = EngineRun(config, dataset, device)
    mixed = engine.precision != "float32"
    engine32 = EngineRun(config, dataset, device, precision="float32") if mixed else None
    idiom = Idiomatic(config, dataset, dev, initial_state(config))
    floor = MatmulFloor(config, n, dev, getattr(torch, engine.precision))
    floor32 = MatmulFloor(config, n, dev) if mixed else None
    contenders = {"engine": engine.epoch, "idiom": idiom.epoch, "floor": floor.epoch}
    if engine32 is not None and floor32 is not None:
        contenders |= {"engine32": engine32.epoch, "floor32": floor32.epoch}
    for warm in (floor, floor32):  # untimed: the first call of each GEMM shape sets it up
        if warm is not None:
            warm.epoch()
    log(
        f"training.speed: {epochs} alternated epochs x {len(contenders)} on {n:,} images "
        f"({dev}, engine in {engine.precision})"
    )
    try:
        s = alternate(contenders, epochs)
        engine_loss, idiom_loss = engine.test_loss(), idiom.test_loss()
        loss32 = None if engine32 is None else engine32.test_loss()
    finally:
        engine.close()
        if engine32 is not None:
            engine32.close()
    where = f"{n:,} images, batch {config.batch_size}, {dev}" + (f"; {note}" if note else "")
    diff = None if engine_loss is None else idiom_loss - engine_loss
    kind = engine.precision
    rows = [
        result_from(f"engine epoch (pytorch-vae, {kind})", s["engine"], "s", note=where),
        result_from(
            "idiomatic epoch (DataLoader)", s["idiom"], "s", note="per-item Dataset, plain Adam"
        ),
        result_from("speed-up: idiomatic / engine", ratios(s["idiom"], s["engine"]), "x", ">= 2.0"),
        result_from(
            f"matmul floor epoch ({kind})",
            s["floor"],
            "s",
            note=f"{floor.gemms_per_epoch():,} torch.mm calls",
        ),
        result_from(
            f"engine / matmul floor ({kind})", ratios(s["engine"], s["floor"]), "x", "<= 1.5"
        ),
    ]
    if engine32 is not None:
        rows += [
            result_from("engine epoch (float32)", s["engine32"], "s", note="--precision float32"),
            result_from(
                "speed-up: idiomatic / engine (float32)", ratios(s["idiom"], s["engine32"]), "x"
            ),
            result_from("matmul floor epoch (float32)", s["floor32"], "s"),
            result_from(
                "engine (float32) / matmul floor (float32)",
                ratios(s["engine32"], s["floor32"]),
                "x",
            ),
            result_from("engine (float32) / engine", ratios(s["engine32"], s["engine"]), "x"),
        ]
    rows += [
        Result(
            f"engine test loss, {epochs} epochs", engine_loss, engine_loss, engine_loss, "nats/img"
        ),
        Result(
            f"idiomatic test loss, {epochs} epochs", idiom_loss, idiom_loss, idiom_loss, "nats/img"
        ),
        Result(
            "test loss: idiomatic - engine",
            diff,
            diff,
            diff,
            "nats/img",
            "|x| <= 1",
            "same evaluate(): full test set, one z per image",
        ),
    ]
    if loss32 is not None:
        rows.append(
            Result(
                f"engine (float32) test loss, {epochs} epochs",
                loss32,
                loss32,
                loss32,
                "nats/img",
                note=f"{kind} - float32: {engine_loss - loss32:+.2f}",
            )
        )
    return rows


def bench_options(
    dataset: Dataset, epochs: int, device: str, big_batch: int, note: str = ""
) -> list[Result]:
    """Options that change the numbers, each against its own baseline in alternation.

    Batch 512 against the default; bfloat16 against float32 products, both forced, so the row
    shows what bfloat16 costs or saves on this machine whatever `auto` picks.
    """
    base = recipe(epochs=epochs)
    engine = EngineRun(base, dataset, device)
    engine_big = EngineRun(base.replace(batch_size=big_batch), dataset, device)
    f32 = EngineRun(base, dataset, device, precision="float32")
    bf16 = EngineRun(base, dataset, device, precision="bfloat16")
    runs = {"engine": engine, "big": engine_big, "f32": f32, "bf16": bf16}
    log(f"training.options: {epochs} alternated epochs x 4 on {len(dataset.train_labels):,} images")
    try:
        s = alternate({name: run.epoch for name, run in runs.items()}, epochs)
        losses = {name: run.test_loss() for name, run in runs.items()}
    finally:
        for run in runs.values():
            run.close()
    suffix = f"; {note}" if note else ""
    return [
        result_from(
            f"batch {big_batch} epoch (engine)",
            s["big"],
            "s",
            note=f"test loss {losses['big']:.2f} vs {losses['engine']:.2f} at batch {base.batch_size}{suffix}",
        ),
        result_from(
            f"speed-up: batch {big_batch} vs {base.batch_size}", ratios(s["engine"], s["big"]), "x"
        ),
        result_from(
            "bfloat16 epoch (engine, --precision bfloat16)",
            s["bf16"],
            "s",
            note=f"test loss {losses['bf16']:.2f} vs {losses['f32']:.2f} in float32; "
            f"auto picks {engine.precision} here",
        ),
        result_from("speed-up: bfloat16 vs float32", ratios(s["f32"], s["bf16"]), "x"),
    ]


def bench_time_to_good(
    dataset: Dataset, device: str, epochs: int | None, note: str = ""
) -> list[Result]:
    """Target 2: the default recipe as the app trains it; wall time from calling run_training()."""
    from latentlab.core.vae.config import DEFAULT_PRESET, PRESETS
    from latentlab.core.vae.events import Cancelled, EpochEnd, Failed, Finished
    from latentlab.core.vae.training import run_training as train

    config = PRESETS[DEFAULT_PRESET].config
    if epochs is not None:
        config = config.replace(epochs=epochs)
    log(f"training.time-to-good: {DEFAULT_PRESET}, {config.epochs} epochs")
    first_good: tuple[int, float] | None = None
    best = 0.0
    total: float | None = None
    t0 = time.perf_counter()
    for event in train(config, dataset, device=device):
        if isinstance(event, EpochEnd):
            accuracy = event.test_accuracy or 0.0
            best = max(best, accuracy)
            if first_good is None and accuracy >= GOOD_ACCURACY:
                first_good = (event.epoch, time.perf_counter() - t0)
        elif isinstance(event, Finished):
            total = time.perf_counter() - t0
        elif isinstance(event, (Failed, Cancelled)):
            raise RuntimeError(f"training the default recipe did not finish: {event!r}")
    where = f"{DEFAULT_PRESET}, {len(dataset.train_labels):,} images" + (
        f"; {note}" if note else ""
    )
    name = f"default model: to test acc >= {GOOD_ACCURACY}"
    if first_good is None:
        good = unavailable(
            name,
            "s",
            "< 120",
            f"not reached: best accuracy {best:.4f} in {config.epochs} epochs; {where}",
        )
    else:
        epoch, seconds = first_good
        good = Result(name, seconds, seconds, seconds, "s", "< 120", f"epoch {epoch}; {where}")
    return [
        good,
        Result(
            f"default model: all {config.epochs} epochs",
            total,
            total,
            total,
            "s",
            "",
            f"final accuracy {best:.4f}; includes encoding the test set",
        ),
    ]


def bench_scale(
    dataset: Dataset,
    device: str,
    fractions: tuple[float, ...],
    batches: tuple[int, ...],
    rounds: int,
    note: str = "",
) -> list[Result]:
    """Target 7: per-image epoch time against data size (batch 128) and batch size (all data)."""
    base = recipe(epochs=1)
    n_all = len(dataset.train_labels)
    cases: list[tuple[int, int]] = [(max(1, round(n_all * f)), base.batch_size) for f in fractions]
    cases += [(n_all, b) for b in batches if (n_all, b) not in cases]
    log(f"training.scale: {len(cases)} cases x {rounds} rounds")

    def one_epoch(n: int, batch: int) -> float:
        run = EngineRun(base.replace(batch_size=batch), subset(dataset, n), device)
        try:
            return run.epoch()
        finally:
            run.close()

    s = alternate({f"{n}/{b}": (lambda n=n, b=b: one_epoch(n, b)) for n, b in cases}, rounds)
    results = []
    for n, b in cases:
        seconds = s[f"{n}/{b}"]
        per_image = [1e6 * t / n for t in seconds]
        sec = sorted(seconds)[len(seconds) // 2]
        label = f"scale: {n:,} images, batch {b}"
        results.append(
            result_from(
                label,
                per_image,
                "us/img",
                note=f"{sec:.3g} s/epoch" + (f"; {note}" if note else ""),
            )
        )
    return results


def bench_gpu(dataset: Dataset, epochs: int) -> list[Result]:
    """The engine's epoch on CUDA, when this machine has one (`--device auto` picks it)."""
    import torch

    name = "GPU epoch (pytorch-vae)"
    if not torch.cuda.is_available():
        return [
            unavailable(
                name,
                "s",
                "",
                "no GPU on this machine (torch.cuda.is_available() is False); "
                "with one, `--device auto` or `--device cuda` trains on it",
            )
        ]
    run = EngineRun(recipe(epochs=epochs), dataset, "cuda")
    try:
        samples = [run.epoch() for _ in range(epochs)]
    finally:
        run.close()
    return [result_from(name, samples, "s", note=torch.cuda.get_device_name(0))]


# --- entry point -------------------------------------------------------------------------------


def load_mnist(args: argparse.Namespace) -> Dataset:
    from latentlab.core.data.datasets import load_dataset

    return load_dataset("mnist", data_dir(args))


def run(args: argparse.Namespace) -> list[Result]:
    """The selected parts, in PARTS order."""
    from latentlab.core.errors import LatentlabError

    parts = selected_parts(args, NAME, PARTS)
    s = settings_from(args)
    device = getattr(args, "device", "cpu")
    try:
        dataset = load_mnist(args)
    except LatentlabError as exc:
        why = "MNIST not found: " + str(exc).splitlines()[0]
        return [unavailable(f"training.{p}", "", "", why) for p in parts]
    small = subset(dataset, s.train_size)
    note = f"quick: {s.train_size:,} images" if s.quick and s.train_size else ""
    results: list[Result] = []
    for part in parts:
        if part == "speed":
            results += bench_speed(small, s.epochs, device, note)
        elif part == "options":
            results += bench_options(small, s.epochs, device, s.option_batch, note)
        elif part == "time-to-good":
            good_note = "quick: 1 epoch, not comparable to the target" if s.quick else ""
            results += bench_time_to_good(
                subset(dataset, s.good_train_size), device, s.good_epochs, good_note
            )
        elif part == "scale":
            results += bench_scale(
                small, device, s.scale_fractions, s.scale_batches, s.scale_rounds, note
            )
        elif part == "gpu":
            results += bench_gpu(small, s.epochs)
    return results
