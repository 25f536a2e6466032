"""The replay of a training run: stable 2-D frames, interpolation, GIF export, .npz round trip."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from latentlab.core.explore.replay import (
    Replay,
    ReplayFileError,
    gif_frames,
    load_replay,
    procrustes_rotation,
    render_frame,
    replay_path_for,
    save_replay,
    save_replay_gif,
)


def rotation(theta: float) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]])


def cloud(n: int = 120, d: int = 2, seed: int = 0) -> np.ndarray:
    """An elongated cloud (distinct principal axes), centred."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)) * np.linspace(3.0, 0.5, d)
    return (x - x.mean(axis=0)).astype(np.float32)


def test_procrustes_recovers_a_known_rotation_and_reflection():
    a = cloud().astype(np.float64)
    for r in (rotation(0.9), rotation(-2.3), rotation(0.4) @ np.diag([1.0, -1.0])):
        found = procrustes_rotation(a, a @ r)
        np.testing.assert_allclose(found, r, atol=1e-9)


def test_a_rotated_snapshot_does_not_turn_the_picture():
    """The same cloud, rotated in latent space (as a model may between snapshots), is drawn
    where it was: aligned frames agree, while each snapshot's own PCA alone could flip."""
    x = cloud(d=3)
    r3 = np.eye(3)
    r3[:2, :2] = rotation(1.1)
    replay = Replay(labels=np.arange(len(x)) % 10)
    replay.add(0, 0, x)
    replay.add(10, 1, (x @ r3.T).astype(np.float32))
    replay.add(20, 1, -x)  # a flip of every axis
    np.testing.assert_allclose(replay.frame(1), replay.frame(0), atol=1e-4)
    np.testing.assert_allclose(replay.frame(2), replay.frame(0), atol=1e-4)


def test_aligned_frames_keep_distances():
    rng = np.random.default_rng(2)
    x = cloud(d=2)
    y = (x * 2.5 + rng.normal(0, 0.1, x.shape)).astype(np.float32)  # grown and jittered
    replay = Replay()
    replay.add(0, 0, x)
    frame = replay.add(5, 1, y)
    d_frame = np.linalg.norm(frame[:, None] - frame[None], axis=-1)
    d_means = np.linalg.norm(y[:, None] - y[None], axis=-1)
    np.testing.assert_allclose(d_frame, d_means, rtol=1e-4, atol=1e-4)  # no scaling


def test_fixed_mode_projects_on_the_first_snapshots_axes():
    x = cloud(d=4)
    replay = Replay(mode="fixed")
    replay.add(0, 0, x)
    shifted = x + np.float32(1.0)
    frame = replay.add(1, 1, shifted)
    mean0 = x.mean(axis=0)
    _, _, vt = np.linalg.svd(x - mean0, full_matrices=False)
    np.testing.assert_allclose(np.abs(frame), np.abs((shifted - mean0) @ vt[:2].T), atol=1e-4)
    with pytest.raises(ValueError, match="mode"):
        Replay(mode="spin")


def test_interpolation_runs_linearly_between_frames():
    replay = Replay()
    x = cloud()
    replay.add(0, 0, x)
    replay.add(1, 1, x * 3)
    a, b = replay.frame(0), replay.frame(1)
    np.testing.assert_allclose(replay.at(0.25), 0.75 * a + 0.25 * b, atol=1e-5)
    np.testing.assert_array_equal(replay.at(0), a)
    np.testing.assert_array_equal(replay.at(1), b)
    np.testing.assert_array_equal(replay.at(7.5), b)  # clamped to the last frame
    x0, x1, y0, y1 = replay.bounds()
    both = np.concatenate([a, b])
    assert x0 < both[:, 0].min() and x1 > both[:, 0].max()
    assert y0 < both[:, 1].min() and y1 > both[:, 1].max()


def test_non_finite_means_do_not_break_the_view():
    x = cloud()
    x[3] = np.nan
    replay = Replay()
    frame = replay.add(0, 0, x)
    assert np.isfinite(frame).all()


def test_mismatched_snapshots_are_refused():
    replay = Replay(labels=np.zeros(120, np.int64))
    replay.add(0, 0, cloud())
    with pytest.raises(ValueError, match="replay of"):
        replay.add(1, 1, cloud(n=50))
    with pytest.raises(ValueError, match="labels"):
        Replay(labels=np.zeros(3, np.int64)).add(0, 0, cloud())


def make_replay(k: int = 4) -> Replay:
    rng = np.random.default_rng(9)
    x = cloud(d=3)
    replay = Replay(
        labels=np.arange(len(x)) % 10,
        indices=np.arange(len(x)) * 2,
        meta={"config": {"latent_dim": 3}},
        weights={"decoder.layers.0.weight": rng.standard_normal((4, 3)).astype(np.float32)},
    )
    for i in range(k):
        replay.add(i * 50, i, (x * (1 + i) + rng.normal(0, 0.2, x.shape)).astype(np.float32))
    return replay


def test_gif_export_writes_every_frame(tmp_path):
    replay = make_replay(4)
    path = tmp_path / "replay.gif"
    count = save_replay_gif(replay, path, frame_ms=60, between=2, size=96)
    assert count == 4 + 3 * 2
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        assert gif.size == (96, 96)
        assert gif.n_frames == count
    assert len(gif_frames(replay, between=0, size=64)) == 4
    with pytest.raises(ValueError, match="nothing"):
        gif_frames(Replay())


