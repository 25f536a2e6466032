"""The conditional model's likelihood marginalises over the class: checked against exact
enumeration of the classes and numeric integration over a 1-D latent, on a tiny model."""

import math

import numpy as np
import pytest
import torch

from latentlab.core.vae.config import Config
from latentlab.core.vae.judge import Judge, judge_for
from latentlab.core.vae.model import VAE, reconstruction_nll
from latentlab.core.vae.report import OWN_CLASSIFIER, evaluate_report, importance_chunk
from latentlab.core.vae.training import run_training

from ..factories import TINY_CVAE, tiny_dataset

TINY = Config(
    input_dim=4,
    num_classes=3,
    latent_dim=1,
    encoder_hidden=(8,),
    decoder_hidden=(8,),
    classifier_hidden=(8,),
    activation="tanh",
    likelihood="bernoulli",
)
X = torch.tensor([[1.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 0.0], [1.0, 1.0, 0.0, 0.0]])


def tiny_model(seed: int = 0) -> VAE:
    torch.manual_seed(seed)
    model = VAE(TINY).eval()
    with torch.no_grad():  # strong weights: p(x|z, y) depends on z and y a lot
        for p in model.decoder.parameters():
            p.mul_(3.0)
    return model


@torch.inference_mode()
def exact_log_px(model: VAE, x: torch.Tensor) -> torch.Tensor:
    """log sum_y p(y) integral N(z; 0, 1) p(x | z, y) dz, y uniform, by the trapezoid rule."""
    z = torch.linspace(-12, 12, 24001, dtype=torch.float64)
    dz = float(z[1] - z[0])
    log_prior = -0.5 * z**2 - 0.5 * math.log(2 * math.pi)
    model = model.double()
    out = []
    for xi in x.double():
        per_class = []
        for y in range(TINY.num_classes):
            one_hot = torch.zeros(len(z), TINY.num_classes, dtype=torch.float64)
            one_hot[:, y] = 1
            logits = model.decode_logits(z[:, None], one_hot)
            log_joint = log_prior - reconstruction_nll(logits, xi.expand(len(z), -1), TINY)
            weights = torch.full_like(z, dz)
            weights[[0, -1]] = dz / 2
            per_class.append(torch.logsumexp(log_joint + weights.log(), 0))
        out.append(torch.logsumexp(torch.stack(per_class) - math.log(TINY.num_classes), 0))
    model.float()
    return torch.stack(out)


def iwae(model: VAE, x: torch.Tensor, k: int, seed: int) -> torch.Tensor:
    return importance_chunk(model, x, k, torch.Generator().manual_seed(seed)).log_px.double()


def test_iwae_converges_to_the_exact_marginal_likelihood():
    model = tiny_model()
    exact = exact_log_px(model, X)
    # One k = 5000 estimate has a standard deviation of up to 0.025 nats here; ten average it.
    estimate = torch.stack([iwae(model, X, 5000, seed=s) for s in range(10)]).mean(0)
    np.testing.assert_allclose(estimate.numpy(), exact.numpy(), atol=0.025)


def test_iwae_is_a_lower_bound_that_tightens_with_k():
    model = tiny_model(seed=3)
    exact = exact_log_px(model, X)
    few = torch.stack([iwae(model, X, 2, seed=s) for s in range(200)]).mean(0)
    many = torch.stack([iwae(model, X, 64, seed=s) for s in range(200)]).mean(0)
    assert torch.all(few < many + 1e-3)
    assert torch.all(many < exact + 0.01)  # a bound in expectation (Jensen), up to noise


def test_a_confidently_wrong_classifier_still_gives_the_right_likelihood():
    """The proposal keeps a tenth uniform: a class the classifier rules out is still visited."""
    model = tiny_model(seed=5)
    exact = exact_log_px(model, X)
    with torch.no_grad():
        last = model.classifier.layers[-1]
        last.weight.zero_()
        last.bias.copy_(torch.tensor([40.0, -40.0, -40.0]))  # always "class 0", whatever x is
    estimate = torch.stack([iwae(model, X, 5000, seed=s) for s in range(10)]).mean(0)
    np.testing.assert_allclose(estimate.numpy(), exact.numpy(), atol=0.05)


