"""The test images nearest to a latent point, so a style can be compared with real digits.

Distances are Euclidean between the point and the test set's latent means (what the scatter
shows). For a conditional model z holds the style only, so the nearest points can be any class;
`only` restricts the search to one predicted class when the digit should match too.
"""

from __future__ import annotations

import numpy as np

MAX_K = 64


def nearest(
    mu: np.ndarray, z: np.ndarray, k: int, only: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the k test points nearest to z (nearest first) and their distances.

    `only` is an optional boolean mask over the test points; fewer than k come back when fewer
    are allowed.
    """
    mu = np.asarray(mu, dtype=np.float32)
    z = np.asarray(z, dtype=np.float32).reshape(-1)
    if mu.ndim != 2 or mu.shape[1] != z.size:
        raise ValueError(f"latents of shape {mu.shape} do not match a point of size {z.size}")
    if not 1 <= k <= MAX_K:
        raise ValueError(f"k must be in 1..{MAX_K}, got {k}")
    candidates = np.arange(len(mu)) if only is None else np.flatnonzero(only)
    if len(candidates) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    d = mu[candidates] - z
    dist2 = np.einsum("ij,ij->i", d, d)
    k = min(k, len(candidates))
    part = np.argpartition(dist2, k - 1)[:k] if k < len(candidates) else np.arange(k)
    order = part[np.lexsort((candidates[part], dist2[part]))]  # ties: lower index first
    return candidates[order].astype(np.int64), np.sqrt(dist2[order]).astype(np.float32)
