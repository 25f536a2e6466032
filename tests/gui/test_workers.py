"""The one worker pattern: yield / return / error / cancel / join, and newest-request-wins."""

from __future__ import annotations

import threading

import pytest

from latentlab.core.errors import ModelFileError
from latentlab.core.jobs import JobCancelled
from latentlab.gui.model_loader import ModelLoader
from latentlab.gui.workers import GeneratorWorker, LatestJob

from .conftest import make_record

WAIT_MS = 10_000


class Outcomes:
    """Every signal of a worker, in the order they arrived, and the thread each ran on."""

    def __init__(self, worker: GeneratorWorker) -> None:
        self.seen: list[tuple[str, object]] = []
        self.threads: set[bool] = set()
        for name in ("yielded", "returned", "errored", "cancelled"):
            getattr(worker, name).connect(lambda value, n=name: self._add(n, value))
        worker.finished.connect(lambda: self._add("finished", None))

    def _add(self, name: str, value: object) -> None:
        self.threads.add(threading.current_thread() is threading.main_thread())
        self.seen.append((name, value))

    def names(self) -> list[str]:
        return [name for name, _ in self.seen]


def run(qtbot, job) -> Outcomes:
    worker = GeneratorWorker(job, name="test-worker")
    outcomes = Outcomes(worker)
    with qtbot.waitSignal(worker.finished, timeout=WAIT_MS):
        worker.start()
    assert not worker.is_running and worker.thread.isFinished()
    return outcomes


def test_a_generator_yields_in_order_then_returns(qtbot):
    def job(token):
        yield from range(3)
        return "done"

    outcomes = run(qtbot, job)
    assert outcomes.seen == [
        ("yielded", 0),
        ("yielded", 1),
        ("yielded", 2),
        ("returned", "done"),
        ("finished", None),
    ]
    assert outcomes.threads == {True}  # every slot ran on the GUI thread


def test_a_plain_function_returns_and_may_report_progress(qtbot):
    box: dict[str, GeneratorWorker] = {}

    def job(token):
        box["worker"].report("half")  # from the worker thread
        return 42

    worker = GeneratorWorker(job)
    box["worker"] = worker
    outcomes = Outcomes(worker)
    with qtbot.waitSignal(worker.finished, timeout=WAIT_MS):
        worker.start()
    assert outcomes.seen == [("yielded", "half"), ("returned", 42), ("finished", None)]
    assert outcomes.threads == {True}


def test_an_error_is_sent_as_the_exception(qtbot):
    def job(token):
        yield 1
        raise ModelFileError("broken file")

    outcomes = run(qtbot, job)
    assert outcomes.names() == ["yielded", "errored", "finished"]
    error = outcomes.seen[1][1]
    assert isinstance(error, ModelFileError) and str(error) == "broken file"


def test_quit_takes_effect_at_the_next_yield(qtbot):
    inside, step = threading.Event(), threading.Event()
    after_quit: list[int] = []

    def job(token):
        inside.set()
        step.wait(WAIT_MS / 1000)  # busy with a step when quit() comes
        yield "first"  # the next yield: the job stops here
        after_quit.append(1)
        yield "second"

    worker = GeneratorWorker(job)
    outcomes = Outcomes(worker)
    worker.start()
    qtbot.waitUntil(inside.is_set, timeout=WAIT_MS)
    worker.quit()
    with qtbot.waitSignal(worker.finished, timeout=WAIT_MS):
        step.set()
    assert outcomes.seen == [("yielded", "first"), ("cancelled", None), ("finished", None)]
    assert after_quit == []


def test_a_job_can_hand_back_what_it_finished_when_cancelled(qtbot):
    def job(token):
        done = 0
        try:
            while True:
                done += 1
                yield done
        except JobCancelled:
            raise JobCancelled(partial=f"{done} steps") from None

    worker = GeneratorWorker(job)
    with qtbot.waitSignal(worker.yielded, timeout=WAIT_MS):
        worker.start()
    with qtbot.waitSignal(worker.cancelled, timeout=WAIT_MS) as blocker:
        worker.quit()
    assert blocker.args[0].endswith(" steps")
    qtbot.waitUntil(lambda: not worker.is_running, timeout=WAIT_MS)


