"""Hostile files and faults in the window: a dialog names the file, the current model stays.

Every hostile model file of tests/hostile.py is opened with File > Open's code path while a good
model is shown; faults during work (saving onto a full disk, closing or cancelling mid-training,
a load while training runs or while another load is in flight) each have one defined outcome.
Long sessions run in subprocesses: 20,000 slider changes in the real window, and quitting the
real app in the middle of a training run. Waits are signals and conditions, never sleeps.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox

from latentlab.core.vae import checkpoint
from latentlab.core.vae.checkpoint import load_model, save_model
from latentlab.core.vae.config import Config
from latentlab.gui import main_window as main_window_module
from latentlab.gui.data_dialog import DataDialog
from latentlab.gui.main_window import MainWindow

from ..hostile import CASES, PWNED, Hostile, build
from .conftest import SMALL_CVAE, SMALL_VAE_2D, make_record

LOAD_MS = 10_000
RUN_MS = 60_000  # the first training run imports torch
REPO = Path(__file__).resolve().parents[2]


class Calls:
    """Records calls (a patched dialog function, or a signal's emissions)."""

    def __init__(self, signal=None) -> None:
        self.calls: list[tuple] = []
        if signal is not None:
            signal.connect(lambda *args: self.calls.append(args))

    def __call__(self, *args, **kwargs):
        self.calls.append(args)
        return QMessageBox.StandardButton.Ok


@pytest.fixture
def dialogs(monkeypatch) -> Calls:
    """QMessageBox.critical is recorded instead of blocking the test."""
    critical = Calls()
    monkeypatch.setattr(QMessageBox, "critical", critical)
    return critical


@pytest.fixture
def make_window(open_explorer_window):
    """The shared window, with the real test-data loader and (on request) the training dock."""

    def make(path: Path | None = None, *, training: bool = False) -> MainWindow:
        factory = main_window_module.default_training_factory if training else None
        return open_explorer_window(
            path, training_factory=factory, test_loader=main_window_module.load_test_data
        )

    return make


def train_config(**changes) -> Config:
    base = Config(
        encoder_hidden=(16,),
        decoder_hidden=(16,),
        classifier_hidden=(16,),
        activation="relu",
        latent_dim=2,
        batch_size=50,
        epochs=500,
        seed=1,
        dataset="tiny",
    )
    return base.replace(**changes)


# --- hostile model files ------------------------------------------------------------------------


def _assert_refused(qtbot, window: MainWindow, dialogs: Calls, path: Path, words: str) -> None:
    """Opening `path` shows one dialog naming it; the model shown before stays, untouched."""
    import re

    document, title, shown_path = window.document, window.windowTitle(), window.model_path
    z = window.state.z
    with qtbot.waitSignal(window.load_failed, timeout=LOAD_MS) as failed:
        window.open_model(path)
    message = failed.args[0]
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert re.search(words, message), message
    assert len(dialogs.calls) == 1
    parent, heading, text = dialogs.calls[0]
    assert parent is window and heading == "Could not open the model" and text == message
    assert window.document is document and (window.state.z == z).all()
    assert window.windowTitle() == title and window.model_path == shown_path
    assert window.stack.currentIndex() == 1  # still the explorer, not the "no model" page
    assert not window.loader.is_busy and not window.busy_bar.isVisible()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_hostile_file_is_refused_and_the_current_model_stays(
    qtbot, make_window, cvae_file, dialogs, tmp_path, monkeypatch, case: Hostile
):
    monkeypatch.chdir(tmp_path)  # where an executed pickle payload would leave its mark
    window = make_window(cvae_file)
    path = build(case, tmp_path)
    _assert_refused(qtbot, window, dialogs, path, case.words)
    assert not (tmp_path / PWNED).exists(), "the pickle payload ran"


def test_an_unreadable_file_is_refused(qtbot, make_window, cvae_file, dialogs, tmp_path):
    """No read permission; as root (who reads anything) the denial is simulated for this file."""
    window = make_window(cvae_file)
    path = save_model(make_record(seed=5), tmp_path / "locked.safetensors")
    path.chmod(0)
    real = os.open

    def denied(file, flags, *args, **kwargs):
        if os.fspath(file) == str(path):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(file, flags, *args, **kwargs)

    try:
        with pytest.MonkeyPatch.context() as patch:
            if os.access(path, os.R_OK):
                patch.setattr(os, "open", denied)
            _assert_refused(qtbot, window, dialogs, path, "permission denied")
    finally:
        path.chmod(0o644)


def test_a_good_model_at_a_non_ascii_path_opens(qtbot, make_window, cvae_file, tmp_path):
    window = make_window(cvae_file)
    folder = tmp_path / "données-数字"
    folder.mkdir()
    path = save_model(make_record(SMALL_VAE_2D, seed=6), folder / "modèle ✓.safetensors")
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.open_model(path)
    assert window.model_path == path.resolve() and window.state.latent_dim == 2
    assert "modèle ✓.safetensors" in window.windowTitle()


# --- loads in flight ----------------------------------------------------------------------------


def test_a_stale_failure_is_not_shown_when_a_newer_load_succeeds(
    qtbot, make_window, cvae_file, vae2d_file, dialogs, tmp_path
):
    window = make_window(cvae_file)
    bad = build(CASES[0], tmp_path)
    loaded, failed = Calls(window.model_loaded), Calls(window.load_failed)
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.open_model(bad)
        window.open_model(vae2d_file)  # while the first is still in flight
    QCoreApplication.processEvents()
    assert len(loaded.calls) == 1 and failed.calls == [] and dialogs.calls == []
    assert window.model_path == Path(vae2d_file).resolve()


def test_a_newer_broken_file_wins_over_an_older_good_one(
    qtbot, make_window, cvae_file, vae2d_file, dialogs, tmp_path
):
    window = make_window(cvae_file)
    document = window.document
    bad = build(CASES[2], tmp_path)
    loaded = Calls(window.model_loaded)
    with qtbot.waitSignal(window.load_failed, timeout=LOAD_MS):
        window.open_model(vae2d_file)
        window.open_model(bad)
    QCoreApplication.processEvents()
    assert loaded.calls == [] and len(dialogs.calls) == 1
    assert window.document is document  # the older request was dropped, not shown late


def test_a_trained_model_arriving_during_a_file_load_wins(qtbot, make_window, cvae_file):
    """Both go through the one loader: the newest request (the trained model) is shown."""
    window = make_window()
    record = make_record(SMALL_CVAE.replace(latent_dim=3), seed=8)
    loaded = Calls(window.model_loaded)
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.open_model(cvae_file)
        window.adopt_record(record)
    QCoreApplication.processEvents()
    assert len(loaded.calls) == 1 and window.document.payload is record
    assert window.is_unsaved


# --- saving onto a full disk --------------------------------------------------------------------


def test_out_of_disk_on_save_says_so_and_keeps_everything(
    qtbot, make_window, dialogs, tmp_path, monkeypatch
):
    window = make_window()
    record = make_record(seed=3)
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.adopt_record(record)
    target = tmp_path / "mine.safetensors"
    previous = save_model(make_record(seed=4), target).read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    monkeypatch.setattr(checkpoint.os, "fsync", full)
    window.save_action.trigger()

    assert len(dialogs.calls) == 1
    _, heading, text = dialogs.calls[0]
    assert heading == "Could not save the model" and str(target) in text
    assert "No space left on device" in text
    assert window.document.payload is record and window.is_unsaved  # nothing lost: save again
    assert window.isWindowModified() and window.save_action.isEnabled()
    assert target.read_bytes() == previous
    assert [p.name for p in tmp_path.iterdir()] == ["mine.safetensors"]
    monkeypatch.undo()  # the disk has room again: the same model saves
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.save_action.trigger()
    assert load_model(target).config == record.config and not window.is_unsaved


# --- faults during training ---------------------------------------------------------------------


def _start(window: MainWindow, tiny_dataset, **changes):
    controller = window.training
    assert controller.start(train_config(**changes), device="cpu", data_dir=str(tiny_dataset.dir))
    return controller, controller.thread


@pytest.mark.parametrize("when", ["while loading the data", "after the first epoch"])
def test_closing_the_window_during_training_stops_and_joins(
    qtbot, make_window, cvae_file, tiny_dataset, when
):
    # torch imported beforehand: an import in the worker cannot be interrupted, and closing
    # during it waits for it (seconds on a busy machine); that wait is not what this tests.
    pytest.importorskip("torch")
    window = make_window(cvae_file, training=True)
    trained = Calls(window.training.model_trained)
    controller, thread = _start(window, tiny_dataset)
    if when == "after the first epoch":
        qtbot.waitUntil(lambda: controller.panel.sample_rows >= 1, timeout=RUN_MS)
    assert thread.isRunning()

    assert window.close()  # the model shown is a saved file: nothing to ask

    assert thread.isFinished() and not controller.is_running
    assert window.loader.shutdown(0)  # its threads were joined by the close
    for _ in range(5):  # late queued events of the run must be ignored
        QCoreApplication.processEvents()
    assert trained.calls == [] and not window.isVisible()


@pytest.mark.parametrize("when", ["at once", "after the first batches", "after the first epoch"])
def test_cancel_at_any_point_ends_the_run_and_keeps_the_model(
    qtbot, make_window, cvae_file, tiny_dataset, when
):
    window = make_window(cvae_file, training=True)
    document = window.document
    controller, thread = _start(window, tiny_dataset)
    if when == "after the first batches":
        qtbot.waitUntil(lambda: controller.panel.progress_bar.value() > 0, timeout=RUN_MS)
    elif when == "after the first epoch":
        qtbot.waitUntil(lambda: controller.panel.sample_rows >= 1, timeout=RUN_MS)
    controller.cancel()
    qtbot.waitUntil(lambda: not controller.is_running, timeout=RUN_MS)

    assert thread.isFinished()
    status = controller.panel.status_label.text()
    assert status.startswith("Cancelled"), status
    if when == "after the first epoch":
        assert controller.panel.use_button.isVisible()  # the last good epoch is kept
    assert window.document is document  # a cancelled run never replaces the model by itself


def test_a_nan_loss_keeps_the_app_and_the_model(qtbot, make_window, cvae_file, tiny_dataset):
    """A learning rate of 1e3: the loss turns NaN, the run stops, the dialog says why."""
    window = make_window(cvae_file, training=True)
    document = window.document
    controller, thread = _start(window, tiny_dataset, optimizer="sgd", learning_rate=1e3)
    qtbot.waitUntil(lambda: not controller.is_running, timeout=RUN_MS)
    assert thread.isFinished()
    box = controller.message_box
    assert box is not None and box.isVisible() and "NaN" in box.text()
    assert controller.panel.status_label.text() == "Training failed"
    assert window.document is document and not window.is_unsaved
    window.sliders.slider(0).setValue(150)  # still explorable
    assert window.state.z[0] == pytest.approx(1.5)


def test_opening_a_model_while_training_runs(
    qtbot, make_window, cvae_file, vae2d_file, tiny_dataset
):
    """Defined behaviour: the file opens at once, the run goes on; only the user adopts it."""
    window = make_window(cvae_file, training=True)
    controller, thread = _start(window, tiny_dataset)
    qtbot.waitUntil(lambda: controller.panel.progress_bar.value() > 0, timeout=RUN_MS)
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.open_model(vae2d_file)
    assert window.model_path == Path(vae2d_file).resolve()
    assert controller.is_running and controller.thread is thread  # the run was not disturbed

    qtbot.waitUntil(lambda: controller.panel.sample_rows >= 1, timeout=RUN_MS)
    controller.cancel()
    qtbot.waitUntil(lambda: not controller.is_running, timeout=RUN_MS)
    assert window.model_path == Path(vae2d_file).resolve()  # still the file the user opened

    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        controller.panel.use_button.click()  # the user takes the last finished epoch
    assert window.is_unsaved and window.document.payload.config.dataset == "tiny"


def test_broken_data_when_training_starts_is_named_and_nothing_runs(
    qtbot, make_window, cvae_file, tiny_dataset, tmp_path, monkeypatch
):
    """A cut download among the data files: the data dialog and the panel name it."""
    folder = tiny_dataset.copy_to(tmp_path / "data")
    bad = folder / tiny_dataset.path("train_images").name
    bad.write_bytes(bad.read_bytes()[:-100])
    seen: list[str] = []

    def look_and_cancel(dialog: DataDialog) -> int:
        seen.append(dialog.details.toPlainText())
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(DataDialog, "exec", look_and_cancel)
    window = make_window(cvae_file, training=True)
    document = window.document
    controller = window.training
    assert controller.start(train_config(), device="cpu", data_dir=str(folder))
    qtbot.waitUntil(lambda: not controller.is_running, timeout=RUN_MS)
    qtbot.waitUntil(lambda: bool(seen), timeout=RUN_MS)
    assert seen[0].startswith(f"{bad}: gzip data is truncated")
    message = controller.panel.message_label.text()
    assert message.startswith(f"{bad}: gzip data is truncated") and "did not start" in message
    assert window.document is document


def test_a_second_training_while_one_runs_is_refused(qtbot, make_window, tiny_dataset):
    window = make_window(training=True)
    controller, thread = _start(window, tiny_dataset)
    assert controller.start(train_config(), device="cpu", data_dir=str(tiny_dataset.dir)) is False
    window.train_action.trigger()  # the menu is refused the same way
    assert controller.dialog is None and controller.thread is thread
    assert "one training run at a time" in controller.message_box.text()
    controller.cancel()
    qtbot.waitUntil(lambda: not controller.is_running, timeout=RUN_MS)


# --- long sessions, in subprocesses -------------------------------------------------------------

SLIDER_CHANGES = 20_000

SLIDER_SCRIPT = textwrap.dedent(
    """
    import sys
    from PySide6.QtWidgets import QApplication
    from latentlab.gui.app import configure
    from latentlab.gui.main_window import MainWindow

    app = QApplication([])
    configure(app)
    window = MainWindow()
    app.aboutToQuit.connect(window.shutdown)
    window.show()
    loaded = []
    window.model_loaded.connect(loaded.append)
    window.open_model(sys.argv[1])
    while not loaded:
        app.processEvents()
    changes = []
    window.state.events.z.connect(lambda z: changes.append(1))
    images = []
    real_set_image = window.image_view.set_image
    def counting_set_image(*args, **kwargs):
        images.append(1)
        return real_set_image(*args, **kwargs)
    window.image_view.set_image = counting_set_image
    count, dims = int(sys.argv[2]), window.sliders.count()
    before = sys.getrefcount(True)
    for i in range(count):
        slider = window.sliders.slider(i % dims)
        value = (i * 37) % 701 - 350  # ticks of 0.01 over the slider's whole range
        if slider.value() == value:
            value = value + 1 if value < 350 else value - 1
        slider.setValue(value)
        if i % 200 == 0:
            app.processEvents()
    app.processEvents()
    after = sys.getrefcount(True)
    print("CHANGES", len(changes), "IMAGES", len(images), "TRUE", before, after, flush=True)
    window.close()
    app.quit()
    sys.exit(0)
    """
)


@pytest.mark.slow
def test_twenty_thousand_slider_changes_in_the_real_window(cvae_file):
    """Catches toolkit bugs such as PySide6 6.12.0's emit reference leak (abort after ~10k)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, "-c", SLIDER_SCRIPT, str(cvae_file), str(SLIDER_CHANGES)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Fatal Python error" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("CHANGES"))
    fields = line.split()
    changes, images = int(fields[1]), int(fields[3])
    before, after = int(fields[5]), int(fields[6])
    assert changes == SLIDER_CHANGES  # every change reached the window...
    assert images >= SLIDER_CHANGES  # ...and each one drew the image
    assert after >= before - 100, f"refcount of True fell from {before} to {after}"


QUIT_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from latentlab.core.data import datasets as d
    from latentlab.core.vae.config import Config
    from latentlab.gui import app as app_module, main_window

    files = json.loads(sys.argv[2])
    d.register_dataset(d.DatasetSpec(name="tiny", title="Tiny", class_names=tuple("0123456789"),
        files={r: d.FileSpec(*v) for r, v in files.items()}))
    config = Config(encoder_hidden=(16,), decoder_hidden=(16,), classifier_hidden=(16,),
                    activation="relu", latent_dim=2, batch_size=50, epochs=500, dataset="tiny")

    def poll():
        for w in QApplication.topLevelWidgets():
            if isinstance(w, main_window.MainWindow) and w.state.loaded:
                ctrl = w.training
                if not ctrl.is_running and ctrl.panel.sample_rows == 0:
                    ctrl.start(config, device="cpu", data_dir=sys.argv[3])
                elif ctrl.panel.sample_rows >= 1:  # mid-run: quit the app
                    print("QUITTING", flush=True)
                    state["thread"] = ctrl.thread
                    w.close()
                    QApplication.quit()
                    return
        QTimer.singleShot(20, poll)

    state = {}
    main_window.default_model_path = lambda: __import__("pathlib").Path(sys.argv[1])
    QTimer.singleShot(0, poll)
    code = app_module.run()
    print("EXIT", code, "TRAINING THREAD FINISHED", state["thread"].isFinished(), flush=True)
    sys.exit(code)
    """
)


@pytest.mark.slow
def test_quitting_the_app_mid_training_exits_cleanly(cvae_file, tiny_dataset):
    files = {role: [f.filename, f.sha256] for role, f in tiny_dataset.spec.files.items()}
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            QUIT_SCRIPT,
            str(cvae_file),
            json.dumps(files),
            str(tiny_dataset.dir),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,  # a hang at exit fails here
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "QUITTING" in proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert proc.stdout.splitlines()[-1] == "EXIT 0 TRAINING THREAD FINISHED True", proc.stdout
