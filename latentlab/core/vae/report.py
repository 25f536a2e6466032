"""A model's report card on the test set: ELBO, IWAE likelihood, classifier, conditional generation.

* Negative ELBO per image: reconstruction (averaged over the k posterior samples) + analytic KL.
* IWAE estimate of the negative log-likelihood (Burda, Grosse & Salakhutdinov, "Importance
  Weighted Autoencoders", 2015): -log (1/k) sum_j p(x|z_j) p(z_j) / q(z_j|x), z_j ~ q(z|x). It is
  a bound that tightens as k grows, and never looser than the ELBO in expectation. For a
  conditional model the decoder reads the classifier's softmax of x, as in training, so this is
  the likelihood under that same model.
* Classifier accuracy and the confusion matrix (rows: true class, columns: predicted).
* Conditional-generation accuracy: for each class c, styles drawn from the prior N(0, I) are
  decoded with a one-hot c, and the model's own classifier reads the decoded means.

`run_report` is a generator: every chunk it yields a `Progress` (a cancel point) and it ends by
yielding the `ModelReport`, so a GUI worker can drive it and stop it between chunks; cancelled, it
raises `latentlab.core.jobs.JobCancelled` (no partial report: half a test set would mislead).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch

from latentlab.core.errors import LatentlabError
from latentlab.core.jobs import Cancel, Progress, check_cancelled
from latentlab.core.vae.model import VAE, kl_to_standard_normal, reconstruction_nll
from latentlab.core.vae.record import ModelRecord
from latentlab.core.vae.training import model_from_record

if TYPE_CHECKING:
    from latentlab.core.data.datasets import Dataset

LOG_2PI = math.log(2 * math.pi)
SAMPLES_PER_CHUNK = 20_000  # decoded images per forward pass (images x k)
MAX_IWAE_K = 5_000  # Burda et al. (2016) evaluate with k = 5000; one image per pass up to here
DEFAULT_K = 100
DEFAULT_GENERATED_PER_CLASS = 500


@dataclass
class ModelReport:
    """The figures of one evaluation (nats per image; fractions in [0, 1])."""

    test_size: int
    k: int
    neg_elbo: float
    recon: float
    kl: float
    iwae_nll: float | None  # None when k == 0 (not asked for)
    accuracy: float | None = None  # conditional models only, like everything below
    confusion: np.ndarray | None = None  # (C, C) int64 counts, rows true, columns predicted
    generation_accuracy: float | None = None
    generation_per_class: np.ndarray | None = None  # (C,) fraction read as the class asked for
    generated_per_class: int = 0
    class_names: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        """Plain JSON-ready figures (arrays as nested lists)."""
        out = {
            "test_size": self.test_size,
            "test_neg_elbo": self.neg_elbo,
            "test_recon": self.recon,
            "test_kl": self.kl,
        }
        if self.iwae_nll is not None:
            out["test_iwae_nll"] = self.iwae_nll
            out["iwae_k"] = self.k
        if self.accuracy is not None:
            out["test_accuracy"] = self.accuracy
            out["confusion"] = np.asarray(self.confusion).tolist()
        if self.generation_accuracy is not None:
            out["generation_accuracy"] = self.generation_accuracy
            out["generation_per_class"] = np.asarray(self.generation_per_class).tolist()
            out["generated_per_class"] = self.generated_per_class
        return out


def log_normal(z: torch.Tensor, mu: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag(var)) summed over the last axis."""
    return -0.5 * (((z - mu) ** 2) / var + var.log() + LOG_2PI).sum(-1)


