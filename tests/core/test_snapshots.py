"""Live-view snapshots: taken at the planned steps on one fixed subset, throttled without loss of
what matters, decodable in numpy, and free of side effects on training."""

from __future__ import annotations

import numpy as np
import pytest

from latentlab.core.jobs import JobCancelled
from latentlab.core.vae.events import Finished
from latentlab.core.vae.numpy_net import NumpyVAE
from latentlab.core.vae.snapshots import (
    LatentSnapshot,
    SnapshotDecoder,
    SnapshotPlan,
    SnapshotThrottle,
    choose_subset,
)
from latentlab.core.vae.training import run_training

from ..factories import TINY_CVAE, TINY_VAE, tiny_dataset


@pytest.fixture(scope="module")
def data():
    return tiny_dataset()  # 400 train (8 batches of 50), 100 test


def snapshots_of(config, data, plan):
    events = list(run_training(config, data, device="cpu", snapshots=plan, fit_density=False))
    return [e for e in events if isinstance(e, LatentSnapshot)], events[-1]


def expected_steps(every: int, batches: int, epochs: int) -> list[int]:
    """Step 0, every multiple of `every`, and each epoch's last step, once each."""
    total = batches * epochs
    wanted = {0, *range(every, total + 1, every), *(batches * e for e in range(1, epochs + 1))}
    return sorted(wanted)


def test_snapshots_come_at_the_planned_steps_on_one_fixed_subset(data):
    plan = SnapshotPlan(every=3, size=40, seed=5)
    snaps, last = snapshots_of(TINY_CVAE, data, plan)

    assert isinstance(last, Finished)
    assert [s.step for s in snaps] == expected_steps(3, 8, TINY_CVAE.epochs)
    assert [s.step for s in snaps if s.epoch_end] == [8, 16]
    assert [s.epoch for s in snaps if s.epoch_end] == [1, 2]
    first = snaps[0].indices
    assert len(first) == 40 and len(set(first.tolist())) == 40
    for s in snaps:
        np.testing.assert_array_equal(s.indices, first)  # the same images every time
        np.testing.assert_array_equal(s.labels, data.test_labels[first])
        assert s.means.shape == (40, TINY_CVAE.latent_dim) and s.means.dtype == np.float32
    # the weights change between snapshots, so do the means
    assert not np.allclose(snaps[0].means, snaps[-1].means)


def test_the_last_snapshot_is_the_finished_model(data):
    snaps, last = snapshots_of(TINY_CVAE, data, SnapshotPlan(every=5, size=2000))
    record = last.record
    final = snaps[-1]
    np.testing.assert_array_equal(final.indices, np.arange(100))  # small test set: all of it
    np.testing.assert_allclose(final.means, record.test_encoding.mu, atol=1e-5)
    for name, value in final.decoder.items():
        np.testing.assert_array_equal(value, record.weights[name])
    assert set(final.decoder) == {k for k in record.weights if k.startswith("decoder.")}


def test_snapshots_do_not_change_what_is_trained(data):
    _, with_snaps = snapshots_of(TINY_VAE, data, SnapshotPlan(every=2, size=30))
    without = list(run_training(TINY_VAE, data, device="cpu", fit_density=False))[-1]
    for name, value in without.record.weights.items():
        np.testing.assert_array_equal(with_snaps.record.weights[name], value)


def test_a_snapshot_decodes_like_the_model(data):
    snaps, last = snapshots_of(TINY_CVAE, data, SnapshotPlan(every=100, size=10))
    decoder = SnapshotDecoder.of(snaps[-1])
    net = NumpyVAE(TINY_CVAE, last.record.weights)
    z = np.array([0.3, -1.0, 0.5], np.float32)
    image = decoder.decode(z, class_index=4)
    assert image.shape == (28, 28) and image.dtype == np.float32
    np.testing.assert_allclose(image.ravel(), net.decode(z, net.one_hot(4)), atol=1e-6)
    # a longer z (another model's) is cut to this model's size; a shorter one padded with 0
    np.testing.assert_allclose(decoder.decode(np.r_[z, 9.0], 4), image)
    padded = decoder.decode(z[:2], 4)
    np.testing.assert_allclose(
        padded.ravel(), net.decode(np.r_[z[:2], 0.0], net.one_hot(4)), atol=1e-6
    )


def test_the_subset_is_stratified_and_seeded():
    labels = np.repeat(np.arange(4), [500, 300, 150, 50]).astype(np.uint8)
    chosen = choose_subset(labels, len(labels), 100, seed=3)
    assert len(chosen) == 100 and np.all(np.diff(chosen) > 0)
    np.testing.assert_array_equal(np.bincount(labels[chosen], minlength=4), [50, 30, 15, 5])
    np.testing.assert_array_equal(choose_subset(labels, len(labels), 100, seed=3), chosen)
    assert not np.array_equal(choose_subset(labels, len(labels), 100, seed=4), chosen)
    unlabelled = choose_subset(None, 1000, 10, seed=1)
    assert len(set(unlabelled.tolist())) == 10 and unlabelled.max() < 1000


def fake(step: int, epoch_end: bool = False) -> LatentSnapshot:
    return LatentSnapshot(
        step, 1, np.zeros((2, 2), np.float32), None, np.arange(2), TINY_VAE, {}, epoch_end
    )


def test_the_throttle_keeps_the_newest_and_never_drops_an_epoch_end():
    now = [0.0]
    throttle = SnapshotThrottle(1.0, clock=lambda: now[0])
    assert throttle.offer(fake(0)).step == 0  # the first passes
    now[0] = 0.2
    assert throttle.offer(fake(1)) is None  # too soon: held
    now[0] = 0.4
    assert throttle.offer(fake(2)) is None  # replaces the held one
    assert throttle.pending() is None
    now[0] = 1.1
    assert throttle.pending().step == 2  # the newest held one goes at the next chance
    assert throttle.pending() is None
    now[0] = 1.2
    assert throttle.offer(fake(3)) is None
    end = throttle.offer(fake(4, epoch_end=True), force=True)
    assert end.step == 4  # an epoch's end goes at once, and supersedes the held one
    assert throttle.pending(force=True) is None


def test_the_job_throttles_snapshots_but_delivers_every_epoch_end(tiny_dataset):
    """Through `training_job` (the GUI's path) with a throttle no snapshot passes early."""
    from latentlab.core.vae.training_job import training_job

    config = TINY_CVAE.replace(dataset="tiny", epochs=3)
    job = training_job(
        config,
        device="cpu",
        data_dir=str(tiny_dataset.dir),
        snapshot_every=1,
        snapshot_interval_s=3600.0,
    )
    events = []
    try:
        while True:
            events.append(next(job))
    except StopIteration as end:
        outcome = end.value
    except JobCancelled:  # pragma: no cover - not cancelled here
        raise
    assert isinstance(outcome, Finished)
    snaps = [e for e in events if isinstance(e, LatentSnapshot)]
    batches = 300 // config.batch_size
    # one each step was taken; the hour-long interval lets only the forced ones through
    assert [s.step for s in snaps] == [0, *(batches * e for e in (1, 2, 3))]
    assert all(s.epoch_end for s in snaps[1:])
    np.testing.assert_allclose(snaps[-1].means, outcome.record.test_encoding.mu, atol=1e-5)


def test_a_plan_refuses_nonsense():
    with pytest.raises(ValueError, match="every"):
        SnapshotPlan(every=0)
    with pytest.raises(ValueError, match="image"):
        SnapshotPlan(size=0)
