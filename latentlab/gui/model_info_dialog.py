"""Model > Model info…: what a model file holds, as a tree (facts, config, metrics) and a table
(the training history, one row per epoch), so nobody has to read JSON to compare two models.

A model latentlab did not train (an imported ONNX file, a live PyTorch object) has no record to
show: `FactsDialog` shows the facts every model has (`core.model_files.describe`) and whatever
its payload adds through an optional `info_rows()`; `info_dialog` picks the one that fits.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.explore.document import Document
from latentlab.core.model_files import describe
from latentlab.core.vae.record import ModelRecord

HISTORY_COLUMNS = (
    "Epoch",
    "Train loss",
    "Test loss",
    "Test recon",
    "Test KL",
    "Test accuracy",
    "Time (s)",
)


def format_value(value: Any) -> str:
    """Numbers rounded for reading; lists joined; everything else as text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e-3 or abs(value) >= 1e5 else f"{value:.4f}"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v) for v in value) or "(none)"
    return str(value)


def _loss(summary: Any) -> float | None:
    """recon + kl of one history entry's summary (the VAE loss in nats/image)."""
    if not isinstance(summary, dict):
        return None
    recon, kl = summary.get("recon"), summary.get("kl")
    if isinstance(recon, int | float) and isinstance(kl, int | float):
        return float(recon) + float(kl)
    return None


def history_rows(history: list[dict[str, Any]]) -> list[list[str]]:
    """One row of text per epoch, in HISTORY_COLUMNS order ("" where a value is missing)."""
    rows = []
    for entry in history:
        test = entry.get("test") if isinstance(entry.get("test"), dict) else {}
        values = [
            entry.get("epoch"),
            _loss(entry.get("train")),
            _loss(test),
            test.get("recon"),
            test.get("kl"),
            entry.get("test_accuracy"),
            entry.get("elapsed_s"),
        ]
        rows.append(["" if v is None else format_value(v) for v in values])
    return rows