def test_the_old_estimator_decoding_the_softmax_is_not_the_marginal():
    """What the report used to compute (decode with the classifier's softmax) is another number."""
    model = tiny_model()
    exact = exact_log_px(model, X)
    with torch.inference_mode():
        probs = torch.softmax(model.classifier(X), -1)
        mu, var = model.encode(X)
        z = mu + var.sqrt() * torch.randn((5000, *mu.shape), generator=torch.Generator())
        logits = model.decode_logits(z.reshape(-1, 1), probs.repeat(5000, 1))
        recon = reconstruction_nll(logits, X.repeat(5000, 1), TINY).view(5000, -1)
        log_w = -recon - 0.5 * z[..., 0] ** 2 - 0.5 * math.log(2 * math.pi)
        log_w += 0.5 * ((z[..., 0] - mu[:, 0]) ** 2 / var[:, 0] + var[:, 0].log())
        log_w += 0.5 * math.log(2 * math.pi)
        old = torch.logsumexp(log_w, 0) - math.log(5000)
    assert float((old.double() - exact).abs().max()) > 0.1


@pytest.fixture(scope="module")
def trained():
    data = tiny_dataset(n_train=400, n_test=60)
    events = list(
        run_training(TINY_CVAE.replace(epochs=2, likelihood="bernoulli"), data, device="cpu")
    )
    return events[-1].record, data


def test_report_figures_standard_error_binarised_and_labels(trained):
    record, data = trained
    report = evaluate_report(
        record, data.test_images, data.test_labels, k=20, generated_per_class=5
    )
    assert report.iwae_nll <= report.marginal_elbo  # log mean exp >= mean log, sample by sample
    assert 0 < report.iwae_se < report.iwae_nll
    assert "not the binarised-MNIST figure" in report.likelihood_note
    assert record.config.dataset == "mnist" and "independent judge CNN" in report.generation_judge
    assert report.generation_styles == "the model's class mixtures"
    assert report.density_gain is not None and np.isfinite(report.density_gain)
    as_dict = report.as_dict()
    assert as_dict["test_iwae_se"] == report.iwae_se and as_dict["binarized"] is False
    binary = evaluate_report(
        record, data.test_images, data.test_labels, k=20, generated_per_class=0, binarized=True
    )
    assert binary.binarized and binary.iwae_nll != report.iwae_nll
    assert "comparable with published" in binary.likelihood_note
    gaussian = type(report)(**{**report.__dict__, "likelihood": "gaussian"})
    assert "not comparable with Bernoulli" in gaussian.likelihood_note


class _Stub:
    name = "a stub that reads every digit as 3"

    def predict(self, images):
        return np.full(len(images), 3)


def test_generated_digits_are_read_by_the_judge_asked_for(trained):
    record, data = trained
    own = evaluate_report(
        record, data.test_images, data.test_labels, k=0, generated_per_class=4, judge=None
    )
    assert own.generation_judge == OWN_CLASSIFIER
    report = evaluate_report(
        record, data.test_images, data.test_labels, k=0, generated_per_class=4, judge=_Stub()
    )
    assert report.generation_judge == _Stub.name
    np.testing.assert_array_equal(report.generation_per_class, np.eye(10)[3])


def test_the_bundled_judge_reads_mnist_only():
    judge = judge_for("mnist")
    assert isinstance(judge, Judge) and "independent judge CNN" in judge.name
    assert judge.path.stat().st_size < 1_000_000
    assert judge_for("fashion-mnist") is None
    blank = np.zeros((2, 28, 28), np.float32)
    assert judge.logits(blank).shape == (2, 10) and judge.features(blank).shape == (2, 64)
