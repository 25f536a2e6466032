"""Model ▸ Train new model…: pick a preset, adjust the few settings worth adjusting, start.

The dialog builds a ``Config`` from the chosen preset with the edited fields replaced; the core
validates it, and a ``ConfigError`` is shown inside the dialog, which stays open. The last
accepted settings are remembered (QSettings) and offered the next time.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

from PySide6.QtCore import QSettings, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.data import datasets
from latentlab.core.text import first_line
from latentlab.core.vae.config import (
    DEFAULT_PRESET,
    LIKELIHOODS,
    OPTIMIZERS,
    PRESETS,
    Config,
    ConfigError,
)

DEVICES = ("auto", "cpu", "cuda", "mps")
SETTINGS_KEY = "training/last"


def parse_learning_rate(text: str) -> float:
    """A positive float written any usual way (0.001, 1e-3); ConfigError otherwise."""
    try:
        value = float(text.strip())
    except ValueError:
        raise ConfigError(f"learning rate {text.strip()!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"learning rate must be a positive number, got {text.strip()!r}")
    return value


class TrainDialog(QDialog):
    """After ``accept``: ``config()``, ``device()`` and ``data_dir()`` hold the choice."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train new model")
        self.setModal(True)
        self._config: Config | None = None

        self.preset_combo = QComboBox()
        self.preset_combo.setToolTip("A starting design; every field below can still be changed")
        for name in PRESETS:
            self.preset_combo.addItem(name, name)
        self.preset_description = QLabel()
        self.preset_description.setWordWrap(True)
        self.preset_description.setObjectName("presetDescription")
        self.preset_description.setMinimumWidth(360)

        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 1000)
        self.epochs_spin.setToolTip("Passes over the whole training set")
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, 65536)
        self.batch_spin.setToolTip("Images per optimiser step")
        self.lr_edit = QLineEdit()
        self.lr_edit.setToolTip("Learning rate, e.g. 0.001 or 1e-3")
        self.latent_spin = QSpinBox()
        self.latent_spin.setRange(1, 512)
        self.latent_spin.setToolTip("Free latent dimensions: the sliders of the explorer")
        self.likelihood_combo = QComboBox()
        self.likelihood_combo.addItems(LIKELIHOODS)
        self.likelihood_combo.setToolTip("How the decoder scores pixels: Bernoulli or Gaussian")
        self.kl_spin = QDoubleSpinBox()
        self.kl_spin.setRange(0.0, 1000.0)
        self.kl_spin.setDecimals(3)
        self.kl_spin.setSingleStep(0.5)
        self.kl_spin.setToolTip("β: weight of the KL term (1 = the plain ELBO)")
        self.optimizer_combo = QComboBox()
        self.optimizer_combo.addItems(OPTIMIZERS)
        self.optimizer_combo.setToolTip("The optimiser that updates the weights")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("Seed for the initial weights and the batch order")
        self.dataset_combo = QComboBox()
        for name, spec in datasets.DATASETS.items():
            self.dataset_combo.addItem(spec.title, name)
        self.dataset_combo.setToolTip("The images to learn: handwritten digits or clothes")
        self.device_combo = QComboBox()
        self.device_combo.addItems(DEVICES)
        self.device_combo.setToolTip("auto: a CUDA or Apple GPU if there is one, else the CPU")
        self.data_dir_edit = QLineEdit()
        self.data_dir_edit.setPlaceholderText("search the usual folders")
        self.data_dir_edit.setToolTip("Folder holding the dataset's IDX files (optional)")
        self.browse_button = QPushButton("Browse…")
        self.browse_button.setToolTip("Choose the folder holding the dataset's IDX files")
        self.browse_button.clicked.connect(self._on_browse)
        data_row = QHBoxLayout()
        data_row.setContentsMargins(0, 0, 0, 0)
        data_row.addWidget(self.data_dir_edit, 1)
        data_row.addWidget(self.browse_button)

        self.follow_check = QCheckBox("Follow training live")
        self.follow_check.setChecked(True)
        self.follow_check.setToolTip(
            "Open the Live training view (Ctrl+Shift+V): the latent space forming as it trains"
        )

        self.error_label = QLabel()
        self.error_label.setObjectName("dialogError")
        self.error_label.setStyleSheet("color: #d62728;")
        self.error_label.setWordWrap(True)
        self.error_label.setVisible(False)

        form = QFormLayout()
        form.addRow("Preset", self.preset_combo)
        form.addRow("", self.preset_description)
        form.addRow("Epochs", self.epochs_spin)
        form.addRow("Batch size", self.batch_spin)
        form.addRow("Learning rate", self.lr_edit)
        form.addRow("Optimizer", self.optimizer_combo)
        form.addRow("Latent size", self.latent_spin)
        form.addRow("Likelihood", self.likelihood_combo)
        form.addRow("KL weight (β)", self.kl_spin)
        form.addRow("Seed", self.seed_spin)
        form.addRow("Dataset", self.dataset_combo)
        form.addRow("Device", self.device_combo)
        form.addRow("Data folder", data_row)
        form.addRow("", self.follow_check)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.start_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.start_button.setText("Start training")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

        self.preset_combo.currentIndexChanged.connect(self._on_preset_changed)
        self._restore()

    # --- values -------------------------------------------------------------------------------
    def set_preset(self, name: str) -> None:
        """Choose a preset and fill every field from its config."""
        index = self.preset_combo.findData(name)
        if index < 0:
            raise ConfigError(f"unknown preset {name!r}")
        if index == self.preset_combo.currentIndex():
            self._on_preset_changed(index)
        else:
            self.preset_combo.setCurrentIndex(index)

    def set_fields(self, config: Config) -> None:
        """Show ``config``'s editable fields."""
        self.epochs_spin.setValue(config.epochs)
        self.batch_spin.setValue(config.batch_size)
        self.lr_edit.setText(f"{config.learning_rate:g}")
        self.latent_spin.setValue(config.latent_dim)
        self.likelihood_combo.setCurrentText(config.likelihood)
        self.kl_spin.setValue(config.kl_weight)
        self.optimizer_combo.setCurrentText(config.optimizer)
        self.seed_spin.setValue(config.seed)
        index = self.dataset_combo.findData(config.dataset)
        if index >= 0:
            self.dataset_combo.setCurrentIndex(index)

    def build_config(self) -> Config:
        """The preset's config with the edited fields; raises ConfigError when invalid."""
        preset = PRESETS[self.preset_combo.currentData()]
        name = self.dataset_combo.currentData()
        try:
            spec = datasets.get_spec(name)
        except datasets.DataError as exc:  # pragma: no cover - the combo lists registered names
            raise ConfigError(first_line(exc)) from None
        return preset.config.replace(
            epochs=self.epochs_spin.value(),
            batch_size=self.batch_spin.value(),
            learning_rate=parse_learning_rate(self.lr_edit.text()),
            optimizer=self.optimizer_combo.currentText(),
            latent_dim=self.latent_spin.value(),
            likelihood=self.likelihood_combo.currentText(),
            kl_weight=self.kl_spin.value(),
            seed=self.seed_spin.value(),
            dataset=spec.name,
            num_classes=spec.num_classes,
        )

    def config(self) -> Config | None:
        """The accepted config (None until the dialog was accepted)."""
        return self._config

    def device(self) -> str:
        return self.device_combo.currentText()

    def follow_live(self) -> bool:
        """Whether the live training view should open and follow the run."""
        return self.follow_check.isChecked()

    def data_dir(self) -> str | None:
        text = self.data_dir_edit.text().strip()
        return text or None

    def error(self) -> str:
        """The validation message shown in the dialog ("" when none)."""
        return self.error_label.text() if self.error_label.isVisibleTo(self) else ""

    # --- accept / remember ------------------------------------------------------------------------
    def accept(self) -> None:
        """Validate first: on a bad value say why, keep the dialog open."""
        try:
            config = self.build_config()
        except ConfigError as exc:
            self.error_label.setText(first_line(exc))
            self.error_label.setVisible(True)
            return
        self._config = config
        self._remember(config)
        super().accept()

    def _remember(self, config: Config) -> None:
        settings = QSettings()
        settings.setValue(f"{SETTINGS_KEY}/preset", self.preset_combo.currentData())
        settings.setValue(f"{SETTINGS_KEY}/config", config.to_json())
        settings.setValue(f"{SETTINGS_KEY}/device", self.device())
        settings.setValue(f"{SETTINGS_KEY}/data_dir", self.data_dir() or "")
        settings.setValue(f"{SETTINGS_KEY}/follow_live", self.follow_live())

    def _restore(self) -> None:
        settings = QSettings()
        preset = str(settings.value(f"{SETTINGS_KEY}/preset", DEFAULT_PRESET))
        if self.preset_combo.findData(preset) < 0:
            preset = DEFAULT_PRESET
        self.set_preset(preset)
        saved = settings.value(f"{SETTINGS_KEY}/config", "")
        if saved:
            # settings from an older version: the preset's values stand
            with contextlib.suppress(ConfigError):
                self.set_fields(Config.from_json(str(saved)))
        device = str(settings.value(f"{SETTINGS_KEY}/device", "auto"))
        if device in DEVICES:
            self.device_combo.setCurrentText(device)
        self.data_dir_edit.setText(str(settings.value(f"{SETTINGS_KEY}/data_dir", "")))
        follow = settings.value(f"{SETTINGS_KEY}/follow_live", True)
        self.follow_check.setChecked(str(follow).lower() not in ("false", "0"))

    # --- slots ------------------------------------------------------------------------------------
    @Slot(int)
    def _on_preset_changed(self, index: int) -> None:
        preset = PRESETS[self.preset_combo.itemData(index)]
        self.preset_description.setText(preset.description)
        self.set_fields(preset.config)
        self.error_label.setVisible(False)

    @Slot()
    def _on_browse(self) -> None:
        start = self.data_dir() or str(Path.home())
        folder = QFileDialog.getExistingDirectory(
            self, "Folder holding the dataset's IDX files", start
        )
        if folder:
            self.data_dir_edit.setText(folder)
