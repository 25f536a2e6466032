"""latentlab: explore the latent space of variational autoencoders.

`explore`, `export` and `load` (see `latentlab.api`) are imported on first use, so
``import latentlab`` stays free of torch, Qt and onnxruntime.
"""

from __future__ import annotations

from typing import Any

__all__ = ["explore", "export", "load"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from latentlab import api

        return getattr(api, name)
    raise AttributeError(f"module 'latentlab' has no attribute {name!r}")
