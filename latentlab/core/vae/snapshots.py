"""Latent snapshots of a model while it trains: the live training view's data, no Qt.

Every `SnapshotPlan.every` optimizer steps (and at the start and at each epoch's end) the
trainer encodes one fixed subset of the test set with the current weights and sends a
`LatentSnapshot`: the subset's latent means and a copy of the decoder's weights, enough to draw
the cloud and to decode the explorer's current point as the model sees it now. The subset is
chosen once, by seed, stratified by class, so every snapshot shows the same images and a replay
can follow each point. torch is imported only where a snapshot is taken, so the GUI can import
this module without it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from latentlab.core.vae.config import Config
from latentlab.core.vae.layout import layer_names
from latentlab.core.vae.numpy_net import NumpyConvDecoder, NumpyMLP, _sigmoid

if TYPE_CHECKING:
    import torch

SUBSET_SIZE = 2000  # test images encoded for each snapshot
SNAPSHOT_EVERY = 200  # optimizer steps between snapshots (plus one at each epoch's end)
SNAPSHOT_INTERVAL_S = 1.0  # at most one snapshot a second reaches the GUI (epoch ends always do)
DECODER_PREFIX = "decoder."


@dataclass(frozen=True)
class SnapshotPlan:
    """How often, how many and which test images: what `run_training(snapshots=...)` takes."""

    every: int = SNAPSHOT_EVERY  # optimizer steps between two snapshots
    size: int = SUBSET_SIZE  # images of the fixed subset (all of them if the test set is smaller)
    seed: int = 0  # which images: the subset is drawn once from this seed

    def __post_init__(self) -> None:
        if self.every < 1:
            raise ValueError(f"snapshots need every >= 1 step, got {self.every}")
        if self.size < 1:
            raise ValueError(f"a snapshot needs at least one image, got size {self.size}")


@dataclass(frozen=True, eq=False)
class LatentSnapshot:
    """The fixed subset's latent means at one moment of training (plain data, thread-safe)."""

    step: int  # optimizer steps done when it was taken (0: the initial weights)
    epoch: int  # the epoch it was taken in (1-based; 0 before the first step)
    means: np.ndarray  # (N, d) float32: q(z|x) means of the subset
    labels: np.ndarray | None  # (N,) uint8 classes of the subset, or None without labels
    indices: np.ndarray  # (N,) int64: which test images (the same in every snapshot of a run)
    config: Config  # the model being trained: enough to rebuild the decoder
    decoder: dict[str, np.ndarray] = field(repr=False)  # decoder weights, float32 copies
    epoch_end: bool = False  # taken after the epoch's last step
    elapsed_s: float = 0.0  # since training started


def choose_subset(labels: np.ndarray | None, n: int, size: int, seed: int) -> np.ndarray:
    """`size` sorted indices into `n` test images, drawn once by `seed`, stratified by class.

    Each class gets its share of the subset (largest remainders round it), so a rare class is
    neither lost nor over-drawn; with no labels the draw is uniform.
    """
    if size >= n:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    if labels is None:
        return np.sort(rng.choice(n, size, replace=False)).astype(np.int64)
    labels = np.asarray(labels)[:n]
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * size / n
    take = np.floor(exact).astype(np.int64)
    short = size - int(take.sum())
    take[np.argsort(-(exact - take), kind="stable")[:short]] += 1
    chosen = [
        rng.choice(np.flatnonzero(labels == c), k, replace=False)
        for c, k in zip(classes, take, strict=True)
    ]
    return np.sort(np.concatenate(chosen)).astype(np.int64)


