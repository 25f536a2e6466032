"""Linear views of latent space: the scatter's two axes and the sliders' directions are one idea.

A `LinearBasis` is a set of orthonormal directions through a centre: coordinates
u = components @ (z - mean), and back. The scatter shows the first two coordinates of one; the
sliders set every coordinate of another. `Projection` is what the scatter needs of any map to the
plane; `NonlinearProjection` is one (a UMAP or t-SNE map of the encoded points) that lifts
plane positions back to latents by interpolating between its neighbouring points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Projection(Protocol):
    """A map from latent space to the scatter's plane, and (where it exists) back."""

    kind: str

    @property
    def titles(self) -> tuple[str, str]:
        """The two axis titles."""
        ...

    def project(self, z: np.ndarray) -> np.ndarray:
        """(..., 2) float32 plane positions of latents (..., d)."""
        ...

    def lift(self, point: np.ndarray, z: np.ndarray) -> np.ndarray | None:
        """A latent near `z` that lands on `point`, or None when the map has no inverse."""
        ...


@dataclass(frozen=True)
class LinearBasis:
    """Orthonormal directions through `mean`: u = components @ (z - mean)."""

    kind: str  # "dims" (raw latent axes) or "pca" (principal components of the encoded data)
    components: np.ndarray  # (K, d) float32, orthonormal rows
    mean: np.ndarray  # (d,) float32
    labels: tuple[str, ...]  # one short name per direction: "z3", "PC1"
    notes: tuple[str, ...] = ()  # one longer description per direction, for tooltips
    axis_titles: tuple[str, ...] = ()  # one axis title per direction: "PC1 (42% of variance)"

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def latent_dim(self) -> int:
        return int(self.components.shape[1])

    @property
    def titles(self) -> tuple[str, str]:
        titles = self.axis_titles or self.labels
        return (titles[0], titles[1])

    def project(self, z: np.ndarray) -> np.ndarray:
        """Coordinates (..., K) of latents (..., d)."""
        return ((np.asarray(z, np.float32) - self.mean) @ self.components.T).astype(np.float32)

    def latent(self, coords: np.ndarray) -> np.ndarray:
        """The latent at coordinates (..., K) (for a full basis; else its part in the span)."""
        return (self.mean + np.asarray(coords, np.float32) @ self.components).astype(np.float32)

    def with_coord(self, z: np.ndarray, index: int, value: float) -> np.ndarray:
        """z moved along direction `index` only, so that its coordinate there is `value`."""
        z = np.asarray(z, np.float32)
        delta = float(value) - float(self.project(z)[index])
        return (z + delta * self.components[index]).astype(np.float32)

    def lift(self, point: np.ndarray, z: np.ndarray) -> np.ndarray:
        """z moved within the span of the first two directions so that it projects to `point`."""
        z = np.asarray(z, np.float32)
        delta = np.asarray(point, np.float32) - self.project(z)[:2]
        return (z + delta @ self.components[:2]).astype(np.float32)

    def plane(self, i: int = 0, j: int = 1) -> LinearBasis:
        """Directions i and j as the scatter's two axes."""
        if not (0 <= i < len(self) and 0 <= j < len(self)) or i == j:
            raise ValueError(f"need two different directions below {len(self)}, got {i} and {j}")
        rows = [i, j]
        titles = self.axis_titles or self.labels
        pick = lambda seq: tuple(seq[k] for k in rows) if seq else ()  # noqa: E731
        return LinearBasis(
            self.kind,
            np.ascontiguousarray(self.components[rows]),
            self.mean,
            pick(self.labels),
            pick(self.notes),
            pick(titles),
        )


def dims_basis(latent_dim: int) -> LinearBasis:
    """The raw latent axes z1..zd."""
    d = int(latent_dim)
    return LinearBasis(
        "dims",
        np.eye(d, dtype=np.float32),
        np.zeros(d, np.float32),
        tuple(f"z{i + 1}" for i in range(d)),
        tuple(f"latent dimension z{i + 1}" for i in range(d)),
    )


def pca_basis(mu: np.ndarray) -> LinearBasis:
    """All principal components of the encoded means, centred on their mean.

    The sign of each component is fixed (its largest entry positive) so the view is the same from
    run to run; with fewer points than dimensions the basis is completed to a full one.
    """
    mu = np.asarray(mu)
    d = mu.shape[1]
    mean = mu.mean(axis=0).astype(np.float32) if len(mu) else np.zeros(d, np.float32)
    # The eigenvectors of the d x d scatter matrix: the SVD of the (N, d) data gives the same
    # axes but costs 66 ms for 6,000 points (it forms U) where this takes well under 1 ms, and it
    # is always a full basis, even with fewer points than dimensions.
    centred = (mu - mean).astype(np.float64)
    variances, vectors = np.linalg.eigh(centred.T @ centred)
    order = np.argsort(variances)[::-1]
    variances, vt = np.clip(variances[order], 0.0, None), vectors[:, order].T
    share = variances / (float(variances.sum()) or 1.0)
    components = vt.astype(np.float32)
    for row in components:
        if row[np.argmax(np.abs(row))] < 0:
            row *= -1
    return LinearBasis(
        "pca",
        components,
        mean,
        tuple(f"PC{k + 1}" for k in range(d)),
        tuple(f"principal component {k + 1}: {share[k]:.0%} of the variance" for k in range(d)),
        tuple(f"PC{k + 1} ({share[k]:.0%} of variance)" for k in range(d)),
    )