def test_a_function_job_checks_the_token_itself(qtbot):
    def job(token):
        token.wait(WAIT_MS / 1000)  # a download waiting between retries
        token.check(partial="nothing saved")
        return "not reached"

    worker = GeneratorWorker(job)
    outcomes = Outcomes(worker)
    worker.start()
    with qtbot.waitSignal(worker.finished, timeout=WAIT_MS):
        worker.quit()
    assert outcomes.seen == [("cancelled", "nothing saved"), ("finished", None)]


def test_a_quit_worker_joins_without_the_event_loop(qtbot):
    """The app's quit path blocks the GUI thread in join(): nothing queued may be needed."""

    def job(token):
        while True:
            yield None

    worker = GeneratorWorker(job)
    started = Outcomes(worker)
    with qtbot.waitSignal(worker.yielded, timeout=WAIT_MS):
        worker.start()
    worker.quit()
    assert worker.join(WAIT_MS)  # no event processed between quit() and here
    assert worker.thread.isFinished()
    qtbot.waitUntil(lambda: "finished" in started.names(), timeout=WAIT_MS)
    assert started.names()[-2:] == ["cancelled", "finished"]


def test_a_job_cancelled_before_it_starts_never_runs(qtbot):
    ran: list[int] = []

    def job(token):
        ran.append(1)
        yield

    worker = GeneratorWorker(job)
    outcomes = Outcomes(worker)
    worker.quit()
    with qtbot.waitSignal(worker.finished, timeout=WAIT_MS):
        worker.start()
    assert outcomes.seen == [("cancelled", None), ("finished", None)] and ran == []


def test_a_worker_runs_once(qtbot):
    worker = GeneratorWorker(lambda token: None)
    with qtbot.waitSignal(worker.finished, timeout=WAIT_MS):
        worker.start()
    with pytest.raises(RuntimeError):
        worker.start()


# --- newest request wins --------------------------------------------------------------------


def test_the_newest_request_wins_and_a_superseded_queued_one_never_runs(qtbot):
    jobs = LatestJob("test-latest")
    release = threading.Event()
    ran: list[str] = []
    results: list[tuple[object, object]] = []
    jobs.returned.connect(lambda context, value: results.append((context, value)))

    def job(name: str):
        def work(token):
            ran.append(name)
            if name == "a":
                release.wait(WAIT_MS / 1000)
            yield  # a cancel point
            return name.upper()

        return work

    jobs.submit(job("a"), "first")
    qtbot.waitUntil(lambda: ran == ["a"], timeout=WAIT_MS)
    jobs.submit(job("b"), "second")  # queued behind a, then superseded by c
    jobs.submit(job("c"), "third")
    release.set()
    qtbot.waitUntil(lambda: results != [], timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not jobs.is_running, timeout=WAIT_MS)
    assert results == [("third", "C")]
    assert ran == ["a", "c"]  # b was skipped, never started


def test_a_shut_down_queue_sends_nothing_more(qtbot):
    jobs = LatestJob("test-latest")
    results: list[object] = []
    jobs.returned.connect(lambda context, value: results.append(value))

    def forever(token):
        while True:
            yield

    jobs.submit(forever)
    assert jobs.shutdown(WAIT_MS)
    jobs.submit(lambda token: "refused")
    qtbot.waitUntil(lambda: not jobs.is_running, timeout=WAIT_MS)  # its last signals are in
    assert results == []


def test_the_loader_runs_its_prepare_hook_and_shows_only_the_newest_record(qtbot):
    prepared: list[object] = []

    def prepare(record, path):
        prepared.append(record)
        return ("payload", record, path)

    loader = ModelLoader(prepare=prepare, test_loader=lambda name: (None, None))
    old, new = make_record(seed=1), make_record(seed=2)
    busy: list[bool] = []
    loader.busy_changed.connect(busy.append)
    with qtbot.waitSignal(loader.loaded, timeout=WAIT_MS) as blocker:
        loader.load_record(old)
        loader.load_record(new)
    assert blocker.args == [None, ("payload", new, None)]
    assert busy == [True, False] and not loader.is_busy
    assert prepared[-1] is new
    loader.shutdown()


def test_the_loader_says_why_a_file_failed(qtbot, tmp_path):
    loader = ModelLoader(prepare=lambda record, path: record)
    missing = tmp_path / "nothing.safetensors"
    with qtbot.waitSignal(loader.failed, timeout=WAIT_MS) as blocker:
        loader.load_path(missing)
    path, message = blocker.args
    assert path == str(missing) and "nothing.safetensors" in message and "\n" not in message
    loader.shutdown()
