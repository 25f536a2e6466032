"""An independent judge of digits: a small CNN trained apart from every latentlab model.

The network itself (`JudgeCNN`) and its loader (`Judge`) live in `latentlab.core.vae.judge`, so
the app's and the CLI's reports use the same judge; this script trains it. The generation
benchmark asks "does the image decoded for class c look like a c?". The model's
own classifier is no fair referee (it was trained together with the decoder it would grade), so
this CNN, with a different architecture and its own training run, reads the generated digits.

    python benchmarks/judge.py train [--data-dir DIR] [--out resources/judge-cnn.safetensors]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:  # run as a script from anywhere: make `latentlab` importable
    sys.path.insert(0, str(REPO))

from latentlab.core.vae.judge import FORMAT, Judge, JudgeCNN, weights_path  # noqa: E402

DEFAULT_WEIGHTS = weights_path()  # resources/judge-cnn.safetensors: the package ships it
DEFAULT_DATA_DIR = REPO.parent / "shared" / "datasets" / "mnist"
DEFAULT_EPOCHS = 6
BATCH_SIZE = 128
LEARNING_RATE = 2e-3
PREDICT_CHUNK = 2000


def _as_batch(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """(N, 28, 28) or (N, 784) pixels in [0, 1] -> float32 tensor (N, 1, 28, 28)."""
    x = torch.as_tensor(np.asarray(images, dtype=np.float32))
    if (x.ndim == 2 and x.shape[1] == 784) or (x.ndim == 3 and tuple(x.shape[1:]) == (28, 28)):
        return x.reshape(-1, 1, 28, 28)
    raise ValueError(f"expected images of shape (N, 28, 28) or (N, 784), got {tuple(x.shape)}")


def _uint8_to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(images, dtype=np.float32) / 255.0).reshape(-1, 1, 28, 28)


@torch.inference_mode()
def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    correct = 0
    for i in range(0, len(x), PREDICT_CHUNK):
        correct += int(
            (model(x[i : i + PREDICT_CHUNK]).argmax(1) == y[i : i + PREDICT_CHUNK]).sum()
        )
    return correct / max(len(x), 1)


def train_judge(
    dataset: Any,
    epochs: int = DEFAULT_EPOCHS,
    seed: int = 0,
    *,
    log: bool = False,
) -> dict[str, np.ndarray]:
    """Train the judge CNN on `dataset` (train_images, train_labels, ...) and return its weights.

    The whole training set sits in one tensor and batches are slices of a seeded permutation, so
    the same seed gives the same weights on the same machine. Adam with a learning rate falling
    linearly to zero gets ~99% in a few epochs without any schedule tuning.
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    x = _uint8_to_tensor(dataset.train_images)
    y = torch.from_numpy(np.asarray(dataset.train_labels, dtype=np.int64))
    model = JudgeCNN()
    opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    steps = epochs * ((len(x) + BATCH_SIZE - 1) // BATCH_SIZE)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0 - step / steps)
    for epoch in range(1, epochs + 1):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(len(x), generator=gen)
        xs, ys = x[order], y[order]
        total = 0.0
        for i in range(0, len(xs), BATCH_SIZE):
            loss = F.cross_entropy(model(xs[i : i + BATCH_SIZE]), ys[i : i + BATCH_SIZE])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(ys[i : i + BATCH_SIZE])
        if log:
            print(
                f"epoch {epoch}/{epochs}: train loss {total / len(xs):.4f}"
                f" ({time.perf_counter() - start:.1f} s)",
                flush=True,
            )
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def test_accuracy(weights: dict[str, np.ndarray], dataset: Any) -> float:
    """Fraction of the dataset's test images the CNN with `weights` reads correctly."""
    model = _build(weights)
    y = torch.from_numpy(np.asarray(dataset.test_labels, dtype=np.int64))
    return _accuracy(model, _uint8_to_tensor(dataset.test_images), y)


def _build(weights: dict[str, np.ndarray]) -> JudgeCNN:
    model = JudgeCNN()
    model.load_state_dict(
        {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in weights.items()}
    )
    return model.eval()


def save_judge(weights: dict[str, np.ndarray], path: Path, metadata: dict[str, Any]) -> None:
    """Write the weights atomically; safetensors metadata must be strings, so values are str()."""
    from safetensors.numpy import save

    from latentlab.core.atomic import write_atomic

    tensors = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in weights.items()}
    meta = {"format": FORMAT, **{k: str(v) for k, v in metadata.items()}}
    write_atomic(Path(path), save(tensors, metadata=meta))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train the judge CNN on MNIST and save it")
    train.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR if DEFAULT_DATA_DIR.is_dir() else None,
        help=f"MNIST folder (default: {DEFAULT_DATA_DIR} if present, else latentlab's search)",
    )
    train.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS)
    train.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    train.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from latentlab.core.data.datasets import load_dataset

    dataset = load_dataset("mnist", args.data_dir)
    start = time.perf_counter()
    weights = train_judge(dataset, epochs=args.epochs, seed=args.seed, log=True)
    seconds = time.perf_counter() - start
    accuracy = test_accuracy(weights, dataset)
    save_judge(
        weights,
        args.out,
        {
            "test_accuracy": f"{accuracy:.4f}",
            "epochs": args.epochs,
            "seed": args.seed,
            "train_time_s": f"{seconds:.1f}",
            "torch_threads": torch.get_num_threads(),
            "architecture": "conv16-pool-conv32-pool-fc64-fc10, ReLU",
        },
    )
    print(
        f"test accuracy {accuracy:.4f} after {args.epochs} epochs in {seconds:.1f} s -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["DEFAULT_WEIGHTS", "FORMAT", "Judge", "JudgeCNN", "save_judge", "train_judge"]
