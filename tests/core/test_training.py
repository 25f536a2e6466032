"""The training engine on a tiny in-memory dataset: events, determinism, cancel, NaN, the result."""

import itertools
import threading

import numpy as np
import pytest

from latentlab.core.jobs import JobCancelled
from latentlab.core.vae.events import (
    BatchProgress,
    Cancelled,
    EpochEnd,
    Failed,
    Finished,
    Started,
)
from latentlab.core.vae.training import evaluate_record, resolve_device, run_training

from ..factories import TINY_CVAE, TINY_VAE, tiny_dataset


@pytest.fixture(scope="module")
def data():
    return tiny_dataset()


def run(config, data, **kwargs):
    """Every event of a run; a cancelled run ends with the `Cancelled` event of its partial result."""
    events = []
    try:
        for event in run_training(config, data, device="cpu", **kwargs):
            events.append(event)
    except JobCancelled as stop:
        events.append(Cancelled.after(stop.partial))
    return events


def test_events_arrive_in_order_and_the_result_is_complete(data):
    events = run(TINY_CVAE, data, progress_every=2)
    assert isinstance(events[0], Started) and events[0].batches_per_epoch == 8
    assert isinstance(events[-1], Finished)
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert [e.epoch for e in epochs] == [1, 2]
    progress = [e for e in events if isinstance(e, BatchProgress)]
    assert [p.batch for p in progress if p.epoch == 1] == [2, 4, 6, 8]
    assert epochs[0].samples.shape == (10, 28, 28) and epochs[0].samples.dtype == np.float32
    assert epochs[0].samples.min() >= 0.0 and epochs[0].samples.max() <= 1.0
    record = events[-1].record
    assert len(record.history) == 2 and record.metrics["epochs_trained"] == 2
    assert record.metrics["test_loss"] == pytest.approx(epochs[-1].test.recon + epochs[-1].test.kl)
    assert record.test_encoding.mu.shape == (100, TINY_CVAE.latent_dim)
    assert record.test_encoding.probs.shape == (100, 10)
    np.testing.assert_array_equal(record.test_encoding.labels, data.test_labels)


def test_losses_fall_and_the_classifier_learns(data):
    config = TINY_CVAE.replace(epochs=8, learning_rate=3e-3)
    epochs = [e for e in run(config, data) if isinstance(e, EpochEnd)]
    assert epochs[-1].train.total < epochs[0].train.total
    assert epochs[-1].test.elbo_loss < epochs[0].test.elbo_loss
    assert epochs[-1].test_accuracy > 0.5  # ten classes: chance is 0.1


def test_same_seed_same_model_different_seed_different_model(data):
    a = run(TINY_CVAE, data)[-1].record
    b = run(TINY_CVAE, data)[-1].record
    c = run(TINY_CVAE.replace(seed=8), data)[-1].record
    for name in a.weights:
        np.testing.assert_array_equal(a.weights[name], b.weights[name])

    def losses(record):
        return [{k: v for k, v in h.items() if k != "elapsed_s"} for h in record.history]

    assert losses(a) == losses(b)
    assert any(not np.array_equal(a.weights[k], c.weights[k]) for k in a.weights)


def test_plain_vae_trains_without_classifier_metrics(data):
    events = run(TINY_VAE, data)
    record = events[-1].record
    assert "test_accuracy" not in record.metrics
    assert record.test_encoding.probs is None
    assert all(e.test_accuracy is None for e in events if isinstance(e, EpochEnd))


def test_cancel_keeps_the_weights_of_the_last_finished_epoch(data):
    cancel = threading.Event()
    config = TINY_CVAE.replace(epochs=5)
    seen_epoch_end = None
    with pytest.raises(JobCancelled) as stopped:
        for event in run_training(config, data, device="cpu", cancel=cancel, progress_every=1):
            if isinstance(event, EpochEnd) and event.epoch == 2:
                seen_epoch_end = event
            if isinstance(event, BatchProgress) and event.epoch == 3 and event.batch == 3:
                cancel.set()
    last = Cancelled.after(stopped.value.partial)
    assert last.epochs_done == 2
    assert last.record.metrics["epochs_trained"] == 2
    reference = run(config.replace(epochs=2), data)[-1].record
    for name, value in reference.weights.items():
        np.testing.assert_array_equal(last.record.weights[name], value)
    assert last.record.history[-1]["test"] == seen_epoch_end.test.as_dict()


