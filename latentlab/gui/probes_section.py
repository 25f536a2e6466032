"""The report's "Probes and disentanglement" section: what z holds of each label and attribute.

`probe_job` runs in the report's worker after the figures (`core.explore.probe_report`: the
points the test images encode, the stroke measures, the probes, MIG / DCI / SAP); the section
only shows the `ProbeReport` it is handed: the summary of the scores, a table of the probes'
held-out scores and a per-dimension table (normalised mutual information of each latent
dimension with each factor, the largest of each row in bold).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.jobs import Cancel, Progress, Throttle

if TYPE_CHECKING:
    from latentlab.core.explore.probe_report import ProbeReport
    from latentlab.core.vae.record import ModelRecord

TITLE = "Probes and disentanglement"
PLACEHOLDER = (
    f"Tick “{TITLE}” and press Evaluate: how much of each label and stroke measure a linear "
    "and a small MLP probe read from z (held-out 20 %), MIG, DCI and SAP, and which factor "
    "each latent dimension carries most."
)
PROBE_COLUMNS = ("Linear", "MLP", "Chance")


def probe_job(
    record: ModelRecord, images: np.ndarray, labels: np.ndarray, cancel: Cancel = None
) -> Generator[Progress, None, ProbeReport]:
    """The probe report of a latentlab model on its test images (worker thread only)."""
    from latentlab.core.explore.probe_report import full_job
    from latentlab.core.vae.latent_model import VaeModel

    return (
        yield from full_job(VaeModel(record), record.test_encoding, images, labels, cancel=cancel)
    )


def throttled(job: Generator[Progress, None, object], throttle: Throttle):
    """Pass on a job's progress at most as often as `throttle` lets it (each stage's start and
    end always), and return what the job returns."""
    while True:
        try:
            item = next(job)
        except StopIteration as end:
            return end.value
        if throttle.ready(force=item.done in (0, item.total)):
            yield item


def shade(value: float) -> QColor:
    """White to blue for 0 to 1 (a score or a share)."""
    s = round(min(max(float(value), 0.0), 1.0) * 255)
    return QColor(255 - s * 180 // 255, 255 - s * 110 // 255, 255)


def _cell(text: str, value: float | None = None, bold: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
    if value is not None:
        item.setBackground(shade(value))
        item.setForeground(QColor(20, 20, 20))
    if bold:
        font = QFont(item.font())
        font.setBold(True)
        item.setFont(font)
    return item


def _table(tip: str) -> QTableWidget:
    table = QTableWidget(0, 0)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setToolTip(tip)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setTextElideMode(Qt.TextElideMode.ElideNone)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 6)  # compact
    return table


def fit_width(table: QTableWidget) -> None:
    """As wide as its columns and row names (the probe table is narrow: the rest is for the
    per-dimension table)."""
    table.resizeColumnsToContents()
    width = table.verticalHeader().sizeHint().width() + table.frameWidth() * 2
    width += sum(table.columnWidth(c) for c in range(table.columnCount()))
    table.setFixedWidth(width + table.verticalScrollBar().sizeHint().width() + 4)


class ProbesSection(QGroupBox):
    """Shows one `ProbeReport` (or the placeholder before there is one)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(TITLE, parent)
        self.report: ProbeReport | None = None
        self.summary = QLabel(PLACEHOLDER)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.probe_table = _table(
            "Held-out score of each probe fitted on 80 % of the test points' posterior means: "
            "accuracy (%) for a label (chance: always the commonest class), R² for a measure "
            "(chance 0: no better than its mean); bold: the better probe"
        )
        self.dimension_table = _table(
            "Normalised mutual information I(z_i; factor) / H(factor), codes and measures in 20 "
            "bins (MIG's matrix); bold: the factor the dimension carries most"
        )
        tables = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(QLabel("Decodable from z (held-out)"))
        left.addWidget(self.probe_table, 1)
        right = QVBoxLayout()
        right.addWidget(QLabel("Per dimension: which factor it carries"))
        right.addWidget(self.dimension_table, 1)
        tables.addLayout(left, 0)
        tables.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(tables, 1)

    def clear(self, text: str = PLACEHOLDER) -> None:
        self.report = None
        self.summary.setText(text)
        for table in (self.probe_table, self.dimension_table):
            table.clear()
            table.setRowCount(0)
            table.setColumnCount(0)

    def show_report(self, report: ProbeReport | None) -> None:
        if report is None:
            self.clear()
            return
        self.report = report
        self.summary.setText(summary_text(report))
        self._fill_probes(report)
        self._fill_dimensions(report)

    def _fill_probes(self, report: ProbeReport) -> None:
        table = self.probe_table
        names = list(report.scores) + list(report.skipped)
        table.clear()
        table.setRowCount(len(names))
        table.setColumnCount(len(PROBE_COLUMNS))
        table.setHorizontalHeaderLabels(PROBE_COLUMNS)
        table.setVerticalHeaderLabels(names)
        for row, name in enumerate(names):
            score = report.scores.get(name)
            if score is None:
                item = _cell(f"skipped: {report.skipped[name]}")
                item.setToolTip(report.skipped[name])
                table.setItem(row, 0, item)
                table.setSpan(row, 0, 1, len(PROBE_COLUMNS))
                continue
            accuracy = score.metric == "accuracy"
            shown = (lambda v: f"{v:.1%}") if accuracy else (lambda v: f"{v:.3f}")
            best = max(score.linear, score.mlp)
            table.setItem(row, 0, _cell(shown(score.linear), score.linear, score.linear == best))
            table.setItem(row, 1, _cell(shown(score.mlp), score.mlp, score.mlp == best))
            table.setItem(row, 2, _cell(shown(score.chance) if accuracy else "0"))
        fit_width(table)

    def _fill_dimensions(self, report: ProbeReport) -> None:
        table = self.dimension_table
        dims = report.dimensions
        d = dims.nmi.shape[0]
        headers = ["carries most", *dims.factors]
        table.clear()
        table.setRowCount(d)
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.setVerticalHeaderLabels([f"z{i + 1}" for i in range(d)])
        for i in range(d):
            if not dims.factors:
                table.setItem(i, 0, _cell("—"))
                continue
            name = dims.carrier(i)[0]
            table.setItem(i, 0, _cell(name, bold=True))
            for j in range(len(dims.factors)):
                value = float(dims.nmi[i, j])
                item = _cell(f"{value:.2f}", value, bold=dims.factors[j] == name)
                if np.isfinite(dims.correlation[i, j]):
                    item.setToolTip(f"|correlation| {dims.correlation[i, j]:.2f}")
                table.setItem(i, j + 1, item)


def summary_text(report: ProbeReport) -> str:
    """One paragraph: the three scores, over which factors, and what was left out."""
    dis = report.disentanglement
    parts = []
    if dis.mig is not None:
        parts.append(f"MIG {dis.mig:.3f}")
    if dis.dci is not None:
        parts.append(
            f"DCI disentanglement {dis.dci.disentanglement:.3f}, completeness "
            f"{dis.dci.completeness:.3f}, informativeness {dis.dci.informativeness:.1%}"
        )
    if dis.sap is not None:
        parts.append(f"SAP {dis.sap:.3f}")
    scores = " · ".join(parts) or "no disentanglement score"
    over = ", ".join(dis.factors) or "no factor"
    text = f"{scores} — over {over} ({report.points} points, 80/20 split)."
    notes = list(dis.notes) + list(report.notes)
    if notes:
        text += " " + "; ".join(notes) + "."
    return text
