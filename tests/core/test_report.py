"""The model report on a tiny trained model: ELBO split, IWAE bound, classifier, generation."""

import threading

import numpy as np
import pytest

from latentlab.core.jobs import JobCancelled
from latentlab.core.vae.report import ModelReport, Progress, evaluate_report, run_report
from latentlab.core.vae.training import evaluate_record
from latentlab.core.vae.training import run_training as train

from ..factories import TINY_CVAE, TINY_VAE, tiny_dataset


@pytest.fixture(scope="module")
def data():
    return tiny_dataset(n_train=400, n_test=120)


def trained(config, data):
    events = list(train(config.replace(epochs=3), data, device="cpu"))
    return events[-1].record


@pytest.fixture(scope="module")
def cvae(data):
    return trained(TINY_CVAE, data)


def test_report_figures_agree_with_the_trainer_and_bound_the_likelihood(cvae, data):
    report = evaluate_report(cvae, data.test_images, data.test_labels, k=64, generated_per_class=20)
    stored = evaluate_record(cvae, data, device="cpu")
    assert report.test_size == len(data.test_labels)
    # The KL is analytic in both: the same number.
    assert report.kl == pytest.approx(stored["test_kl"], rel=1e-4)
    # The reconstruction is a Monte Carlo average in both (64 samples here, 1 there).
    assert report.recon == pytest.approx(stored["test_recon"], rel=0.05)
    assert report.neg_elbo == pytest.approx(report.recon + report.kl)
    # IWAE: a tighter bound on -log p(x) than the ELBO.
    assert report.iwae_nll < report.neg_elbo
    assert report.iwae_nll > 0


def test_more_samples_tighten_the_bound(cvae, data):
    loose = evaluate_report(cvae, data.test_images, data.test_labels, k=2, generated_per_class=0)
    tight = evaluate_report(cvae, data.test_images, data.test_labels, k=200, generated_per_class=0)
    assert tight.iwae_nll < loose.iwae_nll


def test_confusion_matrix_and_accuracy(cvae, data):
    report = evaluate_report(cvae, data.test_images, data.test_labels, k=1, generated_per_class=0)
    labels = data.test_labels
    assert report.confusion.sum() == len(labels)
    assert list(report.confusion.sum(axis=1)) == list(np.bincount(labels, minlength=10))
    assert report.accuracy == pytest.approx(np.trace(report.confusion) / len(labels))
    stored = evaluate_record(cvae, data, device="cpu")
    assert report.accuracy == pytest.approx(stored["test_accuracy"])
    assert report.generation_accuracy is None  # not asked for


def test_generation_accuracy_per_class(cvae, data):
    report = evaluate_report(cvae, data.test_images, data.test_labels, k=0, generated_per_class=40)
    assert report.iwae_nll is None
    per_class = report.generation_per_class
    assert per_class.shape == (10,)
    assert np.all((per_class >= 0) & (per_class <= 1))
    assert np.allclose(per_class * 40, np.round(per_class * 40))  # counts out of 40
    assert report.generation_accuracy == pytest.approx(per_class.mean())
    assert set(report.as_dict()) >= {"test_neg_elbo", "generation_accuracy", "confusion"}


def test_progress_counts_up_to_the_total_and_ends_with_the_report(cvae, data):
    items = list(run_report(cvae, data.test_images, data.test_labels, k=500, generated_per_class=5))
    progress = [i for i in items if isinstance(i, Progress)]
    assert isinstance(items[-1], ModelReport)
    done = [p.done for p in progress]
    assert done == sorted(done) and done[-1] == progress[-1].total == 120 + 50
    assert len(progress) > 3  # 500 samples per image: several chunks


def test_cancel_stops_without_a_report(cvae, data):
    cancel = threading.Event()
    items = []
    with pytest.raises(JobCancelled):
        for item in run_report(cvae, data.test_images, data.test_labels, k=500, cancel=cancel):
            items.append(item)
            cancel.set()
    assert not any(isinstance(i, ModelReport) for i in items)
    assert len(items) <= 2


def test_a_plain_vae_has_no_classifier_figures(data):
    record = trained(TINY_VAE, data)
    report = evaluate_report(record, data.test_images, data.test_labels, k=16)
    assert report.accuracy is None and report.confusion is None
    assert report.generation_accuracy is None
    assert report.iwae_nll < report.neg_elbo


def test_the_generation_figure_does_not_depend_on_k(cvae, data):
    a = evaluate_report(cvae, data.test_images, data.test_labels, k=3, generated_per_class=30)
    b = evaluate_report(cvae, data.test_images, data.test_labels, k=40, generated_per_class=30)
    np.testing.assert_array_equal(a.generation_per_class, b.generation_per_class)
    c = evaluate_report(
        cvae, data.test_images, data.test_labels, k=3, generated_per_class=30, seed=9
    )
    assert a.iwae_nll != c.iwae_nll  # the seed does change the samples
