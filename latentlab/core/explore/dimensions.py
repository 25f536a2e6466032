"""Which latent directions a model uses: KL per direction, and decoded strips along them.

A unit whose q(z|x) equals the prior for every image carries no information (a "collapsed" or
inactive unit; Burda et al. 2015 count a unit active when its mean varies with x). Its average
KL(q(z|x) || p(z)) over the encoded points is then ~0, so that average is the test used here.
The figures come from the encoded points stored with a model: no data, no torch.
"""

from __future__ import annotations

import numpy as np

from .latent_model import LatentModel, decode_batch
from .projection import LinearBasis

ACTIVE_KL = 0.01  # nats: a direction with less average KL than this is called collapsed
STRIP_VALUES = np.linspace(-3.0, 3.0, 7).astype(np.float32)  # where each strip decodes


KL_BLOCK = 65_536  # rows per block of `kl_along`


def kl_along(mu: np.ndarray, logvar: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Average over images of KL(q(u|x) || N(0, 1)) for u = c . z, one value per unit row c.

    q(z|x) = N(mu, diag(exp(logvar))) projects onto a unit vector c as N(c . mu, sum c_i^2 var_i),
    and the prior N(0, I) as N(0, 1). For c = e_i this is the usual KL of dimension i.
    """
    c = np.asarray(directions, dtype=np.float64)
    n = len(mu)
    total = np.zeros(len(c), np.float64)
    # In blocks of rows: the float64 temporaries of a million points at once would take
    # several hundred megabytes for a few numbers.
    for start in range(0, n, KL_BLOCK):
        block_mu = np.asarray(mu[start : start + KL_BLOCK], dtype=np.float64)
        var = np.exp(np.asarray(logvar[start : start + KL_BLOCK], dtype=np.float64))
        m = block_mu @ c.T  # (B, K)
        v = var @ (c**2).T
        total += (0.5 * (v + m**2 - 1.0 - np.log(v))).sum(axis=0)
    return total / n if n else np.full(len(c), np.nan)


def kl_per_dimension(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """Average KL of each raw latent dimension over the encoded images, in nats."""
    return kl_along(mu, logvar, np.eye(np.asarray(mu).shape[1]))


def active(kl: np.ndarray, threshold: float = ACTIVE_KL) -> np.ndarray:
    """Boolean mask: which directions carry information (average KL above `threshold`)."""
    return np.asarray(kl) > threshold


def order_by_kl(kl: np.ndarray) -> list[int]:
    """Direction indices, most informative first (stable for ties)."""
    return [int(i) for i in np.argsort(-np.asarray(kl), kind="stable")]


def strip_latents(
    basis: LinearBasis, z: np.ndarray, values: np.ndarray = STRIP_VALUES
) -> np.ndarray:
    """(K, len(values), d) latents: z with its coordinate along each direction set to each value."""
    z = np.asarray(z, np.float32)
    coords = basis.project(z)
    delta = np.asarray(values, np.float32)[None, :] - coords[:, None]  # (K, V)
    return z[None, None, :] + delta[:, :, None] * basis.components[:, None, :]


def decode_strips(
    model: LatentModel,
    basis: LinearBasis,
    z: np.ndarray,
    condition: np.ndarray | None,
    values: np.ndarray = STRIP_VALUES,
) -> np.ndarray:
    """(K, len(values), H, W, C) images along every direction, decoded in one batched call."""
    return decode_batch(model, strip_latents(basis, z, values), condition)