class NonlinearProjection:
    """A nonlinear map (UMAP, t-SNE) of the encoded points, and inverse-distance interpolation
    for everything else.

    The map knows only where its N data points land. Another latent `z` lands where its `k`
    nearest data latents land, weighted by inverse squared distance (exactly on a data point's
    latent: that point's place); a plane position lifts to the same weighting of the latents of
    its `k` nearest map points (exactly on a map point: that point's latent). Both use k-d trees
    (scipy, when present; else a brute-force search) so a drag step costs well under 1 ms at
    70,000 points. The inverse is smooth between neighbours and is no true inverse of the map:
    `project(lift(p))` lands near `p` where the map is locally faithful, not exactly.
    """

    def __init__(
        self,
        kind: str,
        coords: np.ndarray,
        latents: np.ndarray,
        titles: tuple[str, str] = ("", ""),
        *,
        neighbours: int = 8,
        name: str = "",
    ) -> None:
        coords = np.ascontiguousarray(coords, dtype=np.float32)
        latents = np.ascontiguousarray(latents, dtype=np.float32)
        if coords.ndim != 2 or coords.shape[1] != 2 or len(coords) != len(latents):
            raise ValueError(
                f"need (N, 2) coordinates for N latents, got {coords.shape} for {latents.shape}"
            )
        if len(coords) == 0:
            raise ValueError("a map needs at least one point")
        self.kind = kind
        self.name = name or kind
        self.coords = coords
        self.latents = latents
        self.k = max(1, min(int(neighbours), len(coords)))
        self._titles = (titles[0] or f"{self.name} 1", titles[1] or f"{self.name} 2")
        self._plane_index = _NearestIndex(coords.astype(np.float64))
        self._latent_index: _NearestIndex | None = None  # built on the first project()

    @property
    def titles(self) -> tuple[str, str]:
        return self._titles

    @property
    def latent_dim(self) -> int:
        return int(self.latents.shape[1])

    def bounds(self) -> tuple[float, float, float, float]:
        """(x_min, x_max, y_min, y_max) of the map's points."""
        lo, hi = self.coords.min(axis=0), self.coords.max(axis=0)
        return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])

    def project(self, z: np.ndarray) -> np.ndarray:
        """(..., 2) plane positions of latents (..., d): the map's own place for a data point."""
        z = np.asarray(z, np.float32)
        flat = z.reshape(-1, z.shape[-1])
        if flat.shape == self.latents.shape and np.array_equal(flat, self.latents):
            return self.coords.reshape(*z.shape[:-1], 2).copy()
        if self._latent_index is None:
            self._latent_index = _NearestIndex(self.latents.astype(np.float64))
        out = _interpolate(self._latent_index, flat, self.coords, self.k)
        return out.reshape(*z.shape[:-1], 2)

    def lift(self, point: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
        """The latent at plane position `point`: its nearest map points' latents, blended."""
        return self.lift_many(np.asarray(point, np.float32).reshape(1, 2))[0]

    def lift_many(self, points: np.ndarray) -> np.ndarray:
        """(M, d) latents at (M, 2) plane positions."""
        points = np.asarray(points, np.float64).reshape(-1, 2)
        return _interpolate(self._plane_index, points, self.latents, self.k)


class _NearestIndex:
    """The k nearest rows of a point set: scipy's cKDTree when scipy is there, else brute force."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data
        try:
            from scipy.spatial import cKDTree
        except ImportError:  # pragma: no cover - scipy comes with umap-learn
            self._tree = None
        else:
            self._tree = cKDTree(data)

    def query(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(M, k) distances and indices, nearest first."""
        queries = np.asarray(queries, np.float64).reshape(-1, self.data.shape[1])
        if self._tree is not None:
            d, i = self._tree.query(queries, k=k)
            return d.reshape(len(queries), k), i.reshape(len(queries), k)
        out_d = np.empty((len(queries), k))
        out_i = np.empty((len(queries), k), np.int64)
        for row, q in enumerate(queries):
            d2 = np.einsum("ij,ij->i", self.data - q, self.data - q)
            near = np.argpartition(d2, k - 1)[:k] if k < len(d2) else np.arange(len(d2))
            near = near[np.argsort(d2[near])]
            out_d[row], out_i[row] = np.sqrt(d2[near]), near
        return out_d, out_i


def _interpolate(index: _NearestIndex, queries: np.ndarray, values: np.ndarray, k: int):
    """Inverse-squared-distance blend of `values` at each query's k nearest indexed rows; a
    query that sits on a row (distance ~0) takes that row's value exactly."""
    distances, near = index.query(queries, k)
    weights = 1.0 / np.maximum(distances, 1e-12) ** 2
    exact = distances[:, 0] <= 1e-9
    weights[exact] = 0.0
    weights[exact, 0] = 1.0
    weights /= weights.sum(axis=1, keepdims=True)
    blended = np.einsum("mk,mkd->md", weights, values[near].astype(np.float64))
    return blended.astype(np.float32)
