"""Guards against PySide6 builds that corrupt reference counts in hot Qt paths.

PySide6 6.12.0 drops a reference to ``True`` on every ``Signal.emit()``; on CPython 3.11, where
``True`` is not immortal, the count reaches zero after about ten thousand emits and the process
aborts with "Fatal Python error: deallocating True". The app emits signals and calls
``ImageItem.setImage`` on every slider move, so such a build crashes within minutes of use. The
check runs in a subprocess: a crash there fails this test instead of killing the test run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

CALLS = 20_000
TOLERANCE = 100  # refcounts of True drift a little with caches; a leak per call is CALLS

SCRIPT = textwrap.dedent(
    f"""
    import sys

    import numpy as np
    import pyqtgraph as pg
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QApplication

    app = QApplication([])


    class Emitter(QObject):
        fired = Signal()
        value = Signal(float)


    emitter = Emitter()
    received = []
    emitter.fired.connect(lambda: received.append(None))
    emitter.value.connect(lambda v: None)
    item = pg.ImageItem(axisOrder="row-major")
    image = np.zeros((28, 28), np.float32)

    before = sys.getrefcount(True)
    for i in range({CALLS}):
        emitter.fired.emit()
        emitter.value.emit(0.5)
        image[i % 28, (i // 28) % 28] = (i % 7) / 7
        item.setImage(image, autoLevels=False, levels=(0.0, 1.0))
    after = sys.getrefcount(True)
    assert len(received) == {CALLS}, len(received)
    print("refcount(True)", before, after)
    """
)


@pytest.mark.slow
def test_signal_emit_and_set_image_keep_refcounts():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=240
    )
    assert "Fatal Python error" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("refcount(True)"))
    before, after = (int(v) for v in line.split()[1:])
    assert after >= before - TOLERANCE, f"refcount of True fell from {before} to {after}"
