"""A model's report card on the test set: ELBO, IWAE likelihood, classifier, conditional generation.

* Negative ELBO per image: reconstruction + analytic KL, as the trainer reports its test loss. For
  a conditional model the decoder reads the classifier's softmax of x there, as in training: that
  is the training objective, not a bound on -log p(x).
* IWAE estimate of the negative log-likelihood (Burda, Grosse & Salakhutdinov, "Importance
  Weighted Autoencoders", 2015): -log (1/k) sum_j p(x, z_j [, y_j]) / q(z_j [, y_j] | x). It is a
  bound that tightens as k grows. A conditional model's likelihood marginalises over the class,
  p(x) = sum_y p(y) p(x | y) with p(y) uniform: each sample draws y_j from the classifier mixed
  with a tenth of the uniform distribution (a defensive proposal: no class is ever unproposed, so
  the weights stay bounded when the classifier is confidently wrong) and z_j ~ q(z|x), and the
  decoder reads the one-hot y_j. `marginal_elbo` is the same weights' k = 1 bound (their mean log),
  `iwae_se` the standard error of the test-set mean. The likelihood is Bernoulli on grey-level
  pixels unless `binarized`: only with dynamically binarised images (each pixel 1 with probability
  its grey level, Burda et al.'s protocol) is the figure comparable with the binarised-MNIST
  numbers of the papers; a Gaussian likelihood's figures are comparable with neither.
* Classifier accuracy and the confusion matrix (rows: true class, columns: predicted).
* Conditional-generation accuracy: for each class c, styles drawn from the model's class mixture
  (where the file has one, else the prior N(0, I)) are decoded with a one-hot c and read by the
  independent judge CNN (`core.vae.judge`) where the data set has one, else by the model's own
  classifier; `generation_judge` says which.
* The aggregate posterior's distance from the prior, where the file has a class density: the
  mean over test images of log q_mix(z|y) - log N(z; 0, I), z ~ q(z|x), in nats.

`run_report` is a generator: every chunk it yields a `Progress` (a cancel point) and it ends by
yielding the `ModelReport`, so a GUI worker can drive it and stop it between chunks; cancelled, it
raises `latentlab.core.jobs.JobCancelled` (no partial report: half a test set would mislead).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
DEFENSIVE_SHARE = 0.1  # of the class proposal that is uniform: q'(y|x) = 0.9 q(y|x) + 0.1 / C
OWN_CLASSIFIER = "the model's own classifier (no independent judge for this data set)"


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
    iwae_se: float | None = None  # standard error of the IWAE test-set mean, nats
    marginal_elbo: float | None = None  # -mean log w over the IWAE samples: the k = 1 bound
    binarized: bool = False  # the test images were dynamically binarised (Burda et al.)
    likelihood: str = "bernoulli"
    generation_judge: str = ""  # who read the generated images
    generation_styles: str = ""  # what their styles were drawn from
    density_gain: float | None = None  # nats: log q_mix(z|y) - log N(z; 0, I) on the test set
    probes: Any = None  # a core.explore.probe_report.ProbeReport, when the report asked for one

    @property
    def likelihood_note(self) -> str:
        """Which published figures the likelihood may be set beside (none, most of the time)."""
        if self.likelihood == "gaussian":
            return (
                "Gaussian likelihood (fixed std): not comparable with Bernoulli figures, "
                "nor with published MNIST likelihoods"
            )
        if self.binarized:
            return (
                "Bernoulli likelihood on dynamically binarised test images (Burda et al.): "
                "comparable with published binarised-MNIST figures"
            )
        return (
            "Bernoulli likelihood on grey-level pixels: not the binarised-MNIST figure of the "
            "papers (evaluate with --binarized for that)"
        )

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
            out["test_iwae_se"] = self.iwae_se
            out["test_marginal_neg_elbo"] = self.marginal_elbo
        out["binarized"] = self.binarized
        out["likelihood_note"] = self.likelihood_note
        if self.density_gain is not None:
            out["density_gain_nats"] = self.density_gain
        if self.accuracy is not None:
            out["test_accuracy"] = self.accuracy
            out["confusion"] = np.asarray(self.confusion).tolist()
        if self.generation_accuracy is not None:
            out["generation_accuracy"] = self.generation_accuracy
            out["generation_per_class"] = np.asarray(self.generation_per_class).tolist()
            out["generated_per_class"] = self.generated_per_class
            out["generation_judge"] = self.generation_judge
            out["generation_styles"] = self.generation_styles
        return out


def log_normal(z: torch.Tensor, mu: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag(var)) summed over the last axis."""
    return -0.5 * (((z - mu) ** 2) / var + var.log() + LOG_2PI).sum(-1)


