"""Retake docs/bring-your-own-model.md's screenshots, on the example's imported model.

    python examples/colour_shapes_vae.py --out /tmp/shapes
    xvfb-run -a -s "-screen 0 1600x1100x24" python docs/byom_screenshots.py /tmp/shapes

The explorer is the real main window on `shapes.latentlab`, a test image clicked; the import
dialog is File > Import model… filled with the example's graphs and data, after Check.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshots import DOCS, WINDOW, fresh_settings, pump, save, wait_for

from latentlab.gui.app import configure
from latentlab.gui.main_window import MainWindow


def typical_triangle(document) -> int:
    """The triangle whose reconstruction error is the median of all triangles': a fair example."""
    images = document.images.images.astype(np.float32) / 255
    triangles = np.flatnonzero(document.points.labels == 2)
    decoded = document.model.decode(document.points.mu[triangles])
    errors = ((decoded - images[triangles]) ** 2).mean(axis=(1, 2, 3))
    return int(triangles[np.argsort(errors)[len(errors) // 2]])


def shot_explorer(model: Path, out: Path) -> None:
    fresh_settings()
    window = MainWindow()
    window.resize(*WINDOW)
    window.show()
    loaded: list[object] = []
    window.model_loaded.connect(loaded.append)
    window.open_model(model)
    wait_for(lambda: bool(loaded), 60, f"{model.name} to load")
    window.state.select(typical_triangle(window.document))
    pump(300)
    save(window, out)
    window.shutdown()
    window.close()


def shot_import_dialog(folder: Path, out: Path) -> None:
    fresh_settings()
    window = MainWindow()
    dialog = window.open_import_dialog()
    dialog.decoder_edit.setText(str(folder / "decoder.onnx"))
    dialog.encoder_edit.setText(str(folder / "encoder.onnx"))
    dialog.data_edit.setText(str(folder / "images"))
    dialog.attributes_edit.setText(str(folder / "attributes.csv"))
    dialog.out_edit.setText(str(folder / "shapes.latentlab"))
    dialog.check_button.click()
    wait_for(dialog.import_button.isEnabled, 60, "the check")
    save(dialog, out)
    dialog.reject()
    window.shutdown()
    window.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the example's --out folder")
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    fresh_settings()
    configure(app)
    shot_explorer(args.folder / "shapes.latentlab", DOCS / "byom-explorer.png")
    shot_import_dialog(args.folder, DOCS / "byom-import-dialog.png")
    print("saved docs/byom-explorer.png, docs/byom-import-dialog.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
