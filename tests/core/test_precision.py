"""The training step's number format: what `auto` picks, and that bfloat16 trains as float32 does."""

import numpy as np
import pytest
import torch

from latentlab.core.errors import TrainingError
from latentlab.core.vae import precision
from latentlab.core.vae.events import EpochEnd, Finished, Started
from latentlab.core.vae.precision import cpu_flags, native_bf16, resolve_precision
from latentlab.core.vae.training import run_training

from ..factories import TINY_CVAE, tiny_dataset

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def data():
    return tiny_dataset()


def test_cpu_flags_are_read_from_the_flags_line(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512_bf16 fma\n\nprocessor\t: 1\n")
    assert cpu_flags(str(info)) == frozenset({"fpu", "avx2", "avx512_bf16", "fma"})
    assert cpu_flags(str(tmp_path / "absent")) == frozenset()


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"avx2", "fma"}, torch.float32),  # AVX2 only: bfloat16 is emulated, ten times slower
        ({"avx512f", "avx512bw"}, torch.float32),  # AVX-512 without its BF16 instructions
        ({"avx512f", "avx512_bf16"}, torch.bfloat16),
        ({"amx_tile", "amx_bf16"}, torch.bfloat16),
    ],
)
def test_auto_takes_bfloat16_only_where_the_cpu_does_it_natively(monkeypatch, flags, expected):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(flags))
    assert native_bf16(CPU) == (expected == torch.bfloat16)
    assert resolve_precision("auto", CPU) == expected


def test_explicit_choices_win_over_the_hardware(monkeypatch):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    assert resolve_precision("float32", CPU) == torch.float32
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset())
    assert resolve_precision("bfloat16", CPU) == torch.bfloat16


def test_unknown_or_unavailable_precisions_are_clear_errors():
    with pytest.raises(TrainingError, match="unknown precision 'float16'"):
        resolve_precision("float16", CPU)
    with pytest.raises(TrainingError, match="not available on mps"):
        resolve_precision("bfloat16", torch.device("mps"))


def test_bfloat16_training_reports_itself_and_learns_as_float32_does(data):
    config = TINY_CVAE.replace(epochs=6, learning_rate=3e-3)
    runs = {
        p: list(run_training(config, data, device="cpu", precision=p))
        for p in ("float32", "bfloat16")
    }
    for name, events in runs.items():
        assert isinstance(events[0], Started) and events[0].precision == name
        record = events[-1].record
        assert isinstance(events[-1], Finished) and record.metrics["precision"] == name
        assert all(w.dtype == np.float32 for w in record.weights.values())
    ends = {p: [e for e in ev if isinstance(e, EpochEnd)] for p, ev in runs.items()}
    assert ends["bfloat16"][-1].test.elbo_loss < ends["bfloat16"][0].test.elbo_loss
    full, half = ends["float32"][-1], ends["bfloat16"][-1]
    assert half.test.elbo_loss == pytest.approx(full.test.elbo_loss, rel=0.03)
    assert half.test_accuracy >= full.test_accuracy - 0.1