@dataclass
class ChunkFigures:
    """Per image of one batch: the IWAE log p(x), the k = 1 bound, the ELBO parts, one z."""

    log_px: torch.Tensor  # (B,) log (1/k) sum_j w_j
    mean_log_w: torch.Tensor  # (B,) (1/k) sum_j log w_j
    recon: torch.Tensor  # (B,) -log p(x|z) with the decoder reading the classifier's softmax
    kl: torch.Tensor  # (B,) KL(q(z|x) || N(0, I))
    z: torch.Tensor  # (B, d) one posterior sample


@torch.inference_mode()
def importance_chunk(
    model: VAE, x: torch.Tensor, k: int, generator: torch.Generator
) -> ChunkFigures:
    """IWAE figures for a batch x (B, input_dim); see the module doc for the estimator."""
    config = model.config
    mu, var = model.encode(x)
    b, d = mu.shape
    eps = torch.randn((k, b, d), generator=generator, device=x.device, dtype=mu.dtype)
    z = mu + eps * var.sqrt()  # (k, B, D)
    flat_z = z.reshape(k * b, d)
    flat_x = x.expand(k, -1, -1).reshape(k * b, -1)
    log_w = log_normal(z, torch.zeros_like(z), torch.ones_like(z)) - log_normal(z, mu, var)
    probs = None
    if model.classifier is not None:
        c = config.num_classes
        probs = torch.softmax(model.classifier(x), -1)
        proposal = (1 - DEFENSIVE_SHARE) * probs + DEFENSIVE_SHARE / c  # (B, C)
        y = torch.multinomial(proposal, k, replacement=True, generator=generator).T  # (k, B)
        one_hot = torch.nn.functional.one_hot(y, c).to(mu.dtype).reshape(k * b, c)
        logits = model.decode_logits(flat_z, one_hot)
        log_q_y = proposal.log().gather(1, y.T).T  # (k, B)
        log_w = log_w - math.log(c) - log_q_y  # p(y) uniform
    else:
        logits = model.decode_logits(flat_z)
    log_w = log_w - reconstruction_nll(logits, flat_x, config).view(k, b)
    log_px = torch.logsumexp(log_w, dim=0) - math.log(k)
    # The trainer's ELBO: one posterior sample, the decoder reading the classifier's softmax.
    recon = reconstruction_nll(model.decode_logits(z[0], probs), x, config)
    return ChunkFigures(log_px, log_w.mean(0), recon, kl_to_standard_normal(mu, var), z[0])


