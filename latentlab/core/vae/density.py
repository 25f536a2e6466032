"""Class-fitted latent densities: a Gaussian mixture per class over the encoded training set.

A VAE's aggregate posterior q(z|y) = mean over the class's images of q(z|x) is not the prior
N(0, I) it was pulled towards: with a KL weight of 1 it has holes and ridges, and styles drawn from
N(0, I) land where no training digit went, which is what makes prior samples blurry. A mixture of
Gaussians fitted per class to z ~ q(z|x) of the training set samples where the digits are.

Plain numpy (EM of our own, no scikit-learn): the explorer samples from the mixture with numpy
alone, and fitting 10 classes of 6,000 16-D points takes a few seconds. The number of components
(1..MAX_COMPONENTS) and full or diagonal covariances are chosen per class by the log-likelihood of
a held-out tenth of the class's points; the chosen mixture is then refitted on all of them.

`heldout_gain` is the mean over held-out points of log q_mix(z|y) - log N(z; 0, I) in nats: a
lower bound (up to the mixture's fit) on KL(q(z|y) || N(0, I)), how far the aggregate posterior
is from the prior.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

MAX_COMPONENTS = 8
MAX_TEMPERATURE = 2.0  # beyond, samples leave the data the mixtures were fitted to
COVARIANCES = ("full", "diag")
REG_COVAR = 1e-4  # added to every covariance's diagonal: no component collapses onto one point
HELDOUT_FRACTION = 0.1
EM_ITERATIONS = 60
EM_TOLERANCE = 1e-3  # nats per point: EM stops when the mean log-likelihood gains less
SELECTION_MARGIN = 0.01  # nats per held-out point a more complex mixture must gain
SELECTION_POINTS = 2000  # per class: the choice of mixture is made on this many training points
MIN_POINTS_PER_COMPONENT = 20
LOG_2PI = math.log(2 * math.pi)
KIND = "class-gmm"


@dataclass(frozen=True)
class LatentDensity:
    """One Gaussian mixture per class (a plain VAE: one class), padded to the same K.

    Unused component slots of a class have weight 0 (their means 0, their factors the identity).
    """

    weights: np.ndarray  # (C, K) float32, each row sums to 1
    means: np.ndarray  # (C, K, d) float32
    scale_tril: np.ndarray  # (C, K, d, d) float32: lower Cholesky factors of the covariances
    components: tuple[int, ...]  # components used, per class
    covariance: tuple[str, ...]  # "full" or "diag", per class
    heldout_gain: float  # nats per point, see the module doc
    # Sampling temperature: each component's noise is scaled by it (the "truncation" of GAN
    # papers). Below 1 the samples keep nearer each component's centre, so they read as their
    # class more often and look cleaner, at some cost in variety; 1 is the fitted density.
    temperature: float = 1.0

    def __post_init__(self) -> None:
        check_density(self)

    @property
    def num_classes(self) -> int:
        return int(self.weights.shape[0])

    @property
    def latent_dim(self) -> int:
        return int(self.means.shape[-1])

    def sample(self, count: int, class_index: int | None, rng: np.random.Generator) -> np.ndarray:
        """float32 (count, d) latents of class `class_index` (None: any class, uniformly)."""
        c = np.full(count, class_index) if class_index is not None else None
        if c is None:
            c = rng.integers(0, self.num_classes, size=count)
        if not np.all((c >= 0) & (c < self.num_classes)):
            raise ValueError(f"class must be in 0..{self.num_classes - 1}, got {class_index}")
        w = self.weights.astype(np.float64)[c]
        u = rng.random(count)[:, None]
        k = np.minimum((u > np.cumsum(w, axis=1)).sum(axis=1), self.weights.shape[1] - 1)
        eps = rng.standard_normal((count, self.latent_dim)) * self.temperature
        z = self.means[c, k] + np.einsum("nij,nj->ni", self.scale_tril[c, k], eps)
        return z.astype(np.float32)

    def log_prob(self, z: np.ndarray, classes: np.ndarray | int) -> np.ndarray:
        """log q_mix(z | class) per point, float64 (N,)."""
        z = np.atleast_2d(np.asarray(z, np.float64))
        classes = np.broadcast_to(np.asarray(classes), (len(z),))
        out = np.empty(len(z))
        for c in np.unique(classes):
            rows = classes == c
            k = self.components[c]
            log_w = np.log(self.weights[c, :k].astype(np.float64))
            comp = _component_log_probs(z[rows], self.means[c, :k], self.scale_tril[c, :k])
            out[rows] = _logsumexp(comp + log_w, axis=1)
        return out

    def gain_over_prior(self, z: np.ndarray, classes: np.ndarray | int) -> float:
        """Mean of log q_mix(z|y) - log N(z; 0, I) in nats."""
        z = np.atleast_2d(np.asarray(z, np.float64))
        return float(np.mean(self.log_prob(z, classes) - standard_normal_log_prob(z)))

    def describe(self) -> str:
        """One line: 'class mixtures of 1-8 components (full covariances), +12.3 nats over N(0, I)'."""
        low, high = min(self.components), max(self.components)
        count = f"{low}" if low == high else f"{low}-{high}"
        kinds = sorted(set(self.covariance))
        what = "class mixtures" if self.num_classes > 1 else "a mixture"
        sampled = (
            "" if self.temperature == 1.0 else f", sampled at temperature {self.temperature:g}"
        )
        return (
            f"{what} of {count} Gaussians ({'/'.join(kinds)} covariances), held-out gain "
            f"{self.heldout_gain:+.1f} nats over N(0, I){sampled}"
        )

    def at_temperature(self, temperature: float) -> LatentDensity:
        """The same mixtures, sampled at `temperature` (0 < T <= MAX_TEMPERATURE)."""
        return replace(self, temperature=float(temperature))

    def metadata(self) -> dict:
        return {
            "kind": KIND,
            "components": list(self.components),
            "covariance": list(self.covariance),
            "heldout_gain_nats": float(self.heldout_gain),
            "temperature": float(self.temperature),
        }


def check_density(density: LatentDensity) -> None:
    """Shapes, finiteness, weights and factors that make a proper mixture, or ValueError."""
    w, m, s = density.weights, density.means, density.scale_tril
    if w.ndim != 2 or m.ndim != 3 or s.ndim != 4:
        raise ValueError("density tensors must be weights (C, K), means (C, K, d), (C, K, d, d)")
    c, k = w.shape
    d = m.shape[-1]
    if m.shape != (c, k, d) or s.shape != (c, k, d, d) or not 1 <= k <= MAX_COMPONENTS:
        raise ValueError(f"density means and factors must be ({c}, {k}, d) and ({c}, {k}, d, d)")
    for name, a in (("weights", w), ("means", m), ("scale_tril", s)):
        if a.dtype != np.float32 or not np.isfinite(a).all():
            raise ValueError(f"density {name} must be finite float32")
    if len(density.components) != c or len(density.covariance) != c:
        raise ValueError(f"density needs components and covariance for each of {c} classes")
    if not all(
        isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= k for n in density.components
    ):
        raise ValueError(f"density components must be whole numbers in 1..{k}")
    if not all(kind in COVARIANCES for kind in density.covariance):
        raise ValueError(f"density covariance must be one of {', '.join(COVARIANCES)}")
    if (w < 0).any() or not np.allclose(w.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError("density weights must be >= 0 and sum to 1 for each class")
    for ci, n in enumerate(density.components):
        if (w[ci, n:] != 0).any():
            raise ValueError("density weights of unused components must be 0")
    if np.abs(m).max(initial=0) > 1e4 or np.abs(s).max(initial=0) > 1e4:
        raise ValueError("density holds values beyond 1e4, which no encoder gives")
    if (np.triu(s, 1) != 0).any():
        raise ValueError("density scale_tril must be lower triangular")
    if not (np.diagonal(s, axis1=-2, axis2=-1) > 0).all():
        raise ValueError("density scale_tril must have a positive diagonal")
    if not isinstance(density.heldout_gain, float) or not math.isfinite(density.heldout_gain):
        raise ValueError("density heldout_gain must be a finite number")
    t = density.temperature
    if not isinstance(t, float) or not (0.0 < t <= MAX_TEMPERATURE):
        raise ValueError(f"density temperature must be a number in (0, {MAX_TEMPERATURE:g}]")


def standard_normal_log_prob(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, np.float64)
    return -0.5 * (np.square(z).sum(axis=-1) + z.shape[-1] * LOG_2PI)


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    top = a.max(axis=axis, keepdims=True)
    return (top + np.log(np.exp(a - top).sum(axis=axis, keepdims=True))).squeeze(axis)


def _component_log_probs(x: np.ndarray, means: np.ndarray, tril: np.ndarray) -> np.ndarray:
    """(N, K) log N(x; mean_k, L_k L_k^T)."""
    d = x.shape[1]
    out = np.empty((len(x), len(means)))
    for k in range(len(means)):
        inv = np.linalg.inv(tril[k].astype(np.float64))
        y = (x - means[k]) @ inv.T
        log_det = np.log(np.diagonal(tril[k]).astype(np.float64)).sum()
        out[:, k] = -0.5 * np.square(y).sum(axis=1) - log_det - 0.5 * d * LOG_2PI
    return out


@dataclass
class Mixture:
    """One fitted mixture, float64 while fitting."""

    weights: np.ndarray  # (K,)
    means: np.ndarray  # (K, d)
    tril: np.ndarray  # (K, d, d)
    covariance: str

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        return _logsumexp(_component_log_probs(x, self.means, self.tril) + np.log(self.weights), 1)


def _kmeans_init(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeds and five Lloyd steps: hard responsibilities (N, K) to start EM from."""
    centres = [x[rng.integers(len(x))]]
    for _ in range(1, k):
        d2 = np.min([np.square(x - c).sum(1) for c in centres], axis=0)
        p = d2 / d2.sum() if d2.sum() > 0 else None
        centres.append(x[rng.choice(len(x), p=p)])
    c = np.array(centres)
    for _ in range(5):
        assign = np.argmin(((x[:, None, :] - c[None]) ** 2).sum(-1), axis=1)
        for j in range(k):
            if (assign == j).any():
                c[j] = x[assign == j].mean(0)
    assign = np.argmin(((x[:, None, :] - c[None]) ** 2).sum(-1), axis=1)
    return np.eye(k)[assign]