class SnapshotTaker:
    """Encodes the fixed subset with a torch model's current weights; see the module docstring."""

    def __init__(
        self,
        plan: SnapshotPlan,
        config: Config,
        x_test: torch.Tensor,
        test_labels: np.ndarray | None,
    ) -> None:
        self.plan = plan
        self.config = config
        self.indices = choose_subset(test_labels, len(x_test), plan.size, plan.seed)
        import torch

        self._x = x_test[torch.from_numpy(self.indices).to(x_test.device)]
        self._labels = (
            None
            if test_labels is None
            else np.asarray(test_labels)[self.indices].astype(np.uint8, copy=True)
        )
        self._start = time.perf_counter()

    def due(self, step: int) -> bool:
        """Whether a snapshot is due after `step` optimizer steps (epoch ends: always)."""
        return step % self.plan.every == 0

    def take(
        self, model: torch.nn.Module, step: int, epoch: int, *, epoch_end: bool = False
    ) -> LatentSnapshot:
        """Encode the subset in eval mode without gradients, then put the model back as it was."""
        import torch

        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                means = [
                    model.encode(self._x[i : i + SUBSET_SIZE])[0].float().cpu()
                    for i in range(0, len(self._x), SUBSET_SIZE)
                ]
                decoder = {
                    k: v.detach().float().cpu().numpy().copy()
                    for k, v in model.state_dict().items()
                    if k.startswith(DECODER_PREFIX)
                }
        finally:
            model.train(was_training)
        return LatentSnapshot(
            step=step,
            epoch=epoch,
            means=torch.cat(means).numpy(),
            labels=self._labels,
            indices=self.indices,
            config=self.config,
            decoder=decoder,
            epoch_end=epoch_end,
            elapsed_s=time.perf_counter() - self._start,
        )


class SnapshotDecoder:
    """The decoder of a snapshot in numpy: the explorer's point decoded with those weights."""

    def __init__(self, config: Config, weights: dict[str, np.ndarray]) -> None:
        self.config = config
        if config.architecture == "conv":
            self._net: Callable[[np.ndarray], np.ndarray] = NumpyConvDecoder(config, weights)
        else:
            layers = [(weights[w], weights[b]) for w, b in layer_names(config, "decoder")]
            self._net = NumpyMLP(layers, config.activation)

    @classmethod
    def of(cls, snapshot: LatentSnapshot) -> SnapshotDecoder:
        return cls(snapshot.config, snapshot.decoder)

    def decode(self, z: np.ndarray, class_index: int = 0) -> np.ndarray:
        """(28, 28) float32 pixel means in [0, 1] for one latent `z` (d,) of class `class_index`.

        A `z` of another length (the explorer shows another model) is cut or padded with zeros.
        """
        d = self.config.latent_dim
        z = np.asarray(z, np.float32).ravel()[:d]
        x = np.zeros(d, np.float32)
        x[: len(z)] = z
        if self.config.conditional:
            onehot = np.zeros(self.config.num_classes, np.float32)
            onehot[int(np.clip(class_index, 0, self.config.num_classes - 1))] = 1.0
            x = np.concatenate([x, onehot])
        pixels = _sigmoid(self._net(x[None, :]))
        return np.ascontiguousarray(pixels.reshape(28, 28), dtype=np.float32)


class SnapshotThrottle:
    """Lets at most one snapshot through per `interval_s`; the newest one held back is kept.

    A held snapshot goes out at the next chance (`pending`), unless a newer one replaces it;
    `force` (an epoch's end) always passes and clears what was held. So the GUI gets a few
    snapshots a second at most, and never misses an epoch's end or the run's last snapshot.
    """

    def __init__(
        self, interval_s: float = SNAPSHOT_INTERVAL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._interval = interval_s
        self._clock = clock
        self._last: float | None = None
        self._held: LatentSnapshot | None = None

    def offer(self, snapshot: LatentSnapshot, *, force: bool = False) -> LatentSnapshot | None:
        """`snapshot` if it may go now, else None (it is held until the next chance)."""
        self._held = snapshot
        return self.pending(force=force)

    def pending(self, *, force: bool = False) -> LatentSnapshot | None:
        """The held snapshot, if there is one and it may go now (`force`: whenever held)."""
        if self._held is None:
            return None
        now = self._clock()
        if force or self._last is None or now - self._last >= self._interval:
            self._last = now
            held, self._held = self._held, None
            return held
        return None