def binarize(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Dynamic binarisation (Burda et al. 2015): each pixel 1 with probability its grey level."""
    u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (u < x).to(x.dtype)


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
    binarized: bool = False,
    judge: Any = "auto",
    cancel: Cancel = None,
) -> Iterator[Progress | ModelReport]:
    """Evaluate `record` on test `images` (N, 28, 28) uint8 and `labels`; see the module doc.

    k = 0 skips the IWAE estimate (the ELBO then uses one posterior sample per image). `judge`
    reads the generated digits: "auto" (the bundled judge CNN for its data sets, else the model's
    own classifier), None (the model's own classifier) or anything with `predict` and `name`.
    """
    if not 0 <= k <= MAX_IWAE_K:
        raise ValueError(f"k must be 0 (no IWAE estimate) or up to {MAX_IWAE_K}, got {k}")
    model = model_from_record(record, device).eval()
    dev = next(model.parameters()).device
    config = record.config
    x_all = torch.from_numpy(np.asarray(images).reshape(len(images), -1).astype(np.float32) / 255)
    if binarized:
        x_all = binarize(x_all, torch.Generator().manual_seed(seed + 2))
    y_all = torch.from_numpy(np.asarray(labels).astype(np.int64))
    n = len(x_all)
    samples = max(k, 1)
    chunk = max(1, SAMPLES_PER_CHUNK // samples)
    gen_total = config.num_classes * generated_per_class if config.conditional else 0
    total = n + gen_total
    gen = torch.Generator(device=dev).manual_seed(seed)
    sums = torch.zeros(5, dtype=torch.float64)  # log p(x), its square, mean log w, recon, kl
    zs: list[np.ndarray] = []
    confusion = np.zeros((config.num_classes, config.num_classes), np.int64)
    stage = f"importance sampling (k = {k})" if k else "test ELBO"
    yield Progress(0, total, stage)
    for start in range(0, n, chunk):
        check_cancelled(cancel)
        x = x_all[start : start + chunk].to(dev)
        f = importance_chunk(model, x, samples, gen)
        log_px = f.log_px.double()
        parts = [log_px.sum(), log_px.square().sum(), f.mean_log_w.sum(), f.recon.sum()]
        sums += torch.stack([*parts, f.kl.sum()]).double().cpu()
        zs.append(f.z.double().cpu().numpy())
        if model.classifier is not None:
            predicted = model.classifier(x).argmax(-1).cpu().numpy()
            np.add.at(confusion, (y_all[start : start + chunk].numpy(), predicted), 1)
        yield Progress(min(start + chunk, n), total, stage)
    mean = (sums / max(n, 1)).tolist()
    se = None
    if k and n > 1:
        variance = max(0.0, (mean[1] - mean[0] ** 2) * n / (n - 1))
        se = math.sqrt(variance / n)
    report = ModelReport(
        test_size=n,
        k=k,
        neg_elbo=mean[3] + mean[4],
        recon=mean[3],
        kl=mean[4],
        iwae_nll=-mean[0] if k else None,
        class_names=tuple(record.class_names),
        iwae_se=se,
        marginal_elbo=-mean[2] if k else None,
        binarized=binarized,
        likelihood=config.likelihood,
    )
    if record.density is not None and n:
        y = np.asarray(labels) if config.conditional else 0
        report.density_gain = record.density.gain_over_prior(np.concatenate(zs), y)
    if config.conditional:
        report.confusion = confusion
        report.accuracy = float(np.trace(confusion) / max(n, 1))
        if generated_per_class > 0:
            reader = _judge(judge, config.dataset)
            report.generation_judge = getattr(reader, "name", OWN_CLASSIFIER)
            report.generation_styles = (
                "the model's class mixtures" if record.density is not None else "the prior N(0, I)"
            )
            rng = np.random.default_rng(seed + 1)  # its own stream: it does not depend on k
            per_class = np.zeros(config.num_classes)
            for c in range(config.num_classes):
                check_cancelled(cancel)
                images_c = generate_class(model, record, c, generated_per_class, rng)
                if reader is None:
                    read = model.classifier(images_c).argmax(-1).cpu().numpy()
                else:
                    read = np.asarray(reader.predict(images_c.cpu().numpy().reshape(-1, 28, 28)))
                per_class[c] = float((read == c).mean())
                yield Progress(n + (c + 1) * generated_per_class, total, "conditional generation")
            report.generation_per_class = per_class
            report.generation_accuracy = float(per_class.mean())
            report.generated_per_class = generated_per_class
    yield report


def _judge(judge: Any, dataset: str) -> Any:
    if judge == "auto":
        from latentlab.core.vae.judge import judge_for

        return judge_for(dataset)
    return judge


@torch.inference_mode()
def generate_class(
    model: VAE, record: ModelRecord, c: int, count: int, rng: np.random.Generator
) -> torch.Tensor:
    """`count` images (count, 784) decoded for class c from the model's default styles."""
    dev = next(model.parameters()).device
    config = model.config
    if record.density is not None:
        z = record.density.sample(count, c, rng)
    else:
        z = rng.standard_normal((count, config.latent_dim)).astype(np.float32)
    one_hot = torch.zeros((count, config.num_classes), device=dev)
    one_hot[:, c] = 1.0
    return model.decode(torch.from_numpy(z).to(dev), one_hot)


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


def iwae_metrics(
    record: ModelRecord,
    dataset: Dataset,
    k: int,
    device: str = "auto",
    *,
    binarized: bool = False,
    progress: Callable[[Progress], None] | None = None,
    cancel: Cancel = None,
) -> dict:
    """The IWAE figures (nats per image, k importance samples) for `latentlab eval --iwae K`."""
    if not 1 <= k <= MAX_IWAE_K:
        raise LatentlabError(f"--iwae must be in 1..{MAX_IWAE_K} samples, got {k}")
    report = None
    for item in run_report(
        record,
        dataset.test_images,
        dataset.test_labels,
        k=k,
        generated_per_class=0,
        device=device,
        binarized=binarized,
        cancel=cancel,
    ):
        if isinstance(item, ModelReport):
            report = item
        elif progress is not None:
            progress(item)
    assert report is not None
    return {
        "test_iwae_nll": report.iwae_nll,
        "test_iwae_se": report.iwae_se,
        "test_marginal_neg_elbo": report.marginal_elbo,
        "iwae_k": k,
        "binarized": binarized,
        "likelihood_note": report.likelihood_note,
    }


def density_gain(record: ModelRecord, images: np.ndarray, labels: np.ndarray, seed: int = 0):
    """log q_mix(z|y) - log N(z; 0, I) averaged over test images, z ~ q(z|x); None: no density."""
    if record.density is None or len(images) == 0:
        return None
    from latentlab.core.vae.numpy_net import NumpyVAE

    net = NumpyVAE(record.config, record.weights)
    x = np.asarray(images).reshape(len(images), -1).astype(np.float32) / 255
    mu, var = net.encode(x)
    z = mu + np.sqrt(var) * np.random.default_rng(seed).standard_normal(mu.shape)
    y = np.asarray(labels) if record.config.conditional else 0
    return record.density.gain_over_prior(z, y)
