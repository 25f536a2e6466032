"""`latentlab` / `latentlab gui`: what the command sets up before the app starts."""

from __future__ import annotations

import os

import pytest


@pytest.mark.parametrize(("user_value", "expected"), [(None, "1"), ("3", "3")])
def test_the_app_runs_numpy_single_threaded_unless_the_user_chose(
    monkeypatch, user_value, expected
):
    """A small decode must not wait for BLAS threads that compete with training for cores."""
    import latentlab.gui.app as gui_app
    from latentlab import cli

    if user_value is None:
        monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OPENBLAS_NUM_THREADS", user_value)
    seen: list[str | None] = []
    monkeypatch.setattr(
        gui_app,
        "run",
        lambda model_path=None: seen.append(os.environ.get("OPENBLAS_NUM_THREADS")) or 0,
    )
    assert cli.main(["gui"]) == 0
    assert seen == [expected]
