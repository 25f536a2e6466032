"""How much of a label or an attribute can be read from z: linear and small-MLP probes.

A probe is a model fitted on 80 % of the encoded points (posterior means) and scored on the other
20 % (one fixed split per seed): for a continuous attribute, ridge regression (linear) and a
one-hidden-layer MLP, scored by held-out R^2 = 1 - SSE / SST (SST about the held-out mean, so a
probe that predicts the mean scores 0 and a worse one below 0); for a label, multinomial
logistic regression (linear) and the MLP with a softmax, scored by held-out accuracy. A gap
between the two says the information is there but not linearly.

Everything is numpy (and scipy's L-BFGS for the logistic regression), deterministic for a seed,
and bounded: at most `MAX_POINTS` points, a fixed number of full-batch Adam steps for the MLP.
The per-dimension table reads each latent dimension against each factor by normalised mutual
information (MIG's matrix divided by the factor's entropy) and, for continuous factors, the
absolute Pearson correlation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .disentanglement import Factor, factor_entropies, factor_problem, mutual_info_matrix

TRAIN_SHARE = 0.8
MAX_POINTS = 20_000  # more points than this are subsampled (by the seed) before probing
RIDGE_ALPHA = 1.0  # on standardised inputs: a light touch for N in the thousands
LOGISTIC_L2 = 1e-4  # per point, on the weights (not the biases)
LOGISTIC_ITERATIONS = 200
MLP_HIDDEN = 64
MLP_STEPS = 400
MLP_LEARNING_RATE = 0.01
MLP_WEIGHT_DECAY = 1e-4


def one_blas_thread() -> Any:
    """A context in which numpy's BLAS runs on one thread (threadpoolctl; a no-op without it).

    The probes' products are tall and thin ((8000, 8) by (8, 64)): OpenBLAS splits them over
    every core, and on a busy machine its threads wait on each other: a 400-step MLP took 58 s
    instead of 2.6 s on two shared cores. One thread is as fast when idle, and leaves the other
    cores to the GUI thread.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - it comes with scikit-image's and umap's stack
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def split(n: int, seed: int = 0, share: float = TRAIN_SHARE) -> tuple[np.ndarray, np.ndarray]:
    """Train and held-out indices: one permutation of range(n) by `seed`, cut at `share`."""
    order = np.random.default_rng(seed).permutation(n)
    cut = round(n * share)
    return np.sort(order[:cut]), np.sort(order[cut:])


@dataclass(frozen=True)
class Standardiser:
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Standardiser:
        x = np.asarray(x, np.float64)
        scale = x.std(axis=0)
        return cls(x.mean(axis=0), np.where(scale > 1e-12, scale, 1.0))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, np.float64) - self.mean) / self.scale


# --- linear probes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Ridge:
    standardise: Standardiser
    weights: np.ndarray  # (d,) on standardised inputs
    bias: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.standardise(x) @ self.weights + self.bias


def fit_ridge(x: np.ndarray, y: np.ndarray, alpha: float = RIDGE_ALPHA) -> Ridge:
    """Least squares with an L2 penalty `alpha` on the weights of the standardised inputs."""
    std = Standardiser.fit(x)
    xs = std(x)
    y = np.asarray(y, np.float64)
    mean = float(y.mean())
    gram = xs.T @ xs + alpha * np.eye(xs.shape[1])
    weights = np.linalg.solve(gram, xs.T @ (y - mean))
    return Ridge(std, weights, mean)


@dataclass(frozen=True)
class Logistic:
    standardise: Standardiser
    weights: np.ndarray  # (d, classes) on standardised inputs
    bias: np.ndarray  # (classes,)
    classes: np.ndarray  # (classes,) the label of each column

    def scores(self, x: np.ndarray) -> np.ndarray:
        return self.standardise(x) @ self.weights + self.bias

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.classes[self.scores(x).argmax(axis=1)]

    @property
    def weights_on_inputs(self) -> np.ndarray:
        """(d, classes) weights on the standardised inputs (DCI's importance reads these)."""
        return self.weights