def _m_step(x: np.ndarray, resp: np.ndarray, covariance: str) -> Mixture:
    d = x.shape[1]
    nk = resp.sum(0) + 1e-10
    means = (resp.T @ x) / nk[:, None]
    trils = []
    for k in range(len(nk)):
        diff = x - means[k]
        if covariance == "full":
            cov = (resp[:, k, None] * diff).T @ diff / nk[k] + REG_COVAR * np.eye(d)
            trils.append(np.linalg.cholesky(cov))
        else:
            var = (resp[:, k, None] * diff**2).sum(0) / nk[k] + REG_COVAR
            trils.append(np.diag(np.sqrt(var)))
    return Mixture(nk / nk.sum(), means, np.array(trils), covariance)


def fit_mixture(x: np.ndarray, k: int, covariance: str, rng: np.random.Generator) -> Mixture:
    """EM for a k-component Gaussian mixture on points x (N, d)."""
    x = np.asarray(x, np.float64)
    resp = _kmeans_init(x, k, rng) if k > 1 else np.ones((len(x), 1))
    mix = _m_step(x, resp, covariance)
    previous = -np.inf
    for _ in range(EM_ITERATIONS):
        log_joint = _component_log_probs(x, mix.means, mix.tril) + np.log(mix.weights)
        log_px = _logsumexp(log_joint, axis=1)
        resp = np.exp(log_joint - log_px[:, None])
        mix = _m_step(x, resp, covariance)
        mean = float(log_px.mean())
        if mean - previous < EM_TOLERANCE:
            break
        previous = mean
    return mix


