"""Training from the GUI: a real (tiny) run through the controller, the dialog, cancel, NaN, quit.

Every run trains on the ``tiny`` dataset (300 images, a few ms per epoch once torch is loaded) on
the CPU; waits are ``waitSignal`` / ``waitUntil``, never sleeps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from latentlab.core.vae.config import PRESETS, Config
from latentlab.gui import data_dialog
from latentlab.gui.data_dialog import DataDialog
from latentlab.gui.training_controller import TrainingController

RUN_TIMEOUT_MS = 60_000  # the first run imports torch


def small_config(**changes) -> Config:
    base = Config(
        encoder_hidden=(16,),
        decoder_hidden=(16,),
        classifier_hidden=(16,),
        activation="relu",
        latent_dim=2,
        batch_size=50,
        epochs=3,
        seed=1,
        dataset="tiny",
    )
    return base.replace(**changes)


@pytest.fixture
def controller(qtbot):
    ctrl = TrainingController()
    qtbot.addWidget(ctrl.panel)
    ctrl.panel.show()
    yield ctrl
    ctrl.shutdown()
    assert not ctrl.is_running


class Recorder:
    """Collects a signal's emissions."""

    def __init__(self, signal) -> None:
        self.calls: list[tuple] = []
        signal.connect(lambda *args: self.calls.append(args))


def test_short_run_fills_progress_curves_and_sample_grid(qtbot, controller, tiny_dataset):
    running = Recorder(controller.running_changed)
    trained = Recorder(controller.model_trained)
    panel = controller.panel
    config = small_config(epochs=3)

    assert controller.start(config, device="cpu", data_dir=str(tiny_dataset.dir))
    assert controller.is_running
    qtbot.waitUntil(lambda: not controller.is_running, timeout=RUN_TIMEOUT_MS)

    assert [args[0] for args in running.calls] == [True, False]
    assert len(trained.calls) == 1
    record = trained.calls[0][0]
    assert record.config == config
    assert len(record.history) == config.epochs
    # the curves hold one point per epoch, with the values the trainer recorded
    x, y = panel.vae_test_curve.getData()
    assert list(x) == [1, 2, 3]
    expected = [h["test"]["recon"] + h["test"]["kl"] for h in record.history]
    np.testing.assert_allclose(y, expected, rtol=1e-6)
    assert len(panel.vae_train_curve.getData()[0]) == config.epochs
    assert len(panel.class_train_curve.getData()[0]) == config.epochs
    _, cls_test = panel.class_test_curve.getData()
    np.testing.assert_allclose(cls_test, [h["test"]["classifier"] for h in record.history])
    # the smoothed batch curve got at least one point per epoch, ending at the last epoch
    bx, _ = panel.batch_curve.getData()
    assert len(bx) >= config.epochs and bx[-1] == pytest.approx(config.epochs)
    # one sample row per epoch, in a single row-major image with fixed levels
    assert panel.sample_rows == config.epochs
    image = panel.sample_image.image
    assert image.shape == (28 * config.epochs, 280) and image.dtype == np.float32
    assert image.min() >= 0.0 and image.max() <= 1.0
    assert tuple(panel.sample_image.levels) == (0.0, 1.0)
    # ink on paper, as every image in the app: the image drawn is 1 - the decoded values
    np.testing.assert_allclose(image, 1.0 - np.concatenate(panel.training_plots._rows), atol=1e-6)
    # the status line says how it ended
    assert panel.progress_bar.value() == panel.progress_bar.maximum() > 1
    status = panel.status_label.text()
    assert status.startswith("Done in")
    assert f"test accuracy {record.metrics['test_accuracy']:.3f}" in status
    assert not panel.cancel_button.isEnabled()


