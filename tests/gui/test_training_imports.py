"""The app must start without torch: importing the training GUI does not import it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

MODULES = (
    "latentlab.gui.training_controller",
    "latentlab.gui.training_panel",
    "latentlab.gui.train_dialog",
    "latentlab.gui.training_worker",
    "latentlab.gui.data_dialog",
    "latentlab.gui.workers",
)


@pytest.mark.slow
def test_training_gui_modules_do_not_import_torch():
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in MODULES)
        + "heavy = sorted(m for m in ('torch', 'latentlab.core.vae.training') if m in sys.modules)\n"
        + "print('imported:', heavy)\n"
        + "sys.exit(1 if heavy else 0)\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "imported: []" in proc.stdout
