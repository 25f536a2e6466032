"""The one cancel protocol: a token the job checks, and JobCancelled (with what was finished)."""

import threading

import numpy as np
import pytest

from latentlab.core.data.download import DownloadCancelled
from latentlab.core.errors import DataError, LatentlabError
from latentlab.core.jobs import CancelToken, JobCancelled, Throttle, check_cancelled, is_cancelled
from latentlab.core.text import first_line, one_line
from latentlab.core.vae.events import BatchProgress, EpochEnd, Finished, Started
from latentlab.core.vae.training import run_training
from latentlab.core.vae.training_job import BatchReport, DataMissing, LossSmoother, training_job

from ..factories import TINY_CVAE, tiny_dataset


@pytest.fixture(scope="module")
def data():
    return tiny_dataset()


def test_a_token_is_an_event_and_check_raises_with_the_partial_result():
    token = CancelToken()
    token.check("nothing yet")  # not cancelled: no effect
    assert isinstance(token, threading.Event) and not token.cancelled
    token.cancel()
    assert token.cancelled and token.is_set() and is_cancelled(token)
    with pytest.raises(JobCancelled) as caught:
        token.check(partial="half done")
    assert caught.value.partial == "half done"


@pytest.mark.parametrize("hook", [None, threading.Event(), lambda: False])
def test_an_unset_hook_of_any_kind_lets_the_job_go_on(hook):
    check_cancelled(hook)
    assert not is_cancelled(hook)


def test_a_callable_hook_cancels_too():
    with pytest.raises(JobCancelled) as caught:
        check_cancelled(lambda: True, partial=3)
    assert caught.value.partial == 3 and str(caught.value) == "cancelled"


def test_a_cancelled_download_is_a_cancelled_job_and_still_a_data_error():
    exc = DownloadCancelled("Download of x cancelled")
    assert isinstance(exc, JobCancelled) and isinstance(exc, DataError)
    assert exc.partial is None and str(exc) == "Download of x cancelled"


def test_cancelled_training_raises_with_the_last_finished_epochs_record(data):
    token = CancelToken()
    seen = []
    with pytest.raises(JobCancelled) as caught:
        for ev in run_training(TINY_CVAE.replace(epochs=5), data, device="cpu", cancel=token):
            seen.append(ev)
            if isinstance(ev, EpochEnd) and ev.epoch == 2:
                token.cancel()
    record = caught.value.partial
    assert record.metrics["epochs_trained"] == 2 and len(record.history) == 2
    assert not any(isinstance(ev, Finished) for ev in seen)


def test_cancel_thrown_in_at_a_yield_hands_back_the_partial_result_too(data):
    """A driver (the GUI's worker) stops a generator at its next yield by throwing in."""
    run = run_training(TINY_CVAE.replace(epochs=5), data, device="cpu")
    for ev in run:
        if isinstance(ev, EpochEnd):
            break
    with pytest.raises(JobCancelled) as caught:
        run.throw(JobCancelled())
    assert caught.value.partial.history[-1]["epoch"] == 1


def test_cancel_before_the_first_epoch_hands_back_nothing(data):
    token = CancelToken()
    token.cancel()
    run = run_training(TINY_CVAE, data, device="cpu", cancel=token)
    assert isinstance(next(run), Started)
    with pytest.raises(JobCancelled) as caught:
        next(run)
    assert caught.value.partial is None


def test_the_training_job_reports_throttled_smoothed_progress_and_returns_the_outcome(
    tiny_dataset,
):
    config = TINY_CVAE.replace(dataset="tiny", epochs=3, batch_size=10)
    folder = str(tiny_dataset.dir)
    run = training_job(config, device="cpu", data_dir=folder, progress_interval_s=60)
    events = []
    with pytest.raises(StopIteration) as end:
        while True:
            events.append(next(run))
    assert isinstance(end.value.value, Finished)
    batches = events[0].batches_per_epoch  # 30: a report every 10 batches
    reports = [ev for ev in events if isinstance(ev, BatchReport)]
    # an interval of a minute lets through the first report and each epoch's last batch only
    shown = [(r.progress.epoch, r.progress.batch) for r in reports]
    assert shown == [(1, 10), (1, batches), (2, batches), (3, batches)]
    assert not any(isinstance(ev, BatchProgress) for ev in events)
    # the smoothed loss follows every report, the ones held back too
    assert reports[-1].smoothed_loss != reports[-1].progress.loss


def test_cancel_thrown_into_the_training_job_reaches_the_trainer(tiny_dataset):
    """The GUI's worker throws into the job, not the trainer: the last epoch must survive."""
    config = TINY_CVAE.replace(dataset="tiny", epochs=50)
    run = training_job(config, device="cpu", data_dir=str(tiny_dataset.dir))
    for ev in run:
        if isinstance(ev, EpochEnd) and ev.epoch == 2:
            break
    with pytest.raises(JobCancelled) as caught:
        run.throw(JobCancelled())
    assert caught.value.partial.history[-1]["epoch"] == 2


def test_the_training_job_returns_data_missing_without_data(tmp_path):
    run = training_job(TINY_CVAE.replace(dataset="mnist"), device="cpu", data_dir=str(tmp_path))
    with pytest.raises(StopIteration) as end:
        next(run)
    missing = end.value.value
    assert isinstance(missing, DataMissing) and missing.data_dir == str(tmp_path)
    assert str(tmp_path) in missing.message


def test_the_smoother_starts_at_the_first_value():
    smoother = LossSmoother(weight=0.5)
    assert smoother.update(10.0) == 10.0
    assert smoother.update(20.0) == 15.0
    assert np.isclose(smoother.value, 15.0)


def test_the_throttle_lets_one_report_through_per_interval_and_forced_ones_always():
    now = [0.0]
    throttle = Throttle(1.0, clock=lambda: now[0])
    assert throttle.ready() and not throttle.ready()
    assert throttle.ready(force=True)
    now[0] = 2.5
    assert throttle.ready() and not throttle.ready()


@pytest.mark.parametrize(
    ("exc", "line"),
    [
        (LatentlabError("bad file\nmore detail"), "bad file"),
        (ValueError("odd value\nmore"), "ValueError: odd value"),
        (KeyError(), "KeyError"),
        (LatentlabError(), "LatentlabError"),
    ],
)
def test_an_error_is_one_readable_line(exc, line):
    assert one_line(exc) == line


def test_first_line_is_the_message_alone():
    assert first_line(ValueError("  odd value \nmore")) == "odd value"
    assert first_line(OSError()) == "OSError"
    assert first_line("") == ""