class ModelInfoDialog(QDialog):
    """A read-only view of one ModelRecord."""

    def __init__(self, record: ModelRecord, source: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Model info — {source}")
        self.resize(640, 520)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Property", "Value"])
        self.tree.setAlternatingRowColors(True)
        self._fill_tree(record, source)
        self.tree.expandAll()
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)

        rows = history_rows(record.history)
        self.table = QTableWidget(len(rows), len(HISTORY_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(HISTORY_COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()

        tabs = QTabWidget()
        tabs.addTab(self.tree, "Model")
        tabs.addTab(self.table, f"Training history ({len(rows)} epochs)")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(buttons)

    def _fill_tree(self, record: ModelRecord, source: str) -> None:
        cfg = record.config
        kind = "conditional VAE" if cfg.conditional else "plain VAE"
        encoding = record.test_encoding
        facts = {
            "File": source,
            "Kind": f"{kind}, {cfg.latent_dim} free latent dimensions",
            "Dataset": cfg.dataset,
            "Classes": list(record.class_names),
            "Created": record.created,
            "Format version": record.format_version,
            "Encoded test points": len(encoding) if encoding is not None else 0,
        }
        for key, value in facts.items():
            QTreeWidgetItem(self.tree, [key, format_value(value)])
        for title, values in (("Metrics", record.metrics), ("Config", cfg.to_dict())):
            group = QTreeWidgetItem(self.tree, [title, ""])
            for key, value in values.items():
                item = QTreeWidgetItem(group, [readable_key(key), format_value(value)])
                item.setToolTip(0, key)  # the stored name, as `latentlab info --json` writes it


# The model file's config and metrics keys, as a person reads them (the tooltip keeps the key).
KEY_NAMES = {
    "conditional": "Class input (conditional)",
    "input_dim": "Input pixels",
    "num_classes": "Classes",
    "encoder_hidden": "Encoder hidden layers",
    "decoder_hidden": "Decoder hidden layers",
    "classifier_hidden": "Classifier hidden layers",
    "activation": "Activation",
    "latent_dim": "Latent dimensions",
    "likelihood": "Likelihood",
    "decoder_std": "Decoder standard deviation",
    "classification_weight": "Classification weight",
    "kl_weight": "KL weight (beta)",
    "classifier_stop_gradient": "Classifier stop-gradient",
    "decoder_condition": "Decoder reads in training",
    "encoder_condition": "Encoder reads beside the image",
    "density_temperature": "Class-mixture sampling temperature",
    "optimizer": "Optimizer",
    "learning_rate": "Learning rate",
    "lr_schedule": "Learning-rate schedule",
    "batch_size": "Batch size",
    "epochs": "Epochs",
    "seed": "Seed",
    "dataset": "Dataset",
    "test_loss": "Test loss (nats / image)",
    "test_recon": "Test reconstruction (nats)",
    "test_kl": "Test KL (nats)",
    "test_objective": "Test training objective",
    "epochs_trained": "Epochs trained",
    "train_time_s": "Training time (s)",
    "device": "Trained on",
    "train_size": "Training images",
    "test_accuracy": "Test accuracy",
    "test_classifier_ce": "Test classifier cross-entropy",
}
WORDS = {"kl": "KL", "lr": "learning rate", "ce": "cross-entropy", "s": "(s)", "dim": "dimensions"}


def readable_key(key: str) -> str:
    """A stored key as words: "kl_weight" -> "KL weight (beta)"; unknown keys get their
    underscores turned to spaces and a capital ("iwae_nll" -> "Iwae nll")."""
    if key in KEY_NAMES:
        return KEY_NAMES[key]
    words = [WORDS.get(word, word) for word in key.split("_") if word]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else key


FACT_NAMES = {
    "file": "File",
    "source": "Kind",
    "latent_dim": "Latent dimensions",
    "image_shape": "Image size (H, W, C)",
    "class_names": "Classes",
    "conditional": "Class input (conditional)",
    "can_encode": "Encoder",
    "can_classify": "Classifier",
    "points": "Encoded images",
}
SOURCE_NAMES = {"native": "latentlab model", "onnx": "imported ONNX model", "live": "live model"}


def fact_rows(document: Document) -> list[tuple[str, str]]:
    """The facts every model has, then the payload's own (`info_rows()`), as text pairs."""
    facts = describe(document)
    rows = []
    for key, value in facts.items():
        if key == "source":
            value = SOURCE_NAMES.get(value, value)
        elif key == "image_shape":
            value = " x ".join(str(v) for v in value)
        elif value is None:
            value = "(none)" if key == "class_names" else "(not saved)"
        rows.append((FACT_NAMES.get(key, key), format_value(value)))
    extra = getattr(document.payload, "info_rows", None)
    if callable(extra):
        try:
            rows.extend((str(k), str(v)) for k, v in extra())
        except Exception as exc:  # the payload is another kind's object: say, never crash
            rows.append(("Details", f"not available ({exc})"))
    return rows


class FactsDialog(QDialog):
    """A read-only table of what any model is (for models without a latentlab record)."""

    def __init__(self, document: Document, source: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Model info — {source}")
        self.resize(560, 420)
        rows = fact_rows(document)
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Property", "Value"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        for r, (key, value) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(key))
            self.table.setItem(r, 1, QTableWidgetItem(value))
        self.table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)

    def rows(self) -> list[tuple[str, str]]:
        """The table's text, row by row (for tests)."""
        return [
            (self.table.item(r, 0).text(), self.table.item(r, 1).text())
            for r in range(self.table.rowCount())
        ]


def info_dialog(document: Document, source: str, parent: QWidget | None = None) -> QDialog:
    """Model > Info for any document: the record's full view, else the facts every model has."""
    if isinstance(document.payload, ModelRecord):
        return ModelInfoDialog(document.payload, source, parent)
    return FactsDialog(document, source, parent)