def test_cancel_before_any_epoch_gives_no_model(data):
    cancel = threading.Event()
    cancel.set()
    events = run(TINY_CVAE, data, cancel=cancel)
    assert isinstance(events[-1], Cancelled) and events[-1].record is None


def test_a_loss_that_turns_nan_stops_with_a_clear_error_and_keeps_good_weights(data):
    # One sane epoch, then a learning rate so large that the loss explodes.
    good = run(TINY_CVAE.replace(epochs=1), data)[-1].record
    config = TINY_CVAE.replace(optimizer="sgd", learning_rate=1e6, epochs=3)
    events = run(config, data, progress_every=1)
    failed = events[-1]
    assert isinstance(failed, Failed)
    assert "NaN" in failed.message and "learning rate" in failed.message
    assert failed.record is None or all(
        np.isfinite(w).all() for w in failed.record.weights.values()
    )
    assert all(np.isfinite(w).all() for w in good.weights.values())


def test_evaluate_record_recomputes_the_stored_test_metrics(data):
    record = run(TINY_CVAE, data)[-1].record
    metrics = evaluate_record(record, data, device="cpu")
    assert metrics["test_accuracy"] == pytest.approx(record.metrics["test_accuracy"])
    assert metrics["test_loss"] == pytest.approx(record.metrics["test_loss"], rel=1e-4)


def test_auto_device_falls_back_to_cpu_without_a_gpu():
    import torch

    device = resolve_device("auto")
    if not torch.cuda.is_available():
        assert device.type in ("cpu", "mps")
    else:
        assert device.type == "cuda"


def test_cosine_schedule_decays_the_rate_to_zero_by_the_last_batch(data):
    from latentlab.core.vae.model import VAE
    from latentlab.core.vae.training import make_optimizer, make_scheduler

    config = TINY_CVAE.replace(lr_schedule="cosine", learning_rate=1e-2)
    optimizer = make_optimizer(VAE(config), config)
    steps = 8 * config.epochs
    scheduler = make_scheduler(optimizer, config, steps)
    rates = []
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        rates.append(optimizer.param_groups[0]["lr"])
    assert rates[0] < 1e-2 and all(a > b for a, b in itertools.pairwise(rates))
    assert rates[-1] == pytest.approx(0.0, abs=1e-12)
    assert make_scheduler(optimizer, TINY_CVAE, steps) is None  # "constant": no schedule


def test_a_cosine_run_trains_differently_from_a_constant_one(data):
    constant = run(TINY_CVAE, data)[-1].record
    cosine = run(TINY_CVAE.replace(lr_schedule="cosine"), data)[-1].record
    assert cosine.config.lr_schedule == "cosine"
    name = next(iter(constant.weights))
    assert not np.allclose(constant.weights[name], cosine.weights[name])


def test_a_label_reading_encoder_trains_and_its_stored_points_are_what_numpy_encodes(data):
    """encoder_condition "label": the run trains on the labels, and the test points it stores
    (encoded with the classifier's softmax, as the app encodes any image) equal numpy's."""
    from latentlab.core.vae.numpy_net import NumpyVAE

    config = TINY_CVAE.replace(
        epochs=4, learning_rate=3e-3, classifier_stop_gradient=True, encoder_condition="label"
    )
    events = run(config, data)
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert epochs[-1].train.total < epochs[0].train.total
    record = events[-1].record
    assert record.density is not None
    images = np.asarray(data.test_images, np.float32).reshape(len(data.test_images), -1) / 255
    mu, _ = NumpyVAE(config, record.weights).encode(images)
    np.testing.assert_allclose(mu, record.test_encoding.mu, atol=1e-5)
