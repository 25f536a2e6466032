"""Colour sources for the scatter and the Morpho-MNIST stroke measures, on hand-made inputs."""

from __future__ import annotations

import numpy as np
import pytest

from latentlab.core.explore.colouring import (
    ColourChoice,
    available_choices,
    point_kl,
    reconstruction_error_job,
    values_for,
)
from latentlab.core.explore.morphometry import measure
from latentlab.core.explore.points import EncodedPoints

from ..factories import TINY_CVAE, open_state, random_record


def bar(width: int, lean: int = 0) -> np.ndarray:
    """A 20-row stroke `width` pixels wide, shifted right by `lean` columns over its height."""
    image = np.zeros((28, 28), np.uint8)
    for r in range(4, 24):
        shift = round(lean * (23 - r) / 19)
        image[r, 10 + shift : 10 + shift + width] = 255
    return image


def test_strokes_measure_width_height_area_thickness_and_slant():
    m = measure(np.stack([bar(3), bar(7), bar(3, lean=8), np.zeros((28, 28), np.uint8)]))
    np.testing.assert_array_equal(m["height"], [20, 20, 20, 0])
    np.testing.assert_array_equal(m["width"][:2], [3, 7])
    assert m["width"][2] == 3 + 8
    np.testing.assert_array_equal(m["area"][:2], [60, 140])
    assert m["thickness"][0] == pytest.approx(3, abs=0.6)
    assert m["thickness"][1] == pytest.approx(7, abs=0.6)
    assert abs(m["slant"][0]) < 1e-6 and abs(m["slant"][1]) < 1e-6
    assert m["slant"][2] > 15  # leans right: positive, about atan(8 / 19) = 23 degrees
    assert all(m[name][3] == 0 for name in m)  # a blank image measures nothing


def test_colour_images_measure_like_grey_ones():
    grey = bar(5)
    colour = np.repeat(grey[..., None], 3, axis=2)
    a, b = measure(grey[None]), measure(colour[None])
    assert {k: float(v[0]) for k, v in a.items()} == {k: float(v[0]) for k, v in b.items()}


def test_kl_is_zero_at_the_prior_and_grows_away_from_it():
    points = EncodedPoints(
        mu=np.array([[0, 0], [1, 0], [0, 0]], np.float32),
        logvar=np.array([[0, 0], [0, 0], [-2, 0]], np.float32),
        labels=np.zeros(3, np.uint8),
    )
    kl = point_kl(points)
    assert kl[0] == pytest.approx(0) and kl[1] == pytest.approx(0.5)
    assert kl[2] == pytest.approx(0.5 * (np.exp(-2) - 1 + 2))


def test_the_choices_follow_what_the_document_has():
    state = open_state(random_record(TINY_CVAE, n_test=30))
    points = state.points
    full = available_choices(
        points, labelled=True, can_classify=True, has_images=True, columns={"age": np.arange(30)}
    )
    keys = [c.key for c in full]
    assert keys[:4] == ["class", "predicted", "confidence", "kl"]
    assert keys.count("latent") == points.latent_dim and keys.count("stroke") == 5
    assert ColourChoice("column", name="age") in full
    bare = available_choices(
        points, labelled=False, can_classify=False, has_images=False, columns={"bad": np.arange(3)}
    )
    assert [c.key for c in bare] == ["kl"] + ["latent"] * points.latent_dim
    assert values_for(ColourChoice("latent", 2), points).tolist() == points.mu[:, 2].tolist()
    with pytest.raises(KeyError):
        values_for(ColourChoice("recon_error"), points)


def test_reconstruction_error_is_each_images_mean_squared_error():
    state = open_state(random_record(TINY_CVAE, n_test=12))
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    job = reconstruction_error_job(state.model, state.points, images)
    try:
        while True:
            next(job)
    except StopIteration as end:
        errors = end.value
    for i in (0, 7):
        recon = state.reconstruction(i)[..., 0]
        assert errors[i] == pytest.approx(((recon - images[i] / 255.0) ** 2).mean(), rel=1e-5)
