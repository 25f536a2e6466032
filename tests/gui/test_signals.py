"""SIGTERM, SIGINT and SIGHUP to the real app quit it as File > Quit does, without asking.

Each case starts the app (``app.run``) in a subprocess, offscreen, with its settings in the test's
folder (``XDG_CONFIG_HOME``) and its data folder there too (``LATENTLAB_DATA_DIR``). The child's
own test code (never the app) prints a line once the window is where the test wants it; the test
waits for that line with a deadline, sends the signal, and checks what the user gets: the exit
code, one line on stderr saying what was stopped and what was not saved, the training thread
ended (and Qt never destroyed a running one), the layout saved, no temporary file left. Before
`app.QuitOnSignal`, SIGTERM killed the app at once: exit -15, nothing said, settings not saved.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

REPO = Path(__file__).resolve().parents[2]
READY_S = 120  # the app starts in a second or two; the first epoch needs torch (~10 s loaded)
EXIT_S = 60  # the close joins the training thread within one batch

CHILD = textwrap.dedent(
    """
    import json, sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from latentlab.core.data import datasets as d
    from latentlab.core.vae.checkpoint import load_model
    from latentlab.core.vae.config import Config
    from latentlab.gui import app as app_module, main_window

    model, files, data_dir, train = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
    d.register_dataset(d.DatasetSpec(name="tiny", title="Tiny", class_names=tuple("0123456789"),
        files={r: d.FileSpec(*v) for r, v in files.items()}))
    config = Config(encoder_hidden=(16,), decoder_hidden=(16,), classifier_hidden=(16,),
                    activation="relu", latent_dim=2, batch_size=50, epochs=10_000, dataset="tiny")
    state = {}

    def poll():
        for w in QApplication.topLevelWidgets():
            if not (isinstance(w, main_window.MainWindow) and w.isVisible() and w.state.loaded):
                continue
            ctrl = w.training
            state["ctrl"] = ctrl
            if train == "idle":
                print("READY", flush=True)
                return
            if not w.is_unsaved and "adopted" not in state:  # an unsaved model, as after a run
                state["adopted"] = True
                w.adopt_record(load_model(model))
            elif w.is_unsaved and not ctrl.is_running and "started" not in state:
                state["started"] = True
                ctrl.start(config, device="cpu", data_dir=data_dir)
            elif ctrl.is_running and ctrl.epochs_done >= 1:
                state["thread"] = ctrl.thread
                print("READY", ctrl.epochs_done, flush=True)
                return
        QTimer.singleShot(20, poll)

    main_window.default_model_path = lambda: __import__("pathlib").Path(model)
    QTimer.singleShot(0, poll)
    code = app_module.run(argv=sys.argv[:1])
    thread = state.get("thread")
    print("EXIT", code, "THREAD", "none" if thread is None else thread.isFinished(), flush=True)
    sys.exit(code)
    """
)


class App:
    """The app in a subprocess; its stdout lines arrive on a queue (read by a thread), its
    stderr goes to a file (a pipe nobody reads could fill and stall it)."""

    def __init__(self, args: list[str], tmp_path: Path) -> None:
        self.config_home = tmp_path / "config"
        self.data_home = tmp_path / "data-home"
        self.config_home.mkdir()
        self.data_home.mkdir()
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "XDG_CONFIG_HOME": str(self.config_home),
            "LATENTLAB_DATA_DIR": str(self.data_home),
            "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        }
        self._stderr_path = tmp_path / "stderr.txt"
        with open(self._stderr_path, "w") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", CHILD, *args],
                cwd=REPO,
                env=env,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.stdout: list[str] = []

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    @property
    def stderr(self) -> str:
        return self._stderr_path.read_text()

    def wait_for(self, prefix: str, within_s: float) -> str:
        """The first stdout line starting with `prefix`, or fail once `within_s` have passed."""
        deadline = time.monotonic() + within_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                pytest.fail(f"the app ended first: {self.stdout}\n{self.stderr}")
            self.stdout.append(line)
            if line.startswith(prefix):
                return line
        self.kill()
        pytest.fail(f"no {prefix!r} line within {within_s} s: {self.stdout}\n{self.stderr}")

    def finish(self, within_s: float) -> tuple[int, str]:
        """Exit code and stderr once the app has ended; fail (and kill it) after `within_s`."""
        try:
            code = self.proc.wait(timeout=within_s)
        except subprocess.TimeoutExpired:
            code = None
        if code is None:
            self.kill()
            pytest.fail(f"the app did not end within {within_s} s of the signal: {self.stderr}")
        self._reader.join(within_s)
        while (line := self.lines.get_nowait()) is not None:  # the reader has put them all
            self.stdout.append(line)
        return code, self.stderr

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()

    def settings_text(self) -> str:
        return (self.config_home / "latentlab" / "latentlab.conf").read_text()


def temp_files(*folders: Path) -> list[Path]:
    """Temporary files of ours (`.NAME.XXXXXXXX.tmp`, `.part`) or Qt's (`NAME.XXXXXX`)."""
    found = []
    for folder in folders:
        for path in folder.rglob("*"):
            name = path.name
            qt_temp = name.startswith("latentlab.conf.") and name != "latentlab.conf.lock"
            if name.endswith((".tmp", ".part")) or qt_temp:
                found.append(path)
    return found


