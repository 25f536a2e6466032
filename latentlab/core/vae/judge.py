"""The independent judge of generated digits: a small CNN trained apart from every latentlab model.

A conditional model's own classifier is no fair referee of its generated digits (it trains with
the decoder it would grade, and learns to agree with it), so the report's conditional-generation
accuracy is read by this CNN instead: conv16-pool-conv32-pool-fc64-fc10, 106k weights (0.4 MB),
trained once on MNIST by `benchmarks/judge.py` (test accuracy 0.991). Its weights ship with the
package (`resources/judge-cnn.safetensors`, `latentlab/_resources` in a wheel). It reads digits
only: for another data set there is no independent judge and the report says so.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

FORMAT = "latentlab-judge-cnn/1"
FILENAME = "judge-cnn.safetensors"
DATASETS = ("mnist",)  # the data sets whose classes the judge reads
MAX_BYTES = 4 * 1024**2
CHUNK = 2000
_PACKAGE = Path(__file__).resolve().parents[2]  # the latentlab package folder


class JudgeCNN(nn.Module):
    """conv16-pool-conv32-pool-fc64-fc10: ~106k weights (0.4 MB), ~99% on MNIST."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 7 * 7, 64)
        self.fc2 = nn.Linear(64, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 64 features before the last layer (the space a Frechet distance is measured in)."""
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.relu(self.fc1(x.flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for images (N, 1, 28, 28) in [0, 1]."""
        return self.fc2(self.features(x))


def weights_path() -> Path:
    """`latentlab/_resources/judge-cnn.safetensors` installed; `resources/` in a checkout."""
    installed = _PACKAGE / "_resources" / FILENAME
    return installed if installed.is_file() else _PACKAGE.parent / "resources" / FILENAME


class Judge:
    """The bundled judge CNN, loaded from safetensors (no pickles) and checked."""

    def __init__(self, path: str | Path | None = None) -> None:
        from latentlab.core.safetensors_file import read_safetensors

        self.path = Path(path) if path is not None else weights_path()
        file = read_safetensors(self.path, max_bytes=MAX_BYTES, what="the judge CNN")
        meta = file.header.get("__metadata__") or {}
        if meta.get("format") != FORMAT:
            raise ValueError(f"{self.path}: not a judge CNN file (format {meta.get('format')!r})")
        self.metadata: dict[str, str] = dict(meta)
        model = JudgeCNN()
        model.load_state_dict(
            {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in file.tensors.items()}
        )
        self.model = model.eval()

    @property
    def name(self) -> str:
        """What the labels say: which judge read the digits."""
        acc = self.metadata.get("test_accuracy", "?")
        return f"latentlab's independent judge CNN (MNIST test accuracy {acc})"

    @torch.inference_mode()
    def _run(self, images: np.ndarray, head: bool) -> np.ndarray:
        a = np.asarray(images, dtype=np.float32)
        if a.shape[1:] not in ((784,), (28, 28), (28, 28, 1), (1, 28, 28)):
            raise ValueError(f"expected images of shape (N, 28, 28) or (N, 784), got {a.shape}")
        x = torch.from_numpy(np.ascontiguousarray(a)).reshape(-1, 1, 28, 28)
        f = self.model if head else self.model.features
        out = [f(x[i : i + CHUNK]) for i in range(0, len(x), CHUNK)]
        return torch.cat(out).numpy() if out else np.zeros((0, 10 if head else 64), np.float32)

    def logits(self, images: np.ndarray) -> np.ndarray:
        """Logits (N, 10) for images (N, 28, 28), (N, 784) or (N, 28, 28, 1) in [0, 1]."""
        return self._run(images, head=True)

    def features(self, images: np.ndarray) -> np.ndarray:
        """The penultimate layer's 64 features per image."""
        return self._run(images, head=False)

    def predict(self, images: np.ndarray) -> np.ndarray:
        return self.logits(images).argmax(axis=1)


def judge_for(dataset: str) -> Judge | None:
    """The judge of a data set's classes, or None where there is none (Fashion-MNIST...)."""
    return Judge() if dataset in DATASETS else None