def test_dialog_preset_fills_fields_and_start_trains(qtbot, controller, tiny_dataset):
    controller.open_dialog()
    dialog = controller.dialog
    assert dialog is not None and dialog.isVisible()

    dialog.preset_combo.setCurrentIndex(dialog.preset_combo.findData("vae-2d"))
    preset = PRESETS["vae-2d"].config
    assert dialog.latent_spin.value() == preset.latent_dim
    assert dialog.likelihood_combo.currentText() == preset.likelihood
    assert dialog.preset_description.text() == PRESETS["vae-2d"].description

    dialog.epochs_spin.setValue(2)
    dialog.batch_spin.setValue(100)
    dialog.kl_spin.setValue(0.5)
    dialog.seed_spin.setValue(3)
    dialog.dataset_combo.setCurrentIndex(dialog.dataset_combo.findData("tiny"))
    assert dialog.dataset_combo.currentText() == "Tiny"  # titles are shown
    dialog.device_combo.setCurrentText("cpu")
    dialog.data_dir_edit.setText(str(tiny_dataset.dir))

    with qtbot.waitSignal(controller.model_trained, timeout=RUN_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    record = blocker.args[0]
    expected = preset.replace(epochs=2, batch_size=100, kl_weight=0.5, seed=3, dataset="tiny")
    assert record.config == expected
    assert len(record.history) == 2
    assert controller.dialog is None
    # a plain VAE has no classifier: its plot is taken out of the panel
    assert controller.panel.class_plot not in controller.panel.plots.ci.items
    qtbot.waitUntil(lambda: not controller.is_running, timeout=RUN_TIMEOUT_MS)


@pytest.mark.parametrize("lr_text", ["abc", "0", "-1e-3"])
def test_dialog_rejects_bad_values_and_stays_open(qtbot, controller, lr_text):
    controller.open_dialog()
    dialog = controller.dialog
    dialog.lr_edit.setText(lr_text)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert "learning rate" in dialog.error()
    assert not controller.is_running
    dialog.reject()
    assert controller.dialog is None


def test_cancel_keeps_last_epoch_and_offers_it(qtbot, controller, tiny_dataset):
    trained = Recorder(controller.model_trained)
    panel = controller.panel
    assert controller.start(small_config(epochs=500), device="cpu", data_dir=str(tiny_dataset.dir))
    thread = controller.thread
    qtbot.waitUntil(lambda: panel.sample_rows >= 1, timeout=RUN_TIMEOUT_MS)
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not controller.is_running, timeout=RUN_TIMEOUT_MS)

    assert thread.isFinished() and not thread.isRunning()
    assert trained.calls == []  # a cancelled run is not loaded unless the user asks
    epochs_done = len(panel.vae_test_curve.getData()[0])
    assert 1 <= epochs_done < 500
    assert panel.status_label.text() == f"Cancelled after {epochs_done} of 500 epochs"
    assert panel.use_button.isVisible()
    assert panel.use_button.text() == f"Use model from epoch {epochs_done}"

    qtbot.mouseClick(panel.use_button, Qt.MouseButton.LeftButton)
    assert len(trained.calls) == 1
    assert len(trained.calls[0][0].history) == epochs_done
    assert not panel.use_button.isVisible()


def test_second_run_is_refused_while_one_runs(qtbot, controller, tiny_dataset):
    config = small_config(epochs=500)
    assert controller.start(config, device="cpu", data_dir=str(tiny_dataset.dir))
    thread = controller.thread

    assert controller.start(config, device="cpu", data_dir=str(tiny_dataset.dir)) is False
    box = controller.message_box
    assert box is not None and box.isVisible()
    assert "already" in box.text().lower() and "one training run at a time" in box.text()
    assert controller.thread is thread  # the first run goes on
    controller.open_dialog()
    assert controller.dialog is None  # the menu is refused the same way

    controller.cancel()
    qtbot.waitUntil(lambda: not controller.is_running, timeout=RUN_TIMEOUT_MS)
    assert thread.isFinished()


@pytest.mark.parametrize("when", ["while loading", "while training"])
def test_shutdown_during_a_run_joins_the_thread(qtbot, controller, tiny_dataset, when):
    trained = Recorder(controller.model_trained)
    assert controller.start(small_config(epochs=500), device="cpu", data_dir=str(tiny_dataset.dir))
    thread = controller.thread
    if when == "while training":
        qtbot.waitUntil(lambda: controller.panel.sample_rows >= 1, timeout=RUN_TIMEOUT_MS)

    controller.shutdown(timeout_ms=30_000)

    assert thread.isFinished() and not thread.isRunning()
    assert not controller.is_running
    controller.shutdown()  # a second call is harmless
    assert controller.start(small_config(), device="cpu") is False  # closing: no new runs
    qtbot.wait(50)  # let any late queued event arrive: it must be ignored
    assert trained.calls == []