@pytest.fixture
def app_args(cvae_file, tiny_dataset):
    files = {role: [f.filename, f.sha256] for role, f in tiny_dataset.spec.files.items()}
    return lambda train: [str(cvae_file), json.dumps(files), str(tiny_dataset.dir), train]


@pytest.mark.slow
def test_sigterm_while_training_cancels_joins_saves_settings_and_says_so(tmp_path, app_args):
    """Mid-run, with an unsaved model shown: the question the window would ask is not asked
    (a dialog here would block the offscreen app until the timeout)."""
    app = App(app_args("train"), tmp_path)
    try:
        ready = app.wait_for("READY", READY_S)
        epochs_seen = int(ready.split()[1])
        sent = time.monotonic()
        app.proc.send_signal(signal.SIGTERM)
        code, stderr = app.finish(EXIT_S)
        took = time.monotonic() - sent
    finally:
        app.kill()
    assert code == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr and "QThread: Destroyed" not in stderr, stderr
    said = re.fullmatch(
        r"latentlab: stopped by SIGTERM; training was cancelled after (\d+) epochs?, "
        r"nothing was saved; the unsaved model shown was not saved",
        stderr.splitlines()[-1],
    )
    assert said is not None, stderr
    assert int(said.group(1)) >= epochs_seen
    assert app.stdout[-1] == "EXIT 143 THREAD True", app.stdout
    assert "geometry=@ByteArray(" in app.settings_text()  # the layout was saved, as on Quit
    assert temp_files(tmp_path) == []
    assert took < EXIT_S
    print(f"SIGTERM to exit: {took:.2f} s")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "said"),
    [
        (signal.SIGTERM, "latentlab: stopped by SIGTERM"),
        (signal.SIGINT, "latentlab: interrupted (Ctrl+C)"),
        (signal.SIGHUP, "latentlab: stopped by SIGHUP"),
    ],
    ids=["SIGTERM", "SIGINT", "SIGHUP"],
)
def test_a_stop_signal_to_the_idle_app_quits_it_as_quit_does(tmp_path, app_args, signum, said):
    app = App(app_args("idle"), tmp_path)
    try:
        app.wait_for("READY", READY_S)
        app.proc.send_signal(signum)
        code, stderr = app.finish(EXIT_S)
    finally:
        app.kill()
    assert code == 128 + signum, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert stderr.splitlines()[-1] == said, stderr
    assert app.stdout[-1] == "EXIT " + str(128 + signum) + " THREAD none", app.stdout
    assert "geometry=@ByteArray(" in app.settings_text()
    assert temp_files(tmp_path) == []


def test_in_process_the_first_signal_closes_the_window_and_a_second_would_kill(
    open_explorer_window, qtbot, cvae_file, capsys, monkeypatch
):
    """The same path without a subprocess: the signal wakes the event loop through the socket,
    the window closes without asking (it shows an unsaved model), and from then on the signals'
    default action is back, so a second one would end a close that hangs. (Leaving the event
    loop is recorded, not done: `QApplication.exit` would end every later test's wait too.)"""
    from latentlab.core.vae.checkpoint import load_model
    from latentlab.gui.app import STOP_SIGNALS, QuitOnSignal

    exits: list[int] = []
    monkeypatch.setattr(QuitOnSignal, "leave_event_loop", lambda self, code: exits.append(code))

    window = open_explorer_window(cvae_file, ask_unsaved=lambda cancel: pytest.fail("asked"))
    with qtbot.waitSignal(window.model_loaded, timeout=10_000):
        window.adopt_record(load_model(cvae_file))
    assert window.is_unsaved
    before = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    with QuitOnSignal(window) as stop:
        assert all(signal.getsignal(n) is not before[n] for n in STOP_SIGNALS)
        os.kill(os.getpid(), signal.SIGTERM)
        qtbot.waitUntil(lambda: stop.signum is not None, timeout=10_000)
        assert not window.isVisible() and exits == [143]
        assert all(signal.getsignal(n) == signal.SIG_DFL for n in STOP_SIGNALS)
    assert {signum: signal.getsignal(signum) for signum in STOP_SIGNALS} == before
    assert capsys.readouterr().err.splitlines()[-1] == (
        "latentlab: stopped by SIGTERM; the unsaved model shown was not saved"
    )


@pytest.mark.parametrize(
    ("signum", "training", "epochs", "unsaved", "said"),
    [
        (signal.SIGTERM, False, 0, False, "stopped by SIGTERM"),
        (signal.SIGINT, False, 0, True, "interrupted (Ctrl+C); the unsaved model shown was not saved"),
        (signal.SIGTERM, True, 0, False, "stopped by SIGTERM; training was cancelled before its first epoch finished, nothing was saved"),
        (signal.SIGHUP, True, 1, False, "stopped by SIGHUP; training was cancelled after 1 epoch, nothing was saved"),
        (signal.SIGTERM, True, 12, True, "stopped by SIGTERM; training was cancelled after 12 epochs, nothing was saved; the unsaved model shown was not saved"),
    ],
)  # fmt: skip
def test_the_stop_message_says_what_was_stopped_and_not_saved(
    signum, training, epochs, unsaved, said
):
    from latentlab.gui.app import stopped_message

    assert stopped_message(signum, training, epochs, unsaved) == "latentlab: " + said
