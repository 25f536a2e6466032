"""Model > Model info…: what a model file holds, as a tree (facts, config, metrics) and a table
(the training history, one row per epoch), so nobody has to read JSON to compare two models.
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
                QTreeWidgetItem(group, [key, format_value(value)])