def _softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = LOGISTIC_L2, seed: int = 0) -> Logistic:
    """Multinomial logistic regression (softmax, mean cross-entropy + l2 |W|^2) by L-BFGS.

    Starts from zero weights, so the fit is the same whatever the seed (kept for the API).
    """
    from scipy.optimize import minimize

    del seed
    std = Standardiser.fit(x)
    xs = std(x)
    classes, target = np.unique(np.asarray(y), return_inverse=True)
    n, d = xs.shape
    k = len(classes)
    if k < 2:
        return Logistic(std, np.zeros((d, max(k, 1))), np.zeros(max(k, 1)), classes)
    one_hot = np.eye(k)[target.ravel()]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta[: d * k].reshape(d, k)
        b = theta[d * k :]
        p = _softmax(xs @ w + b)
        value = -np.log(np.clip(p[one_hot > 0], 1e-300, None)).mean() + l2 * (w * w).sum()
        g = (p - one_hot) / n
        grad_w = xs.T @ g + 2 * l2 * w
        return float(value), np.concatenate([grad_w.ravel(), g.sum(axis=0)])

    result = minimize(
        loss,
        np.zeros(d * k + k),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": LOGISTIC_ITERATIONS},
    )
    theta = result.x
    return Logistic(std, theta[: d * k].reshape(d, k), theta[d * k :], classes)


# --- the MLP probe -----------------------------------------------------------------------


@dataclass(frozen=True)
class Mlp:
    standardise: Standardiser
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    target_mean: float = 0.0  # regression: outputs are standardised targets
    target_scale: float = 1.0
    classes: np.ndarray | None = None  # classification: the label of each output

    def outputs(self, x: np.ndarray) -> np.ndarray:
        h = np.maximum(self.standardise(x) @ self.w1 + self.b1, 0.0)
        return h @ self.w2 + self.b2

    def predict(self, x: np.ndarray) -> np.ndarray:
        out = self.outputs(x)
        if self.classes is not None:
            return self.classes[out.argmax(axis=1)]
        return out[:, 0] * self.target_scale + self.target_mean


def fit_mlp(
    x: np.ndarray,
    y: np.ndarray,
    *,
    discrete: bool,
    seed: int = 0,
    hidden: int = MLP_HIDDEN,
    steps: int = MLP_STEPS,
    learning_rate: float = MLP_LEARNING_RATE,
    weight_decay: float = MLP_WEIGHT_DECAY,
) -> Mlp:
    """One hidden ReLU layer, full-batch Adam for `steps` steps: MSE on the standardised target
    (continuous) or softmax cross-entropy (discrete). Deterministic for a seed."""
    rng = np.random.default_rng(seed)
    std = Standardiser.fit(x)
    xs = std(x)
    n, d = xs.shape
    classes = None
    mean, scale = 0.0, 1.0
    if discrete:
        classes, index = np.unique(np.asarray(y), return_inverse=True)
        target = np.eye(len(classes))[index.ravel()]
    else:
        y = np.asarray(y, np.float64)
        mean, scale = float(y.mean()), float(y.std()) or 1.0
        target = ((y - mean) / scale)[:, None]
    k = target.shape[1]
    params = [
        rng.standard_normal((d, hidden)) * np.sqrt(2.0 / d),
        np.zeros(hidden),
        rng.standard_normal((hidden, k)) * np.sqrt(1.0 / hidden),
        np.zeros(k),
    ]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    beta1, beta2 = 0.9, 0.999
    for step in range(1, steps + 1):
        w1, b1, w2, b2 = params
        pre = xs @ w1 + b1
        h = np.maximum(pre, 0.0)
        out = h @ w2 + b2
        g_out = (_softmax(out) - target) / n if discrete else 2.0 * (out - target) / n
        g_w2 = h.T @ g_out + weight_decay * w2
        g_h = (g_out @ w2.T) * (pre > 0)
        g_w1 = xs.T @ g_h + weight_decay * w1
        grads = [g_w1, g_h.sum(axis=0), g_w2, g_out.sum(axis=0)]
        for i, g in enumerate(grads):
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            m_hat = m[i] / (1 - beta1**step)
            v_hat = v[i] / (1 - beta2**step)
            params[i] = params[i] - learning_rate * m_hat / (np.sqrt(v_hat) + 1e-8)
    return Mlp(std, *params, target_mean=mean, target_scale=scale, classes=classes)


# --- scoring -------------------------------------------------------------------------------


def r2(y: np.ndarray, predicted: np.ndarray) -> float:
    """1 - SSE / SST about the mean of `y` (0: no better than the mean)."""
    y = np.asarray(y, np.float64)
    sst = float(((y - y.mean()) ** 2).sum())
    sse = float(((y - np.asarray(predicted, np.float64)) ** 2).sum())
    return 1.0 - sse / sst if sst > 0 else 0.0