def select_mixture(
    x: np.ndarray, rng: np.random.Generator, max_components: int = MAX_COMPONENTS
) -> tuple[Mixture, float]:
    """The mixture (components, covariance) with the best held-out likelihood, refitted on all
    points, and its held-out gain over N(0, I) in nats per point."""
    x = np.asarray(x, np.float64)
    order = rng.permutation(len(x))
    held = max(1, int(len(x) * HELDOUT_FRACTION)) if len(x) >= 10 else 0
    test, train = (x[order[:held]], x[order[held:]]) if held else (x, x)
    train = train[:SELECTION_POINTS]  # already shuffled; the final refit takes every point
    tried: list[tuple[float, int, int, str]] = []  # (score, parameters, components, covariance)
    d = x.shape[1]
    for covariance in COVARIANCES:
        score_before = -np.inf
        for k in range(1, max_components + 1):
            if k > 1 and len(train) < k * MIN_POINTS_PER_COMPONENT:
                break
            score = float(fit_mixture(train, k, covariance, rng).log_prob(test).mean())
            per = d * (d + 1) // 2 if covariance == "full" else d
            tried.append((score, k * (1 + d + per), k, covariance))
            if score <= score_before + SELECTION_MARGIN:  # stopped rising: more only overfits
                break
            score_before = score
    # The simplest mixture within SELECTION_MARGIN of the best held-out score: two components
    # that fit one blob as well as one does are noise, not structure.
    top = max(t[0] for t in tried)
    score, _, k, covariance = min(
        (t for t in tried if t[0] >= top - SELECTION_MARGIN), key=lambda t: t[1]
    )
    gain = score - float(standard_normal_log_prob(test).mean())
    return fit_mixture(x, k, covariance, rng), gain


