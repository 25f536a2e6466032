"""Fitting a model's class densities: encode its training set in torch, fit the mixtures in numpy.

Run at the end of training and by `latentlab fit-density FILE` on an existing model file.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import torch

from latentlab.core.vae.density import LatentDensity, fit_class_density

if TYPE_CHECKING:
    from latentlab.core.data.datasets import Dataset
    from latentlab.core.vae.model import VAE
    from latentlab.core.vae.record import ModelRecord

ENCODE_CHUNK = 2000


@torch.inference_mode()
def sample_posterior(model: VAE, x: torch.Tensor, seed: int) -> np.ndarray:
    """One z ~ q(z|x) per image of x (N, 784) on the model's device: float64 (N, d)."""
    model.eval()
    gen = torch.Generator(device=x.device).manual_seed(seed)
    out = []
    for i in range(0, len(x), ENCODE_CHUNK):
        mu, var = model.encode(x[i : i + ENCODE_CHUNK].float())
        eps = torch.randn(mu.shape, generator=gen, device=mu.device, dtype=mu.dtype)
        out.append((mu + eps * var.sqrt()).double().cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, model.config.latent_dim))


def fit_model_density(
    model: VAE, x_train: torch.Tensor, y_train: np.ndarray, seed: int = 0
) -> tuple[LatentDensity, float]:
    """The class mixtures of z ~ q(z|x) over the training images, and the seconds it took."""
    start = time.perf_counter()
    config = model.config
    z = sample_posterior(model, x_train, seed)
    labels = np.asarray(y_train) if config.conditional else None
    density = fit_class_density(z, labels, config.num_classes, seed=seed)
    return density, time.perf_counter() - start


def fit_record_density(
    record: ModelRecord, dataset: Dataset, device: str = "cpu", seed: int = 0
) -> tuple[LatentDensity, float]:
    """`fit_model_density` for a model file's record and its data set."""
    from latentlab.core.vae.training import model_from_record

    model = model_from_record(record, device)
    dev = next(model.parameters()).device
    flat = np.asarray(dataset.train_images).reshape(len(dataset.train_images), -1)
    x = torch.from_numpy(flat.astype(np.float32)).to(dev).div_(255.0)
    return fit_model_density(model, x, np.asarray(dataset.train_labels), seed)