@dataclass(frozen=True)
class ProbeScore:
    """Held-out scores of one factor's two probes; `metric` is "accuracy" or "r2"."""

    name: str
    metric: str
    linear: float
    mlp: float
    train_points: int
    test_points: int
    chance: float  # accuracy of always answering the commonest class; 0 for R^2

    def as_dict(self) -> dict:
        return {
            "linear": {self.metric: self.linear},
            "mlp": {self.metric: self.mlp},
            "train_points": self.train_points,
            "test_points": self.test_points,
            "chance": self.chance,
        }


def probe_factor(
    codes: np.ndarray, factor: Factor, train: np.ndarray, test: np.ndarray, seed: int = 0
) -> ProbeScore | str:
    """Fit both probes of `factor` on `train`, score on `test`; a string says why not."""
    why = factor_problem(factor)
    if why is not None:
        return why
    values = np.asarray(factor.values)
    finite = np.isfinite(values.astype(np.float64))
    tr, te = train[finite[train]], test[finite[test]]
    if len(tr) < 2 or len(te) < 1:
        return "too few points with a value in the training or the held-out split"
    y_tr, y_te = values[tr], values[te]
    if len(np.unique(y_tr)) < 2:
        return "the same value for every training point (nothing to decode)"
    x_tr, x_te = codes[tr], codes[te]
    if factor.discrete:
        linear = float(np.mean(fit_logistic(x_tr, y_tr, seed=seed).predict(x_te) == y_te))
        mlp = fit_mlp(x_tr, y_tr, discrete=True, seed=seed)
        mlp_score = float(np.mean(mlp.predict(x_te) == y_te))
        common = np.unique(y_tr, return_counts=True)
        chance = float(np.mean(y_te == common[0][common[1].argmax()]))
        metric = "accuracy"
    else:
        linear = r2(y_te, fit_ridge(x_tr, y_tr).predict(x_te))
        mlp_score = r2(y_te, fit_mlp(x_tr, y_tr, discrete=False, seed=seed).predict(x_te))
        chance, metric = 0.0, "r2"
    return ProbeScore(factor.name, metric, linear, mlp_score, len(tr), len(te), chance)


# --- the per-dimension table ---------------------------------------------------------------


@dataclass(frozen=True)
class DimensionTable:
    """Each latent dimension against each factor: normalised MI and |correlation|."""

    factors: tuple[str, ...]
    nmi: np.ndarray  # (d, F) I(z_i; f_j) / H(f_j), codes and continuous factors in 20 bins
    correlation: np.ndarray  # (d, F) |Pearson r| (NaN for a discrete factor)

    def carrier(self, i: int) -> tuple[str, float]:
        """The factor dimension i carries most (by normalised MI) and that share."""
        j = int(np.argmax(self.nmi[i]))
        return self.factors[j], float(self.nmi[i, j])

    def as_list(self) -> list[dict]:
        out = []
        for i in range(self.nmi.shape[0]):
            name, share = self.carrier(i) if self.factors else ("", 0.0)
            out.append(
                {
                    "dimension": i,
                    "carries_most": name,
                    "normalised_mi": share,
                    "normalised_mi_by_factor": {
                        f: float(self.nmi[i, j]) for j, f in enumerate(self.factors)
                    },
                    "abs_correlation_by_factor": {
                        f: float(self.correlation[i, j])
                        for j, f in enumerate(self.factors)
                        if np.isfinite(self.correlation[i, j])
                    },
                }
            )
        return out


def dimension_table(codes: np.ndarray, factors: Sequence[Factor]) -> DimensionTable:
    codes = np.asarray(codes, np.float64)
    factors = [f for f in factors if factor_problem(f) is None]
    d = codes.shape[1]
    if not factors:
        return DimensionTable((), np.zeros((d, 0)), np.zeros((d, 0)))
    nmi = mutual_info_matrix(codes, factors) / factor_entropies(factors)
    corr = np.full((d, len(factors)), np.nan)
    for j, factor in enumerate(factors):
        if factor.discrete:
            continue
        y = np.asarray(factor.values, np.float64)
        keep = np.isfinite(y)
        for i in range(d):
            x = codes[keep, i]
            if x.std() > 1e-12:
                corr[i, j] = abs(float(np.corrcoef(x, y[keep])[0, 1]))
            else:
                corr[i, j] = 0.0
    return DimensionTable(tuple(f.name for f in factors), nmi, corr)
