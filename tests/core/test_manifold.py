"""The manifold grid: spacing, where each cell sits on the axes, and the decoded picture."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest

from latentlab.core.explore import manifold as mf
from latentlab.core.explore.projection import dims_basis
from latentlab.core.vae.numpy_net import NumpyVAE

from ..factories import TINY_CVAE, TINY_VAE, open_state, random_record


def test_norm_ppf_inverts_the_normal_cdf():
    p = np.array([0.001, 0.05, 0.3, 0.5, 0.8, 0.999])
    x = mf.norm_ppf(p)
    np.testing.assert_allclose([NormalDist().cdf(v) for v in x], p, atol=1e-12)
    assert x[3] == 0.0


def test_even_coordinates_are_a_linear_grid():
    np.testing.assert_allclose(mf.grid_coordinates(5, 2.0, "even"), [-2, -1, 0, 1, 2])


def test_gaussian_coordinates_reproduce_kingma_and_wellings_grid():
    r = NormalDist().inv_cdf(0.95)
    coords = mf.grid_coordinates(10, r, "gaussian")
    expected = [NormalDist().inv_cdf(p) for p in np.linspace(0.05, 0.95, 10)]
    np.testing.assert_allclose(coords, expected, atol=1e-9)
    gaps = np.diff(coords)
    assert gaps[len(gaps) // 2] < gaps[0]  # denser in the middle than at the ends


@pytest.mark.parametrize(
    ("size", "half_range", "spacing"),
    [
        (1, 2.0, "even"),
        (41, 2.0, "even"),
        (5, 0.0, "even"),
        (5, 2.0, "cubic"),
        (5, 40.0, "gaussian"),
    ],
)
def test_bad_grids_are_refused(size, half_range, spacing):
    with pytest.raises(ValueError):
        mf.grid_coordinates(size, half_range, spacing)


def test_each_cell_projects_to_its_grid_point_and_keeps_the_off_plane_style():
    state = open_state(random_record(TINY_CVAE, n_test=50, seed=4))
    axes = state.projection
    assert axes.kind == "pca"
    z = np.array([0.3, -0.7, 1.1], np.float32)
    xs, ys = np.array([-1.0, 0.0, 2.0]), np.array([-2.0, 0.5])
    latents = mf.grid_latents(axes, z, xs, ys)
    assert latents.shape == (2, 3, 3)
    projected = axes.project(latents.reshape(-1, 3)).reshape(2, 3, 2)
    np.testing.assert_allclose(projected[..., 0], np.tile(xs, (2, 1)), atol=1e-5)
    np.testing.assert_allclose(
        projected[..., 1], [[0.5] * 3, [-2.0] * 3], atol=1e-5
    )  # top row: max y

    # What is left after removing the plane's part is the current point's off-plane part.
    def off_plane(v):
        return v - (v - axes.mean) @ axes.components.T @ axes.components

    np.testing.assert_allclose(
        off_plane(latents.reshape(-1, 3)), np.tile(off_plane(z), (6, 1)), atol=1e-5
    )


def test_decoded_grid_matches_single_decodes_on_raw_dimensions():
    record = random_record(TINY_CVAE, n_test=30, seed=5)
    state = open_state(record)
    state.set_class(6)
    state.set_z(np.array([0.2, 0.4, -0.9], np.float32))
    axes = dims_basis(3).plane(0, 2)
    grid = mf.decode_manifold(
        state.model,
        axes,
        state.z,
        state.condition(),
        size=4,
        half_range=1.5,
        centre=(0.5, 0),
    )
    assert grid.images.shape == (4, 4, 28, 28, 1) and grid.evenly_spaced
    np.testing.assert_allclose(grid.xs, 0.5 + np.linspace(-1.5, 1.5, 4))
    net = NumpyVAE(record.config, record.weights)
    for r, c in [(0, 0), (3, 1), (2, 3)]:
        z = state.z
        z[0], z[2] = grid.xs[c], grid.ys[3 - r]
        expected = net.decode(z, net.one_hot(6)).reshape(28, 28, 1)
        np.testing.assert_allclose(grid.images[r, c], expected, atol=1e-6)
    assert grid.picture(scale=2).shape == (4 * 28 * 2, 4 * 28 * 2)


def test_a_plain_2d_model_grid_and_its_png(tmp_path):
    state = open_state(random_record(TINY_VAE, n_test=30, seed=6))
    grid = mf.decode_manifold(
        state.model, state.projection, state.z, None, size=4, spacing="gaussian"
    )
    assert not grid.evenly_spaced
    assert not np.allclose(grid.images[0, 0], grid.images[3, 3])
    mf.save_manifold_png(grid, tmp_path / "grid.png", scale=1)
    from PIL import Image

    with Image.open(tmp_path / "grid.png") as image:
        assert image.size == (112, 112) and image.mode == "L"
        shown = np.asarray(image)
    np.testing.assert_array_equal(shown, grid.picture())
    # Ink on paper, as in the app: more ink (a larger value) is a darker grey.
    flat_images, flat_shown = grid.images[0, 0, ..., 0].ravel(), shown[:28, :28].ravel()
    order = np.argsort(flat_images)
    assert np.all(np.diff(flat_shown[order].astype(int)) <= 0)


def test_the_grid_key_ignores_moves_within_the_plane_and_sees_everything_else():
    """A drag across the scatter changes no key (no decode); leaving the plane or the class does."""
    from latentlab.core.explore.manifold import GridRequest, grid_key
    from latentlab.core.explore.projection import dims_basis

    axes = dims_basis(3).plane(0, 1)
    model = object()
    z = np.array([0.2, -0.4, 1.0], np.float32)
    request = GridRequest()
    key = grid_key(model, axes, z, None, request)
    assert grid_key(model, axes, z + np.array([1.5, 0.7, 0.0], np.float32), None, request) == key
    assert grid_key(model, axes, z + np.array([0.0, 0.0, 0.1], np.float32), None, request) != key
    assert grid_key(model, axes, z, np.eye(3, dtype=np.float32)[1], request) != key
    centred = GridRequest(centred=True)
    moved = z + np.array([1.5, 0.0, 0.0], np.float32)
    assert grid_key(model, axes, moved, None, centred) != grid_key(model, axes, z, None, centred)


def test_cells_warp_for_gaussian_spacing_and_invert():
    from latentlab.core.explore.manifold import (
        Manifold,
        cell_at,
        from_cells,
        grid_coordinates,
        to_cells,
    )

    xs = grid_coordinates(5, 2.0, "gaussian")
    m = Manifold(np.zeros((5, 5, 2, 2, 1), np.float32), xs, xs, "gaussian")
    x, y = to_cells(m, 0.3, -1.2)
    np.testing.assert_allclose(from_cells(m, x, y), (0.3, -1.2), atol=1e-6)
    assert not m.evenly_spaced and cell_at(m, *to_cells(m, xs[1], xs[3])) == (xs[1], xs[3])