def test_nan_loss_fails_cleanly_and_app_stays_usable(qtbot, controller, tiny_dataset):
    trained = Recorder(controller.model_trained)
    panel = controller.panel
    diverging = small_config(optimizer="sgd", learning_rate=1e6)
    assert controller.start(diverging, device="cpu", data_dir=str(tiny_dataset.dir))
    qtbot.waitUntil(lambda: not controller.is_running, timeout=RUN_TIMEOUT_MS)

    assert trained.calls == []
    assert panel.status_label.text() == "Training failed"
    assert panel.message_label.isVisible() and "NaN" in panel.message_label.text()
    box = controller.message_box
    assert box is not None and box.isVisible() and "NaN" in box.text()
    assert controller.use_button() is None  # it failed in epoch 1: no weights to offer
    # still usable: a good run right after works
    with qtbot.waitSignal(controller.model_trained, timeout=RUN_TIMEOUT_MS):
        assert controller.start(
            small_config(epochs=1), device="cpu", data_dir=str(tiny_dataset.dir)
        )


class _FolderPicker:
    """Stands in for QFileDialog: 'chooses' a fixed folder."""

    folder = ""

    @classmethod
    def getExistingDirectory(cls, *args, **kwargs) -> str:
        return cls.folder


def test_missing_data_offers_folder_then_trains(
    qtbot, controller, tiny_dataset, tmp_path, monkeypatch
):
    empty = tmp_path / "empty"
    empty.mkdir()
    shown: list[str] = []

    def choose_folder(dialog: DataDialog) -> int:
        dialog.show()
        shown.append(dialog.details.toPlainText())
        _FolderPicker.folder = str(tiny_dataset.dir)
        qtbot.mouseClick(dialog.choose_button, Qt.MouseButton.LeftButton)
        return dialog.result()

    monkeypatch.setattr(data_dialog, "QFileDialog", _FolderPicker)
    monkeypatch.setattr(DataDialog, "exec", choose_folder)

    with qtbot.waitSignal(controller.model_trained, timeout=RUN_TIMEOUT_MS) as blocker:
        assert controller.start(small_config(epochs=2), device="cpu", data_dir=str(empty))
    assert len(shown) == 1
    assert "Tiny data not found" in shown[0] and str(empty) in shown[0]
    assert len(blocker.args[0].history) == 2
    qtbot.waitUntil(lambda: not controller.is_running, timeout=RUN_TIMEOUT_MS)


def test_missing_data_failed_download_says_why(
    qtbot, controller, tiny_dataset, tmp_path, monkeypatch
):
    """The test mirror is offline: the download fails, the dialog says so, training never starts."""
    empty = tmp_path / "empty"
    empty.mkdir()
    seen: dict[str, str] = {}

    def try_download(dialog: DataDialog) -> int:
        dialog.show()
        assert dialog.download_button.isEnabled()
        qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not dialog.downloading, timeout=30_000)
        seen["heading"] = dialog.heading.text()
        seen["details"] = dialog.details.toPlainText()
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
        return dialog.result()

    monkeypatch.setattr(DataDialog, "exec", try_download)
    running = Recorder(controller.running_changed)
    assert controller.start(small_config(), device="cpu", data_dir=str(empty))
    qtbot.waitUntil(
        lambda: "did not start" in controller.panel.message_label.text(), timeout=30_000
    )

    assert "download failed" in seen["heading"]
    assert "nonexistent-latentlab-test-mirror" in seen["details"]
    assert [args[0] for args in running.calls] == [True, False]
    assert not controller.is_running
    assert not any(Path(empty).iterdir())  # no partial file left behind


