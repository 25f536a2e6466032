"""Which latent dimensions a model uses: KL per direction, slider bases, decoded strips.

A unit whose q(z|x) equals the prior for every image carries no information (a "collapsed" or
inactive unit; Burda et al. 2015 count a unit active when its mean varies with x). Its average
KL(q(z|x) || p(z)) over the test set is then ~0, so that average is the test used here. The
figures come from the encoded test set stored in the model file: no data, no torch.

A slider basis is a set of orthonormal directions the sliders move along: the raw latent axes,
or the principal components of the test latent means (the scatter's PCA axes are its first two
rows, same centre and signs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentlab.core.vae.numpy_net import NumpyVAE
from latentlab.core.vae.record import TestEncoding

ACTIVE_KL = 0.01  # nats: a direction with less average KL than this is called collapsed
STRIP_VALUES = np.linspace(-3.0, 3.0, 7).astype(np.float32)  # where each strip decodes


def kl_along(mu: np.ndarray, logvar: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Average over images of KL(q(u|x) || N(0, 1)) for u = c . z, one value per unit row c.

    q(z|x) = N(mu, diag(exp(logvar))) projects onto a unit vector c as N(c . mu, sum c_i^2 var_i),
    and the prior N(0, I) as N(0, 1). For c = e_i this is the usual KL of dimension i.
    """
    mu = np.asarray(mu, dtype=np.float64)
    var = np.exp(np.asarray(logvar, dtype=np.float64))
    c = np.asarray(directions, dtype=np.float64)
    m = mu @ c.T  # (N, K)
    v = var @ (c**2).T
    return (0.5 * (v + m**2 - 1.0 - np.log(v))).mean(axis=0)


def kl_per_dimension(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """Average KL of each raw latent dimension over the encoded images, in nats."""
    return kl_along(mu, logvar, np.eye(np.asarray(mu).shape[1]))


def active(kl: np.ndarray, threshold: float = ACTIVE_KL) -> np.ndarray:
    """Boolean mask: which directions carry information (average KL above `threshold`)."""
    return np.asarray(kl) > threshold


@dataclass(frozen=True)
class SliderBasis:
    """Orthonormal directions for the sliders: coordinates u = components @ (z - mean)."""

    kind: str  # "dims" or "pca"
    components: np.ndarray  # (D, D) float32, orthonormal rows
    mean: np.ndarray  # (D,) float32
    labels: tuple[str, ...]  # one per direction: "z3", "PC1"
    kl: np.ndarray  # (D,) average test KL along each direction, nats
    notes: tuple[str, ...]  # one per direction, for tooltips

    def __len__(self) -> int:
        return len(self.labels)

    def coords(self, z: np.ndarray) -> np.ndarray:
        return ((np.asarray(z, np.float32) - self.mean) @ self.components.T).astype(np.float32)

    def latent(self, coords: np.ndarray) -> np.ndarray:
        return (self.mean + np.asarray(coords, np.float32) @ self.components).astype(np.float32)

    def with_coord(self, z: np.ndarray, index: int, value: float) -> np.ndarray:
        """z moved along direction `index` only, so that its coordinate there is `value`."""
        z = np.asarray(z, np.float32)
        delta = float(value) - float(self.coords(z)[index])
        return (z + delta * self.components[index]).astype(np.float32)

    def order_by_kl(self) -> list[int]:
        """Direction indices, most informative first (stable for ties)."""
        return [int(i) for i in np.argsort(-self.kl, kind="stable")]

    def active(self) -> np.ndarray:
        return active(self.kl)


def dims_basis(encoding: TestEncoding) -> SliderBasis:
    """The raw latent axes z1..zD."""
    d = encoding.mu.shape[1]
    kl = kl_per_dimension(encoding.mu, encoding.logvar)
    notes = tuple(f"latent dimension z{i + 1}" for i in range(d))
    return SliderBasis(
        "dims",
        np.eye(d, dtype=np.float32),
        np.zeros(d, np.float32),
        tuple(f"z{i + 1}" for i in range(d)),
        kl,
        notes,
    )


def pca_basis(encoding: TestEncoding) -> SliderBasis:
    """All principal components of the test latent means, centred on their mean.

    Same maths as `latentlab.core.explorer.pca_axes` (SVD, sign fixed so the largest entry of each
    component is positive), so PC1 and PC2 here are the scatter's PCA axes.
    """
    mu = np.asarray(encoding.mu)
    mean = mu.mean(axis=0).astype(np.float32)
    _, s, vt = np.linalg.svd((mu - mean).astype(np.float64), full_matrices=False)
    d = mu.shape[1]
    if len(vt) < d:  # fewer images than dimensions: complete the basis (U is never formed)
        q, _ = np.linalg.qr(np.vstack([vt, np.eye(d)]).T)
        vt = q.T[:d]
    share = np.zeros(d)
    share[: len(s)] = s**2 / (float((s**2).sum()) or 1.0)
    components = vt.astype(np.float32)
    for row in components:
        if row[np.argmax(np.abs(row))] < 0:
            row *= -1
    kl = kl_along(encoding.mu, encoding.logvar, components)
    notes = tuple(f"principal component {k + 1}: {share[k]:.0%} of the variance" for k in range(d))
    return SliderBasis("pca", components, mean, tuple(f"PC{k + 1}" for k in range(d)), kl, notes)


def strip_latents(
    basis: SliderBasis, z: np.ndarray, values: np.ndarray = STRIP_VALUES
) -> np.ndarray:
    """(D, len(values), D) latents: z with its coordinate along each direction set to each value."""
    z = np.asarray(z, np.float32)
    coords = basis.coords(z)
    delta = np.asarray(values, np.float32)[None, :] - coords[:, None]  # (D, V)
    return z[None, None, :] + delta[:, :, None] * basis.components[:, None, :]


def decode_strips(
    net: NumpyVAE,
    basis: SliderBasis,
    z: np.ndarray,
    class_input: np.ndarray | None,
    values: np.ndarray = STRIP_VALUES,
) -> np.ndarray:
    """(D, len(values), 28, 28) images along every direction, decoded in one batched call."""
    latents = strip_latents(basis, z, values)
    d, v, _ = latents.shape
    flat = latents.reshape(d * v, -1)
    probs = None
    if class_input is not None:
        probs = np.broadcast_to(np.asarray(class_input, np.float32), (d * v, len(class_input)))
    return net.decode(flat, probs).reshape(d, v, 28, 28)
