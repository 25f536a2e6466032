"""Nonlinear maps: the inverse map, the state on a map, the job (cancel, cache) and `latentlab map`.

The t-SNE runs are real and tiny (60 points, under a second); UMAP runs once (its first call in a
process compiles numba code: about 15 s).
"""

from __future__ import annotations

import dataclasses
import threading
import time

import numpy as np
import pytest

from latentlab.cli import main
from latentlab.core.explore import maps
from latentlab.core.explore.manifold import GridRequest, decode_request, grid_key, grid_latents
from latentlab.core.explore.maps import LatentMap, MapRequest, as_projection, map_job
from latentlab.core.explore.projection import NonlinearProjection
from latentlab.core.jobs import CancelToken, JobCancelled, Progress
from latentlab.core.vae.checkpoint import save_model

from ..factories import TINY_CVAE, open_state, random_record


@pytest.fixture(autouse=True)
def _map_cache(tmp_path, monkeypatch):
    folder = tmp_path / "map-cache"
    monkeypatch.setenv(maps.CACHE_ENV, str(folder))
    return folder


def clustered(n_per: int = 20, d: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well separated blobs in d dimensions, and which blob each point is in."""
    rng = np.random.default_rng(seed)
    centres = np.eye(3, d) * 6
    labels = np.repeat(np.arange(3), n_per)
    mu = centres[labels] + rng.normal(0, 0.4, (len(labels), d))
    return mu.astype(np.float32), labels


def run(job):
    """Drive a job generator to its end: (progress reports, the returned value)."""
    seen = []
    try:
        while True:
            seen.append(next(job))
    except StopIteration as end:
        return seen, end.value


def neighbours_kept(coords: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """Share of each point's k nearest map neighbours that are of its own blob."""
    d = ((coords[:, None] - coords[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    near = np.argsort(d, axis=1)[:, :k]
    return float((labels[near] == labels[:, None]).mean())


# --- the inverse map -------------------------------------------------------------------------------


def random_map(n: int = 500, d: int = 6, seed: int = 1) -> NonlinearProjection:
    rng = np.random.default_rng(seed)
    latents = rng.standard_normal((n, d)).astype(np.float32)
    coords = rng.uniform(-3, 3, (n, 2)).astype(np.float32)
    return NonlinearProjection("umap", coords, latents, name="UMAP")


def test_lifting_onto_a_data_point_gives_its_latent_and_near_it_lands_near_it():
    m = random_map()
    for i in (0, 17, 499):
        assert np.array_equal(m.lift(m.coords[i]), m.latents[i])
    # A step a hundredth of the typical spacing away: the blend is dominated by that point.
    spacing = 6 / np.sqrt(len(m.coords))
    i = 42
    lifted = m.lift(m.coords[i] + np.float32(spacing / 100))
    assert np.linalg.norm(lifted - m.latents[i]) < 0.05 * np.linalg.norm(m.latents[i])
    # Halfway between two points, the latent lies between theirs (not at either).
    a, b = m.coords[0], m.coords[1]
    mid = m.lift((a + b) / 2)
    assert not np.allclose(mid, m.latents[0]) and not np.allclose(mid, m.latents[1])


def test_projecting_data_latents_gives_the_stored_coordinates():
    m = random_map()
    assert np.array_equal(m.project(m.latents), m.coords)
    assert np.array_equal(m.project(m.latents[7]), m.coords[7])
    z = m.latents[3] + 0.01
    assert np.linalg.norm(m.project(z) - m.coords[3]) < np.linalg.norm(m.coords[3] - m.coords[4])
    many = m.project(m.latents[:5] + 0.001)
    assert many.shape == (5, 2)


def test_lift_is_well_under_a_millisecond_at_70000_points():
    rng = np.random.default_rng(0)
    n = 70_000
    m = NonlinearProjection(
        "umap", rng.normal(0, 1, (n, 2)), rng.normal(0, 1, (n, 16)).astype(np.float32)
    )
    targets = rng.normal(0, 1, (200, 2)).astype(np.float32)
    times = []
    for p in targets:
        t = time.perf_counter()
        m.lift(p)
        times.append(time.perf_counter() - t)
    assert float(np.median(times)) < 1e-3, f"median lift {np.median(times) * 1e6:.0f} us"


def test_a_map_needs_one_coordinate_pair_per_latent():
    with pytest.raises(ValueError, match="coordinates"):
        NonlinearProjection("umap", np.zeros((3, 2)), np.zeros((4, 2)))


# --- the explorer state on a map ---------------------------------------------------------------


def state_with_map():
    state = open_state(random_record(TINY_CVAE, n_test=80, seed=3))
    mu = state.points.mu
    coords = np.random.default_rng(5).uniform(-2, 2, (len(mu), 2)).astype(np.float32)
    state.add_map(as_projection(LatentMap(MapRequest("tsne", 30), coords), mu))
    return state, coords


def test_state_shows_a_map_and_a_drag_moves_the_point_through_its_inverse():
    state, coords = state_with_map()
    assert state.map_projection("tsne") is not None and state.map_projection("umap") is None
    changes = []
    state.events.projection.connect(lambda p: changes.append(p.kind))
    state.set_projection("tsne")
    assert changes == ["tsne"]
    assert np.array_equal(state.points_2d(), coords)
    assert "t-SNE" in state.projection.titles[0]
    before = state.image()
    state.move_to(*coords[11])  # onto a data point: its latent (inside the sliders' box)
    assert np.allclose(state.z, state.points.mu[11], atol=1e-6)
    assert not np.array_equal(state.image(), before)  # the live image followed
    state.move_to(0.3, -0.2)  # empty space: the marker stays where it was put
    assert np.allclose(state.current_point(), [0.3, -0.2])
    state.select(5)
    assert np.allclose(state.current_point(), coords[5])
    assert state.nearest_point(*coords[9]) == 9
    state.set_projection("pca")
    assert state.projection.kind == "pca"


def test_a_map_of_other_points_is_refused():
    state, _ = state_with_map()
    other = as_projection(
        LatentMap(MapRequest("umap", 15), np.zeros((3, 2), np.float32)), np.zeros((3, 4))
    )
    with pytest.raises(ValueError, match="not of this model"):
        state.add_map(other)


def test_opening_another_model_forgets_its_maps():
    state, _ = state_with_map()
    state.set_projection("tsne")
    state.open(state.document)
    assert state.map_projection("tsne") is None and state.projection.kind != "tsne"


def test_the_manifold_grid_on_a_map_decodes_the_inverse_at_each_cell():
    state, coords = state_with_map()
    state.set_projection("tsne")
    axes = state.projection
    i = 20
    latents = grid_latents(axes, state.z, np.array([coords[i, 0], 5.0]), np.array([coords[i, 1]]))
    assert np.allclose(latents[0, 0], state.points.mu[i])
    request = GridRequest(size=3, half_range=1.0)
    grid = decode_request(state.model, axes, state.z, state.condition(), request)
    assert grid.images.shape[:2] == (3, 3)
    # Moving the point does not change the grid of a map (it is the map's inverse, not z's).
    key = grid_key(state.model, axes, state.z, state.condition(), request)
    state.move_to(0.5, 0.5)
    assert grid_key(state.model, axes, state.z, state.condition(), request) == key


# --- the job -------------------------------------------------------------------------------------


def test_tsne_keeps_neighbourhoods_reports_progress_and_is_cached(_map_cache):
    mu, labels = clustered()
    request = MapRequest("tsne", 10)
    seen, first = run(map_job(mu, request))
    assert all(isinstance(p, Progress) for p in seen)
    assert not first.from_cache and first.coords.shape == (len(mu), 2)
    assert first.coords.dtype == np.float32
    assert neighbours_kept(first.coords, labels) > 0.95
    assert len(list(_map_cache.glob("tsne-*.npy"))) == 1
    _, second = run(map_job(mu, request))
    assert second.from_cache and np.array_equal(second.coords, first.coords)
    _, other = run(map_job(mu, MapRequest("tsne", 12)))  # another parameter: another map
    assert not other.from_cache


def test_cancelling_a_layout_stops_it_with_job_cancelled():
    mu, _ = clustered(n_per=400, d=8)
    token = CancelToken()
    job = map_job(mu, MapRequest("tsne", 30), token, use_cache=False)
    stages = []
    with pytest.raises(JobCancelled):
        for progress in job:
            stages.append(progress.stage)
            if "laying out" in progress.stage or len(stages) > 3:
                token.cancel()
    assert stages


def test_job_cancelled_thrown_in_at_a_yield_waits_for_the_library_and_raises():
    mu, _ = clustered(n_per=400, d=8)
    job = map_job(mu, MapRequest("tsne", 30), use_cache=False)
    next(job)
    next(job)
    with pytest.raises(JobCancelled):
        job.throw(JobCancelled())
    assert not [t for t in threading.enumerate() if t.name == "latentlab-map"]


def test_a_damaged_or_foreign_cache_file_is_recomputed(_map_cache):
    mu, _ = clustered(n_per=5)
    request = MapRequest("tsne", 3)
    path = maps.cache_path(mu, request)
    path.parent.mkdir(parents=True)
    for content in (b"not an npy file", b"\x93NUMPY" + b"\0" * 10):
        path.write_bytes(content)
        assert maps.load_cached(mu, request) is None
    maps.store(mu, request, np.zeros((len(mu) + 1, 2), np.float32))  # wrong row count
    assert maps.load_cached(mu, request) is None
    path.write_bytes(b"\0" * (10 * 1024 * 1024))  # far too big for this map: not read
    assert maps.load_cached(mu, request) is None
    _, result = run(map_job(mu, request))
    assert not result.from_cache and maps.load_cached(mu, request) is not None


@pytest.mark.parametrize(
    ("method", "parameter"), [("umap", 1), ("umap", 500), ("tsne", 0), ("pca", 5)]
)
def test_requests_out_of_range_are_refused(method, parameter):
    with pytest.raises(ValueError):
        MapRequest(method, parameter)


@pytest.mark.slow
def test_umap_keeps_neighbourhoods():
    mu, labels = clustered(n_per=30)
    seen, result = run(map_job(mu, MapRequest("umap", 10), use_cache=False))
    assert result.coords.shape == (len(mu), 2)
    assert neighbours_kept(result.coords, labels) > 0.95
    assert any("laying out" in p.stage and p.total > 0 for p in seen)


# --- the command ---------------------------------------------------------------------------------


def test_map_command_writes_coordinates_in_point_order_and_caches_them(tmp_path, capsys):
    mu, labels = clustered(n_per=15, d=TINY_CVAE.latent_dim)
    record = random_record(TINY_CVAE, n_test=len(mu))
    encoding = dataclasses.replace(record.test_encoding, mu=mu, labels=labels.astype(np.uint8))
    path = save_model(
        dataclasses.replace(record, test_encoding=encoding), tmp_path / "m.safetensors"
    )
    out = tmp_path / "coords.npy"
    argv = ["map", str(path), "--method", "tsne", "--perplexity", "8", "--out", str(out)]
    assert main(argv) == 0
    coords = np.load(out)
    assert coords.shape == (len(mu), 2) and coords.dtype == np.float32
    assert neighbours_kept(coords, labels) > 0.95  # row i is point i
    err = capsys.readouterr().err
    assert "computed" in err
    # Not a terminal: each stage of the layout on a line of its own, with the time so far.
    stages = [line for line in err.splitlines() if line.startswith("  ")]
    assert stages and all(line.endswith(" s)") for line in stages)
    assert main(argv) == 0
    assert "from the cache" in capsys.readouterr().err
    assert np.array_equal(np.load(out), coords)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--method", "umap", "--perplexity", "5"], "UMAP takes --neighbours"),
        (["--method", "tsne", "--neighbours", "5"], "t-SNE takes --perplexity"),
        (["--method", "umap", "--neighbours", "1"], "--neighbours: neighbours must be in"),
        (["--out", "coords.png"], "--out must end in .npy"),
    ],
)
def test_map_command_errors_are_one_line(tmp_path, capsys, extra, message):
    path = save_model(random_record(TINY_CVAE, n_test=20), tmp_path / "m.safetensors")
    assert main(["map", str(path), *extra]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_an_isolated_layout_runs_in_a_child_process_and_a_cancel_ends_it():
    mu, labels = clustered()
    seen, result = run(map_job(mu, MapRequest("tsne", 10), use_cache=False, isolated=True))
    assert neighbours_kept(result.coords, labels) > 0.95
    assert any(p.stage.startswith("laying out") for p in seen)  # relayed from the child
    token = CancelToken()
    big, _ = clustered(n_per=400, d=8)
    job = map_job(big, MapRequest("tsne", 30), token, use_cache=False, isolated=True)
    next(job)
    token.cancel()
    with pytest.raises(JobCancelled):
        for _ in job:
            pass
    import multiprocessing

    assert not multiprocessing.active_children()