def fit_class_density(
    z: np.ndarray,
    labels: np.ndarray | None,
    num_classes: int,
    seed: int = 0,
    max_components: int = MAX_COMPONENTS,
) -> LatentDensity:
    """A mixture per class over latents z (N, d) with their labels (None: one mixture for all)."""
    z = np.asarray(z, np.float64)
    rng = np.random.default_rng(seed)
    classes = 1 if labels is None else num_classes
    labels = np.zeros(len(z), np.int64) if labels is None else np.asarray(labels)
    fitted: list[Mixture] = []
    gains, counts = [], []
    for c in range(classes):
        points = z[labels == c]
        if len(points) < 2:
            raise ValueError(f"class {c} has {len(points)} encoded points; a density needs 2")
        mix, gain = select_mixture(points, rng, max_components)
        fitted.append(mix)
        gains.append(gain)
        counts.append(len(points))
    k = max(len(m.weights) for m in fitted)
    d = z.shape[1]
    weights = np.zeros((classes, k))
    means = np.zeros((classes, k, d))
    tril = np.broadcast_to(np.eye(d), (classes, k, d, d)).copy()
    for c, m in enumerate(fitted):
        n = len(m.weights)
        weights[c, :n], means[c, :n], tril[c, :n] = m.weights, m.means, np.tril(m.tril)
    return LatentDensity(
        weights=weights.astype(np.float32) / weights.astype(np.float32).sum(1, keepdims=True),
        means=means.astype(np.float32),
        scale_tril=tril.astype(np.float32),
        components=tuple(len(m.weights) for m in fitted),
        covariance=tuple(m.covariance for m in fitted),
        heldout_gain=float(np.average(gains, weights=counts)),
    )
