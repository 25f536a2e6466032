"""Which number format the training step's matrix products use.

bfloat16 halves the cost of the products (most of a step) on hardware that does them natively:
CPUs with AVX-512 BF16 or AMX, and CUDA GPUs that support bfloat16. Elsewhere (an AVX2-only CPU,
for one) it is emulated and about ten times slower, so `auto` picks it only where it is native.
Only the training step's products use it (`train_step.py`): the weights, the optimizer's state,
the loss and every reported metric stay float32 (docs/benchmarks.md has the speed and the test
losses).
"""

from __future__ import annotations

import functools
from pathlib import Path

import torch

from latentlab.core.errors import TrainingError
from latentlab.core.vae.config import PRECISIONS

NATIVE_BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})  # as /proc/cpuinfo names them


@functools.cache
def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> frozenset[str]:
    """The CPU's feature flags as Linux reports them (empty where there is no /proc/cpuinfo)."""
    try:
        text = Path(cpuinfo).read_text(encoding="ascii", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def native_bf16(device: torch.device) -> bool:
    """Whether `device` does bfloat16 matrix products in hardware, so they pay."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        return bool(cpu_flags() & NATIVE_BF16_CPU_FLAGS)
    return False


def resolve_precision(name: str, device: torch.device) -> torch.dtype:
    """`auto` -> bfloat16 where it is native on `device`, else float32; names as PRECISIONS."""
    if name == "auto":
        return torch.bfloat16 if native_bf16(device) else torch.float32
    if name == "float32":
        return torch.float32
    if name == "bfloat16":
        if device.type not in ("cpu", "cuda"):
            raise TrainingError(f"bfloat16 products are not available on {device.type}")
        return torch.bfloat16
    raise TrainingError(f"unknown precision {name!r}: choose one of {', '.join(PRECISIONS)}")


def precision_name(dtype: torch.dtype) -> str:
    """ "float32" or "bfloat16", as PRECISIONS and the model file's metrics name them."""
    return str(dtype).removeprefix("torch.")