@torch.inference_mode()
def importance_chunk(
    model: VAE, x: torch.Tensor, k: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For a batch x (B, 784): IWAE log p(x) estimate, mean recon NLL over k samples, analytic KL."""
    config = model.config
    mu, var = model.encode(x)
    b, d = mu.shape
    eps = torch.randn((k, b, d), generator=generator, device=x.device, dtype=mu.dtype)
    z = mu + eps * var.sqrt()  # (k, B, D)
    probs = torch.softmax(model.classifier(x), -1) if model.classifier is not None else None
    flat_z = z.reshape(k * b, d)
    flat_probs = None if probs is None else probs.expand(k, -1, -1).reshape(k * b, -1)
    logits = model.decode_logits(flat_z, flat_probs)
    recon = reconstruction_nll(logits, x.expand(k, -1, -1).reshape(k * b, -1), config).view(k, b)
    log_w = -recon + log_normal(z, torch.zeros_like(z), torch.ones_like(z)) - log_normal(z, mu, var)
    log_px = torch.logsumexp(log_w, dim=0) - math.log(k)
    return log_px, recon.mean(0), kl_to_standard_normal(mu, var)


@torch.inference_mode()
def run_report(
    record: ModelRecord,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    k: int = DEFAULT_K,
    generated_per_class: int = DEFAULT_GENERATED_PER_CLASS,
    device: str = "cpu",
    seed: int = 0,
    cancel: Cancel = None,
) -> Iterator[Progress | ModelReport]:
    """Evaluate `record` on test `images` (N, 28, 28) uint8 and `labels`; see the module doc.

    k = 0 skips the IWAE estimate (the ELBO then uses one posterior sample per image).
    """
    if not 0 <= k <= MAX_IWAE_K:
        raise ValueError(f"k must be 0 (no IWAE estimate) or up to {MAX_IWAE_K}, got {k}")
    model = model_from_record(record, device).eval()
    dev = next(model.parameters()).device
    config = record.config
    x_all = torch.from_numpy(np.asarray(images).reshape(len(images), -1).astype(np.float32) / 255)
    y_all = torch.from_numpy(np.asarray(labels).astype(np.int64))
    n = len(x_all)
    samples = max(k, 1)
    chunk = max(1, SAMPLES_PER_CHUNK // samples)
    gen_total = config.num_classes * generated_per_class if config.conditional else 0
    total = n + gen_total
    gen = torch.Generator(device=dev).manual_seed(seed)
    sums = torch.zeros(3, dtype=torch.float64)
    confusion = np.zeros((config.num_classes, config.num_classes), np.int64)
    stage = f"importance sampling (k = {k})" if k else "test ELBO"
    yield Progress(0, total, stage)
    for start in range(0, n, chunk):
        check_cancelled(cancel)
        x = x_all[start : start + chunk].to(dev)
        log_px, recon, kl = importance_chunk(model, x, samples, gen)
        sums += torch.stack([log_px.sum(), recon.sum(), kl.sum()]).double().cpu()
        if model.classifier is not None:
            predicted = model.classifier(x).argmax(-1).cpu().numpy()
            np.add.at(confusion, (y_all[start : start + chunk].numpy(), predicted), 1)
        yield Progress(min(start + chunk, n), total, stage)
    mean = (sums / max(n, 1)).tolist()
    report = ModelReport(
        test_size=n,
        k=k,
        neg_elbo=mean[1] + mean[2],
        recon=mean[1],
        kl=mean[2],
        iwae_nll=-mean[0] if k else None,
        class_names=tuple(record.class_names),
    )
    if config.conditional:
        report.confusion = confusion
        report.accuracy = float(np.trace(confusion) / max(n, 1))
        if generated_per_class > 0:
            # Its own stream: the generation figure does not depend on k.
            gen = torch.Generator(device=dev).manual_seed(seed + 1)
            per_class = np.zeros(config.num_classes)
            for c in range(config.num_classes):
                check_cancelled(cancel)
                per_class[c] = generation_accuracy(model, c, generated_per_class, gen)
                yield Progress(n + (c + 1) * generated_per_class, total, "conditional generation")
            report.generation_per_class = per_class
            report.generation_accuracy = float(per_class.mean())
            report.generated_per_class = generated_per_class
    yield report


@torch.inference_mode()
def generation_accuracy(model: VAE, c: int, count: int, generator: torch.Generator) -> float:
    """Fraction of `count` prior styles decoded as class c that the classifier reads as c."""
    dev = next(model.parameters()).device
    config = model.config
    z = torch.randn((count, config.latent_dim), generator=generator, device=dev)
    one_hot = torch.zeros((count, config.num_classes), device=dev)
    one_hot[:, c] = 1.0
    images = model.decode(z, one_hot)
    assert model.classifier is not None
    return float((model.classifier(images).argmax(-1) == c).float().mean())


def evaluate_report(
    record: ModelRecord, images: np.ndarray, labels: np.ndarray, **kw
) -> ModelReport:
    """Run `run_report` to the end (no progress, no cancel) and return the report."""
    result = None
    for item in run_report(record, images, labels, **kw):
        if isinstance(item, ModelReport):
            result = item
    assert result is not None
    return result


def iwae_metrics(record: ModelRecord, dataset: Dataset, k: int, device: str = "auto") -> dict:
    """`test_iwae_nll` (nats per image, k importance samples) for `latentlab eval --iwae K`."""
    if not 1 <= k <= MAX_IWAE_K:
        raise LatentlabError(f"--iwae must be in 1..{MAX_IWAE_K} samples, got {k}")
    report = evaluate_report(
        record,
        dataset.test_images,
        dataset.test_labels,
        k=k,
        generated_per_class=0,
        device=device,
    )
    return {"test_iwae_nll": report.iwae_nll, "iwae_k": k}
