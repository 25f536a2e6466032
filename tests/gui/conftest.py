"""GUI tests run offscreen, with QSettings kept in a per-test folder (never the user's real ones)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QMessageBox

from latentlab.core.vae.checkpoint import save_model
from latentlab.core.vae.config import Config
from latentlab.core.vae.layout import parameter_shapes
from latentlab.core.vae.record import ModelRecord, TestEncoding


@pytest.fixture(autouse=True)
def _isolated_qsettings(tmp_path_factory: pytest.TempPathFactory):
    """Every test starts from empty settings stored in its own temporary folder."""
    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder


# --- small model files for the explorer window's tests ----------------------------------------

SMALL_CVAE = Config(
    encoder_hidden=(16,),
    decoder_hidden=(16,),
    classifier_hidden=(16,),
    activation="relu",
    latent_dim=4,
    epochs=2,
)
SMALL_VAE_2D = SMALL_CVAE.replace(conditional=False, latent_dim=2, classifier_hidden=())


def make_record(config: Config = SMALL_CVAE, n_test: int = 300, seed: int = 0) -> ModelRecord:
    """A valid model with random weights and a random encoded test set (every class present)."""
    rng = np.random.default_rng(seed)
    weights = {
        name: (rng.standard_normal(shape) * 0.5).astype(np.float32)
        for name, shape in parameter_shapes(config).items()
    }
    c = config.num_classes
    labels = (np.arange(n_test) % c).astype(np.uint8)
    probs = None
    if config.conditional:
        logits = rng.standard_normal((n_test, c)) + 3 * np.eye(c)[labels]
        probs = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
    encoding = TestEncoding(
        mu=rng.standard_normal((n_test, config.latent_dim)).astype(np.float32),
        logvar=np.full((n_test, config.latent_dim), -1.0, np.float32),
        labels=labels,
        probs=probs,
    )
    history = [
        {
            "epoch": e,
            "train": {"total": 200.0 / e, "recon": 150.0 / e, "kl": 10.0, "classifier": 0.1},
            "test": {"total": 210.0 / e, "recon": 160.0 / e, "kl": 11.0, "classifier": 0.1},
            "test_accuracy": 0.5 + 0.1 * e,
            "elapsed_s": 1.5 * e,
        }
        for e in range(1, config.epochs + 1)
    ]
    return ModelRecord(
        config=config,
        weights=weights,
        history=history,
        metrics={"test_loss": 170.0, "test_accuracy": 0.7},
        test_encoding=encoding,
    )


@pytest.fixture(autouse=True)
def _app_names(qapp):
    """Name the app as app.run does, so QSettings() resolves the same way as in the real app."""
    QCoreApplication.setOrganizationName("latentlab")
    QCoreApplication.setApplicationName("latentlab")


@pytest.fixture
def cvae_file(tmp_path):
    return save_model(make_record(SMALL_CVAE, seed=1), tmp_path / "small-cvae.safetensors")


@pytest.fixture
def vae2d_file(tmp_path):
    return save_model(make_record(SMALL_VAE_2D, seed=2), tmp_path / "small-vae-2d.safetensors")


# --- the explorer window, shared by the window tests -------------------------------------------

LOAD_MS = 10_000  # a small model loads in well under a second; a slow CI machine gets slack


def no_test_data(dataset: str):
    """The windows' test loader: the data set's images are never installed for the tests."""
    raise FileNotFoundError(f"no {dataset} test data in the test environment")


@pytest.fixture
def open_explorer_window(qtbot):
    """Open explorer windows: ``open_explorer_window(path=None, **MainWindow keywords)``.

    Each window has no training dock, the no-data test loader and a Discard answer to "save the
    unsaved model?" unless a keyword says otherwise; it is returned shown, active and (with a
    `path`) with that model loaded, and is shut down (threads joined) after the test.
    """
    windows = []

    def open_window(path=None, **kwargs):
        from latentlab.gui.main_window import MainWindow  # Qt widgets: after the QApplication

        kwargs.setdefault("training_factory", None)
        kwargs.setdefault("test_loader", no_test_data)
        kwargs.setdefault("ask_unsaved", lambda allow_cancel: QMessageBox.StandardButton.Discard)
        window = MainWindow(**kwargs)
        windows.append(window)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()  # activation is asynchronous: keys reach shortcuts only after it
        qtbot.waitUntil(window.isActiveWindow)
        if path is not None:
            with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
                window.open_model(path)
        return window

    yield open_window
    for window in windows:
        window.shutdown()


@pytest.fixture
def explorer_window(open_explorer_window, cvae_file):
    """The explorer window with the small CVAE loaded (see `open_explorer_window`)."""
    return open_explorer_window(cvae_file)


@pytest.fixture
def unthrottled_mouse():
    """pyqtgraph drops mouse moves closer than 10 ms apart; synthetic moves come faster."""
    import pyqtgraph as pg

    previous = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOptions(mouseRateLimit=-1)
    yield
    pg.setConfigOptions(mouseRateLimit=previous)
