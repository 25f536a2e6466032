"""The live training view: a real (tiny) run from the controller fills and animates the dock,
the time slider replays it, the GIF and the replay file are written, a saved replay reopens."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from latentlab.core.explore.replay import load_replay, replay_path_for
from latentlab.core.vae.config import Config
from latentlab.gui.live_view import SHORTCUT, SUBSTEPS
from latentlab.gui.training_controller import TrainingController

RUN_TIMEOUT_MS = 60_000  # the first run imports torch


def small_config(**changes) -> Config:
    base = Config(
        encoder_hidden=(16,),
        decoder_hidden=(16,),
        classifier_hidden=(16,),
        activation="relu",
        latent_dim=4,  # the window's small CVAE's size: the explorer's z decodes as it is
        batch_size=50,
        epochs=3,
        seed=1,
        dataset="tiny",
    )
    return base.replace(**changes)


@pytest.fixture
def window(open_explorer_window, cvae_file):
    def factory(parent):
        controller = TrainingController(parent=parent)
        controller.snapshot_every = 2  # tiny epochs of 6 steps: a few snapshots in each
        return controller

    return open_explorer_window(cvae_file, training_factory=factory)


def train(qtbot, window, tiny_dataset, **changes):
    controller = window.training
    frames = []
    window.live_view.frame_shown.connect(frames.append)
    assert controller.start(small_config(**changes), device="cpu", data_dir=str(tiny_dataset.dir))
    qtbot.waitUntil(lambda: not controller.is_running, timeout=RUN_TIMEOUT_MS)
    return frames


def test_the_view_is_in_the_view_menu_with_its_shortcut(window):
    live = window.live_view
    assert live.action in window.view_menu.actions()
    assert live.action.shortcut() == QKeySequence(SHORTCUT)
    assert not live.dock.isVisible()
    live.action.trigger()
    assert live.dock.isVisible()
    assert "No training run yet" in live.panel.step_label.text()


def test_training_with_follow_opens_and_updates_the_dock(qtbot, window, tiny_dataset):
    live = window.live_view
    frames = train(qtbot, window, tiny_dataset)

    assert live.dock.isVisible()  # following: the run opened it
    # the worker's throttle lets the first and each epoch's end through at least
    qtbot.waitUntil(lambda: live.frame_count >= 4 and not live.animating, timeout=5000)
    replay = live.replay
    assert replay.steps[0] == 0 and replay.steps[-1] == 18  # 3 epochs of 6 steps
    assert replay.epochs[-1] == 3
    assert replay.point_count == 100  # the tiny test set is smaller than 2,000: all of it
    # the scatter shows the last frame, one point per test image, in class colours
    x, y = live.panel.points.getData()
    np.testing.assert_allclose(np.c_[x, y], replay.frame(-1), atol=1e-5)
    brushes = live.panel.points.data["brush"]
    labels = tiny_dataset.arrays["test_labels"][replay.indices]
    assert brushes[0].color() == brushes[np.flatnonzero(labels == labels[0])[-1]].color()
    assert frames and frames[-1] == pytest.approx(len(replay) - 1)  # it moved to the newest
    assert live.panel.step_label.text().startswith("step 18 / epoch 3")
    # the image is the explorer's point (its z and class) decoded with the latest weights
    from latentlab.core.vae.snapshots import SnapshotDecoder

    decoder = SnapshotDecoder.of(live.latest)
    for k, z in ((3, [0.5, -0.5, 1.0, 0.0]), (7, [0.0, 1.5, 0.0, -1.0])):
        window.state.set_point(np.array(z, np.float32), k)
        np.testing.assert_allclose(
            live.panel.image.image(), decoder.decode(window.state.z, k), atol=1e-6
        )
    assert "step 18" in live.panel.image._caption.text()
    assert f"class {window.state.class_index}" in live.panel.image._caption.text()


def test_the_time_slider_replays_the_run(qtbot, window, tiny_dataset):
    live = window.live_view
    train(qtbot, window, tiny_dataset)
    qtbot.waitUntil(lambda: live.frame_count >= 4 and not live.animating, timeout=5000)
    slider = live.panel.time_slider
    assert slider.isEnabled() and slider.maximum() == (live.frame_count - 1) * SUBSTEPS

    slider.setValue(0)
    x, y = live.panel.points.getData()
    np.testing.assert_allclose(np.c_[x, y], live.replay.frame(0), atol=1e-5)
    assert live.panel.step_label.text().startswith("step 0 / epoch 0")
    assert "step 0" in live.panel.image._caption.text()  # the first snapshot's decoder

    slider.setValue(SUBSTEPS + SUBSTEPS // 2)  # halfway between snapshots 1 and 2
    x, y = live.panel.points.getData()
    np.testing.assert_allclose(np.c_[x, y], live.replay.at(1.5), atol=1e-5)

    slider.setValue(0)
    qtbot.mouseClick(live.panel.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not live.panel.play_button.isChecked(), timeout=10_000)
    assert slider.value() == slider.maximum()
    x, y = live.panel.points.getData()
    np.testing.assert_allclose(np.c_[x, y], live.replay.frame(-1), atol=1e-5)


def test_export_gif_writes_every_frame(qtbot, window, tiny_dataset, tmp_path):
    live = window.live_view
    train(qtbot, window, tiny_dataset, epochs=2)
    path = tmp_path / "replay.gif"
    with qtbot.waitSignal(live.gif_written, timeout=20_000) as blocker:
        live.export_gif(path)
    assert blocker.args[0] == str(path)
    with Image.open(path) as gif:
        assert gif.n_frames == blocker.args[1]
        assert gif.n_frames == live.frame_count + (live.frame_count - 1) * 3


def test_the_replay_is_saved_beside_the_model_and_reopens(
    qtbot, window, tiny_dataset, tmp_path, open_explorer_window
):
    live = window.live_view
    with qtbot.waitSignal(window.model_loaded, timeout=RUN_TIMEOUT_MS):
        train(qtbot, window, tiny_dataset, epochs=2)
    assert window.is_unsaved
    target = tmp_path / "trained.safetensors"
    with qtbot.waitSignal(live.replay_saved, timeout=20_000) as blocker:
        assert window.files.save_to(target)
    saved = replay_path_for(target)
    assert blocker.args[0] == str(saved)
    back = load_replay(saved)
    assert back.steps == live.replay.steps
    np.testing.assert_array_equal(back.means[-1], live.replay.means[-1])

    other = open_explorer_window(None, training_factory=None)
    with qtbot.waitSignal(other.live_view.replay_loaded, timeout=20_000):
        other.open_model(target)
    view = other.live_view
    assert view.frame_count == len(back)
    other.live_view.action.trigger()
    x, y = view.panel.points.getData()
    np.testing.assert_allclose(np.c_[x, y], back.frame(-1), atol=1e-5)
    assert view.panel.image.image() is not None  # the saved decoder decodes the point


def test_not_following_leaves_the_dock_closed(qtbot, window, tiny_dataset):
    live = window.live_view
    window.training.follow_live = False
    train(qtbot, window, tiny_dataset, epochs=1)
    assert not live.dock.isVisible()
    assert live.frame_count >= 2  # still recorded for a later replay


def test_another_model_without_a_replay_clears_the_view_and_play_is_slow_enough(
    qtbot, window, tiny_dataset, vae2d_file
):
    live = window.live_view
    with qtbot.waitSignal(window.model_loaded, timeout=RUN_TIMEOUT_MS):
        train(qtbot, window, tiny_dataset, epochs=2)
    assert live.frame_count > 1
    # Play takes SUBSTEPS ticks a snapshot at PLAY_TICK_MS: a short run is not over in a blink.
    from latentlab.gui.live_view import PLAY_TICK_MS, SUBSTEPS

    assert PLAY_TICK_MS * SUBSTEPS >= 400
    live.panel.play_button.setChecked(True)
    assert live.panel.play_button.text() == "Pause"
    live.panel.play_button.setChecked(False)
    assert live.panel.play_button.text() == "Play"
    with qtbot.waitSignal(window.model_loaded, timeout=RUN_TIMEOUT_MS):
        window.open_model(vae2d_file)  # no replay beside it: the last run is not shown as its
    assert live.frame_count == 0
    assert "No replay beside" in live.panel.note.text()