def test_a_rendered_frame_draws_each_class_in_its_colour():
    coords = np.array([[0.0, 0.0], [1.0, 1.0]], np.float32)
    picture = render_frame(coords, np.array([0, 3]), (0.0, 1.0, 0.0, 1.0), size=50, dot=2)
    assert picture.shape == (50, 50, 3) and picture.dtype == np.uint8
    np.testing.assert_array_equal(picture[48, 0], [31, 119, 180])  # class 0 at bottom left
    np.testing.assert_array_equal(picture[0, 48], [214, 39, 40])  # class 3 at top right
    assert (picture[25, 25] == 255).all()  # paper between them


def test_npz_round_trip(tmp_path):
    replay = make_replay(3)
    path = save_replay(replay, tmp_path / "m.replay.npz")
    back = load_replay(path)
    assert back.steps == replay.steps and back.epochs == replay.epochs
    assert back.meta == replay.meta and back.mode == replay.mode
    np.testing.assert_array_equal(back.labels, replay.labels)
    np.testing.assert_array_equal(back.indices, replay.indices)
    for a, b in zip(back.means, replay.means, strict=True):
        np.testing.assert_array_equal(a, b)
    for i in range(len(replay)):
        np.testing.assert_allclose(back.frame(i), replay.frame(i), atol=1e-6)
    np.testing.assert_array_equal(
        back.weights["decoder.layers.0.weight"], replay.weights["decoder.layers.0.weight"]
    )
    assert replay_path_for(tmp_path / "model.safetensors") == tmp_path / "model.replay.npz"


def test_a_pickled_array_is_refused_with_the_file_named(tmp_path):
    path = tmp_path / "evil.replay.npz"
    good = make_replay(2)
    np.savez(
        path,
        format_version=np.array(1),
        steps=np.array(good.steps),
        epochs=np.array(good.epochs),
        means=np.stack(good.means),
        meta=np.array([{"boom": print}], dtype=object),
    )
    with pytest.raises(ReplayFileError, match=r"evil\.replay\.npz") as info:
        load_replay(path)
    assert "\n" not in str(info.value)
    assert "pickle" in str(info.value).lower()


@pytest.mark.parametrize(
    ("arrays", "problem"),
    [
        ({"steps": np.array([0, 1])}, "no 'format_version'"),
        (
            {
                "format_version": np.array(1),
                "steps": np.array([0]),
                "epochs": np.array([0]),
                "means": np.zeros((1, 3, 2), np.float64),
            },
            "float32",
        ),
        (
            {
                "format_version": np.array(1),
                "steps": np.array([5, 1]),
                "epochs": np.array([0, 1]),
                "means": np.zeros((2, 3, 2), np.float32),
            },
            "never go back",
        ),
        (
            {
                "format_version": np.array(1),
                "steps": np.array([0]),
                "epochs": np.array([0]),
                "means": np.zeros((1, 3, 2), np.float32),
                "labels": np.array([0, 1]),
            },
            "labels",
        ),
        (
            {
                "format_version": np.array(9),
                "steps": np.array([0]),
                "epochs": np.array([0]),
                "means": np.zeros((1, 3, 2), np.float32),
            },
            "version",
        ),
    ],
)
def test_a_malformed_replay_is_refused(tmp_path, arrays, problem):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(ReplayFileError, match=problem):
        load_replay(path)


def test_a_small_file_that_unpacks_to_a_lot_is_refused(tmp_path, monkeypatch):
    from latentlab.core.explore import replay as module

    path = tmp_path / "bomb.npz"
    np.savez_compressed(
        path,
        format_version=np.array(1),
        steps=np.array([0]),
        epochs=np.array([0]),
        means=np.zeros((1, 50_000, 8), np.float32),  # 1.6 MB of zeros, a few kB on disk
    )
    assert path.stat().st_size < 100_000
    monkeypatch.setattr(module, "MAX_UNPACKED_BYTES", 1_000_000)
    with pytest.raises(ReplayFileError, match="unpack"):
        load_replay(path)
    monkeypatch.setattr(module, "MAX_UNPACKED_BYTES", 10_000_000)
    assert len(load_replay(path)) == 1


def test_not_a_zip_and_not_a_file_are_refused(tmp_path):
    junk = tmp_path / "junk.replay.npz"
    junk.write_bytes(b"PK\x03\x04 this is no zip")
    with pytest.raises(ReplayFileError, match=r"junk\.replay\.npz"):
        load_replay(junk)
    with pytest.raises(ReplayFileError, match="cannot be read"):
        load_replay(tmp_path / "missing.npz")
    with pytest.raises(ReplayFileError, match="folder"):
        load_replay(tmp_path)
    broken = tmp_path / "cut.npz"
    save_replay(make_replay(2), broken)
    broken.write_bytes(broken.read_bytes()[:200])
    with pytest.raises(ReplayFileError, match=r"cut\.npz"):
        load_replay(broken)


def test_a_two_dimensional_run_is_shown_on_its_own_plane():
    from latentlab.core.explore.replay import Replay

    rng = np.random.default_rng(0)
    replay = Replay()
    first = rng.normal(size=(50, 2)).astype(np.float32)
    replay.add(0, 0, first)
    replay.add(10, 1, first * 2 + 1)
    assert replay.plane
    # The explorer's scatter of a 2-D model is (z1, z2): the replay shows the same, unrotated.
    np.testing.assert_allclose(replay.frame(0), first)
    np.testing.assert_allclose(replay.frame(1), first * 2 + 1)
