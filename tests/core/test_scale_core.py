"""Core pieces of the scatter at scale: the training points' encode job (progress, cancel,
mismatched images) and the KL along directions computed in blocks of rows."""

from __future__ import annotations

import numpy as np
import pytest

from latentlab.core.explore import dimensions
from latentlab.core.explore.latent_model import ImageSpec
from latentlab.core.explore.training_points import encode_training_job
from latentlab.core.jobs import CancelToken, JobCancelled, Progress


class Encoder:
    """Enough of a LatentModel: the mean of q(z|x) is each image's mean and its first pixel."""

    latent_dim = 2
    image_spec = ImageSpec(4, 4, 1)

    def encode(self, images: np.ndarray):
        mu = np.stack([images.mean(axis=(1, 2, 3)), images[:, 0, 0, 0]], axis=1)
        return mu.astype(np.float32), np.ones_like(mu, np.float32)


def run(job):
    steps = []
    try:
        while True:
            steps.append(next(job))
    except StopIteration as end:
        return steps, end.value


def test_the_training_job_encodes_every_image_in_chunks_and_reports_progress():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (25, 4, 4, 1), dtype=np.uint8)
    labels = (np.arange(25) % 3).astype(np.uint8)
    steps, points = run(encode_training_job(Encoder(), "toy", lambda: (images, labels), chunk=10))
    assert [s.done for s in steps if isinstance(s, Progress) and s.total] == [10, 20, 25]
    x = images.astype(np.float32) / 255
    np.testing.assert_allclose(points.mu[:, 0], x.mean(axis=(1, 2, 3)), rtol=1e-6)
    np.testing.assert_allclose(points.mu[:, 1], x[:, 0, 0, 0], rtol=1e-6)
    assert points.labels.tolist() == labels.tolist() and len(points) == 25


def test_the_training_job_stops_when_cancelled_and_rejects_images_of_another_size():
    images = np.zeros((50, 4, 4, 1), np.uint8)
    token = CancelToken()
    job = encode_training_job(Encoder(), "toy", lambda: (images, np.zeros(50, np.uint8)), token, 10)
    next(job)  # reading
    next(job)  # the first chunk
    token.cancel()
    with pytest.raises(JobCancelled):
        next(job)
    wrong = encode_training_job(
        Encoder(), "toy", lambda: (np.zeros((5, 8, 8, 1), np.uint8), np.zeros(5, np.uint8))
    )
    next(wrong)
    with pytest.raises(ValueError, match="toy: training images are"):
        next(wrong)


def test_kl_along_in_blocks_is_the_formula_over_all_rows(monkeypatch):
    rng = np.random.default_rng(1)
    mu = rng.normal(0, 1, (1000, 3)).astype(np.float32)
    logvar = rng.normal(-1, 0.3, (1000, 3)).astype(np.float32)
    c = np.linalg.qr(rng.normal(0, 1, (3, 3)))[0]
    m = mu.astype(np.float64) @ c.T
    v = np.exp(logvar.astype(np.float64)) @ (c**2).T
    expected = (0.5 * (v + m**2 - 1.0 - np.log(v))).mean(axis=0)
    monkeypatch.setattr(dimensions, "KL_BLOCK", 64)  # 16 blocks, the last one short
    np.testing.assert_allclose(dimensions.kl_along(mu, logvar, c), expected, rtol=1e-10)