class FedPanel:
    """A training panel shown on its own and fed synthetic events, 10 batches an epoch."""

    def __init__(self, qtbot, epochs: int) -> None:
        from latentlab.core.vae.events import Started
        from latentlab.gui.training_panel import TrainingPanel

        self.epochs = epochs
        self.panel = TrainingPanel()
        qtbot.addWidget(self.panel)
        self.panel.show()
        self.panel.reset(small_config(epochs=epochs), "Tiny", "cpu")
        started = Started(epochs=epochs, batches_per_epoch=10, train_size=500, device="cpu")
        self.panel.show_started(started)

    def batch(self, epoch: int, b: int, loss: float) -> None:
        from latentlab.core.vae.events import BatchProgress
        from latentlab.gui.training_worker import BatchReport

        progress = BatchProgress(epoch, self.epochs, b, 10, loss, 1.0)
        self.panel.show_batch(BatchReport(progress, loss))

    def epoch_end(self, epoch: int, loss: float) -> None:
        from latentlab.core.vae.events import EpochEnd, LossSummary

        summary = LossSummary(total=loss, recon=loss - 10, kl=10.0, classifier=0.2)
        samples = np.zeros((10, 28, 28), np.float32)
        self.panel.show_epoch(EpochEnd(epoch, self.epochs, summary, summary, 0.9, 1.0, samples))


def test_loss_axis_fits_the_epochs_not_the_first_batches(qtbot):
    """A first-batch loss far above the rest must not flatten the epoch curves into one line."""
    fed = FedPanel(qtbot, epochs=2)
    panel = fed.panel
    smoothed = 230.0 + 670.0 * np.exp(-np.arange(20) / 1.5)  # 900 nats at first, then ~230
    for step, loss in enumerate(smoothed):
        epoch, batch = divmod(step, 10)
        fed.batch(epoch + 1, batch + 1, float(loss))
        if batch == 9:
            fed.epoch_end(epoch + 1, 240.0 - 5 * epoch)
    qtbot.waitUntil(
        lambda: panel.vae_train_curve.xData is not None and len(panel.vae_train_curve.xData) == 2
    )
    low, high = panel.vae_plot.getViewBox().viewRange()[1]
    assert high < 500.0, "the first batches' loss should be off the top of the plot"
    assert low <= 230.0 and high > 240.0, "every epoch point stays inside the plot"


def test_a_batch_redraw_leaves_the_axes_and_the_epoch_points_alone(qtbot):
    """Each redraw runs on the GUI thread mid-exploration: a range change repaints every axis."""
    fed = FedPanel(qtbot, epochs=3)
    panel, batch, epoch_end = fed.panel, fed.batch, fed.epoch_end

    for b in range(1, 11):
        batch(1, b, 300.0 - 5 * b)
    epoch_end(1, 252.0)
    qtbot.waitUntil(
        lambda: panel.batch_curve.xData is not None and len(panel.batch_curve.xData) == 10
    )
    x_range, y_range = panel.vae_plot.getViewBox().viewRange()
    assert x_range[0] <= 0 and 3 <= x_range[1] < 3.2  # the run's epochs, fixed from the start
    epoch_points: list[int] = []
    for curve in (panel.vae_train_curve, panel.class_test_curve):
        set_data = curve.setData
        curve.setData = lambda *a, _set=set_data, **k: epoch_points.append(1) or _set(*a, **k)

    for b in range(1, 6):  # inside the shown range
        batch(2, b, 255.0 - b / 2)
    qtbot.waitUntil(lambda: len(panel.batch_curve.xData) == 15)
    assert panel.vae_plot.getViewBox().viewRange() == [x_range, y_range]
    assert epoch_points == []

    epoch_end(2, 246.0)
    qtbot.waitUntil(lambda: len(epoch_points) == 2)  # once an epoch, both plots
    batch(3, 1, y_range[1] + 50)  # the data leaves the range: the axis follows
    qtbot.waitUntil(lambda: panel.vae_plot.getViewBox().viewRange()[1][1] > y_range[1] + 50)


def test_the_sample_strip_takes_the_samples_size_whatever_it_is():
    from latentlab.gui.training_plots import sample_strip

    samples = np.random.default_rng(0).random((3, 5, 7)).astype(np.float32)
    strip = sample_strip(samples, columns=4)
    assert strip.shape == (5, 28)
    np.testing.assert_array_equal(strip[:, 7:14], samples[1])
    assert not strip[:, 21:].any()  # the missing fourth sample is blank
