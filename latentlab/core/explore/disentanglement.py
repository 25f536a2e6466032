"""MIG, DCI and SAP: the standard disentanglement scores, as google-research/disentanglement_lib
defines them (Locatello et al., 2019), on the posterior means of encoded points.

The arrays are (N, codes) for the codes and (N,) per factor (a true class, a measured stroke
attribute, a user's column). Where a metric needs discrete values, a continuous factor and every
code are discretised as disentanglement_lib's ``_histogram_discretize`` does: 20 equal-width bins
over the values' range (``np.digitize`` on ``np.histogram``'s edges less the last).

* **MIG** (Chen et al., 2018; ``mig.py``): the discrete mutual information (natural log, as
  ``sklearn.metrics.mutual_info_score``) between each discretised code and each factor, the gap
  between the top two codes per factor divided by the factor's entropy, averaged over factors.
* **SAP** (Kumar et al., 2018; ``sap_score.py``): a score per code and factor, then the mean over
  factors of the gap between the top two codes. A continuous factor uses the library's
  ``continuous_factors=True`` score, the squared correlation on the training split; a discrete
  factor its classification score, held-out accuracy of a classifier reading the one code. The
  library fits ``LinearSVC(C=0.01, class_weight="balanced")`` there; latentlab, with no
  scikit-learn, fits a one-input multinomial logistic regression (also linear in the code).
* **DCI** (Eastwood & Williams, 2018; ``dci.py``): an importance matrix R (codes x factors), then
  disentanglement = sum_i rho_i (1 - H_F(P_i.)) with P_ij = R_ij / sum_j R_ij, H_F the entropy in
  base F (factors) and rho_i code i's share of all importance; completeness = sum_j rho_j
  (1 - H_D(P~_.j)) in base D (codes); informativeness = mean held-out accuracy. The library's
  importance is that of gradient-boosted trees (sklearn's ``feature_importances_``, which sum to
  one per factor). latentlab's documented alternative: the absolute weights of a multinomial
  logistic regression on the standardised codes, summed over the classes and normalised to sum
  to one per factor; its held-out accuracy is the informativeness. As in the library, every
  factor is classified (a continuous one in its 20 bins).

A factor that cannot be scored (constant, one class, too few values) is skipped with the reason;
a score is None with a reason (too few codes, no factor left), never NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

NUM_BINS = 20  # disentanglement_lib's histogram_discretizer.num_bins in its study's configs
EPS = 1e-11  # added before the entropies of DCI, as dci.py does


@dataclass(frozen=True)
class Factor:
    """One ground-truth factor: its values per point and whether they are classes."""

    name: str
    values: np.ndarray  # (N,) class indices (discrete) or numbers (continuous); NaN: missing
    discrete: bool


@dataclass(frozen=True)
class DCI:
    disentanglement: float
    completeness: float
    informativeness: float  # mean held-out accuracy over the factors
    importance: np.ndarray  # (codes, factors), each column sums to one (or is all zero)
    per_factor_accuracy: tuple[float, ...] = ()


@dataclass
class DisentanglementScores:
    """MIG, DCI and SAP over `factors` (the names scored); None with a reason when undefined."""

    factors: tuple[str, ...]
    mig: float | None = None
    dci: DCI | None = None
    sap: float | None = None
    mig_per_factor: dict[str, float] = field(default_factory=dict)
    sap_per_factor: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # factor name -> why
    notes: list[str] = field(default_factory=list)  # why a score is None

    def as_dict(self) -> dict:
        """JSON-ready: mig, dci {disentanglement, completeness, informativeness}, sap, and why."""
        dci = None
        if self.dci is not None:
            dci = {
                "disentanglement": self.dci.disentanglement,
                "completeness": self.dci.completeness,
                "informativeness": self.dci.informativeness,
            }
        return {
            "mig": self.mig,
            "dci": dci,
            "sap": self.sap,
            "factors": list(self.factors),
            "mig_per_factor": dict(self.mig_per_factor),
            "sap_per_factor": dict(self.sap_per_factor),
            "skipped": dict(self.skipped),
            "notes": list(self.notes),
            "dci_importance": "absolute multinomial logistic-regression weights on standardised "
            "codes, normalised per factor (disentanglement_lib: gradient-boosted trees)",
        }


# --- discretisation and information ---------------------------------------------------------


def histogram_discretize(values: np.ndarray, num_bins: int = NUM_BINS) -> np.ndarray:
    """disentanglement_lib's ``_histogram_discretize`` of one array (N,): bin indices 1..num_bins."""
    values = np.asarray(values, np.float64)
    edges = np.histogram(values, num_bins)[1]
    return np.digitize(values, edges[:-1])


def _codes(labels: np.ndarray) -> np.ndarray:
    return np.unique(np.asarray(labels), return_inverse=True)[1].ravel()


def mutual_info(a: np.ndarray, b: np.ndarray) -> float:
    """Discrete mutual information of two label arrays in nats (sklearn's mutual_info_score)."""
    a, b = _codes(a), _codes(b)
    n = len(a)
    if n == 0:
        return 0.0
    joint = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(joint, (a, b), 1.0)
    p = joint / n
    pa = p.sum(axis=1, keepdims=True)
    pb = p.sum(axis=0, keepdims=True)
    nz = p > 0
    return float(max(0.0, (p[nz] * np.log(p[nz] / (pa @ pb)[nz])).sum()))


def discrete_entropy(a: np.ndarray) -> float:
    """H(a) in nats, as disentanglement_lib computes it (the mutual information of a with a)."""
    return mutual_info(a, a)


def discrete_factor(factor: Factor, values: np.ndarray | None = None) -> np.ndarray:
    """A factor's values as classes: discrete as they are, continuous in 20 histogram bins."""
    values = factor.values if values is None else values
    return np.asarray(values) if factor.discrete else histogram_discretize(values)


def factor_problem(factor: Factor, minimum: int = 10) -> str | None:
    """Why a factor cannot be scored (None: it can)."""
    values = np.asarray(factor.values, np.float64)
    finite = np.isfinite(values)
    if finite.sum() < minimum:
        return f"only {int(finite.sum())} points have a value (at least {minimum} are needed)"
    if np.ptp(values[finite]) == 0:
        return "the same value for every point (nothing to decode)"
    return None


# --- MIG -----------------------------------------------------------------------------------


def mutual_info_matrix(codes: np.ndarray, factors: Sequence[Factor]) -> np.ndarray:
    """(codes, factors) mutual information in nats, each code and continuous factor in 20 bins;
    a factor's missing values (NaN) are left out of its column."""
    codes = np.asarray(codes, np.float64)
    out = np.zeros((codes.shape[1], len(factors)))
    for j, factor in enumerate(factors):
        keep = np.isfinite(np.asarray(factor.values, np.float64))
        y = discrete_factor(factor, np.asarray(factor.values)[keep])
        for i in range(codes.shape[1]):
            out[i, j] = mutual_info(histogram_discretize(codes[keep, i]), y)
    return out


def factor_entropies(factors: Sequence[Factor]) -> np.ndarray:
    out = np.zeros(len(factors))
    for j, factor in enumerate(factors):
        keep = np.isfinite(np.asarray(factor.values, np.float64))
        out[j] = discrete_entropy(discrete_factor(factor, np.asarray(factor.values)[keep]))
    return out


def mig_from_matrix(m: np.ndarray, entropy: np.ndarray) -> np.ndarray:
    """Per factor: (top MI - second MI) / H(factor), as mig.py's ``_compute_mig``."""
    ordered = np.sort(m, axis=0)[::-1]
    return (ordered[0] - ordered[1]) / entropy


def mig(codes: np.ndarray, factors: Sequence[Factor]) -> tuple[float | None, dict[str, float]]:
    """MIG over `factors` (scorable ones only) and its value per factor; None with < 2 codes."""
    codes = np.asarray(codes)
    if codes.shape[1] < 2 or not factors:
        return None, {}
    m = mutual_info_matrix(codes, factors)
    gaps = mig_from_matrix(m, factor_entropies(factors))
    return float(gaps.mean()), {f.name: float(g) for f, g in zip(factors, gaps, strict=True)}


# --- SAP -----------------------------------------------------------------------------------


def squared_correlation(code: np.ndarray, factor: np.ndarray) -> float:
    """sap_score.py's continuous score: cov(code, factor)^2 / (var code var factor); 0 for a
    constant code."""
    cov = np.cov(np.asarray(code, np.float64), np.asarray(factor, np.float64), ddof=1)
    if cov[0, 0] <= 1e-12 or cov[1, 1] <= 0:
        return 0.0
    return float(cov[0, 1] ** 2 / (cov[0, 0] * cov[1, 1]))


def sap_score_matrix(
    train_codes: np.ndarray,
    test_codes: np.ndarray,
    train_factors: Sequence[Factor],
    test_factors: Sequence[Factor],
    seed: int = 0,
) -> np.ndarray:
    """(codes, factors): squared correlation (continuous, training split) or the held-out
    accuracy of a one-code logistic regression (discrete)."""
    from .probes import fit_logistic

    d = train_codes.shape[1]
    out = np.zeros((d, len(train_factors)))
    for j, (tr, te) in enumerate(zip(train_factors, test_factors, strict=True)):
        keep_tr = np.isfinite(np.asarray(tr.values, np.float64))
        keep_te = np.isfinite(np.asarray(te.values, np.float64))
        for i in range(d):
            x_tr = train_codes[keep_tr, i : i + 1]
            y_tr = np.asarray(tr.values)[keep_tr]
            if tr.discrete:
                clf = fit_logistic(x_tr, y_tr, seed=seed)
                pred = clf.predict(test_codes[keep_te, i : i + 1])
                out[i, j] = float(np.mean(pred == np.asarray(te.values)[keep_te]))
            else:
                out[i, j] = squared_correlation(x_tr[:, 0], y_tr)
    return out


def top_two_gap(matrix: np.ndarray) -> np.ndarray:
    """Per column: the largest entry less the second largest (sap_score.py)."""
    ordered = np.sort(matrix, axis=0)
    return ordered[-1] - ordered[-2]


# --- DCI -----------------------------------------------------------------------------------


def _entropy(p: np.ndarray, base: int) -> np.ndarray:
    """scipy.stats.entropy of each column of p (normalised first), in `base`; over one outcome
    the entropy is 0 (scipy's base 1 would divide 0 by 0)."""
    p = p / p.sum(axis=0, keepdims=True)
    if base < 2:
        return np.zeros(p.shape[1])
    return -(p * np.log(p)).sum(axis=0) / np.log(base)


def disentanglement_per_code(importance: np.ndarray) -> np.ndarray:
    """1 - H_F(P_i.) per code (dci.py), P_i. the code's importance over the F factors."""
    return 1.0 - _entropy(importance.T + EPS, importance.shape[1])


def disentanglement(importance: np.ndarray) -> float:
    """Per-code disentanglement weighted by each code's share of the importance (dci.py)."""
    per_code = disentanglement_per_code(importance)
    if importance.sum() == 0.0:
        importance = np.ones_like(importance)
    weight = importance.sum(axis=1) / importance.sum()
    return float(np.sum(per_code * weight))


def completeness_per_factor(importance: np.ndarray) -> np.ndarray:
    """1 - H_D(P~_.j) per factor (dci.py), over the D codes."""
    return 1.0 - _entropy(importance + EPS, importance.shape[0])


def completeness(importance: np.ndarray) -> float:
    per_factor = completeness_per_factor(importance)
    if importance.sum() == 0.0:
        importance = np.ones_like(importance)
    weight = importance.sum(axis=0) / importance.sum()
    return float(np.sum(per_factor * weight))


def importance_matrix(
    train_codes: np.ndarray,
    test_codes: np.ndarray,
    train_factors: Sequence[Factor],
    test_factors: Sequence[Factor],
    seed: int = 0,
) -> tuple[np.ndarray, list[float]]:
    """(codes, factors) importance (columns sum to one) and each factor's held-out accuracy."""
    from .probes import fit_logistic

    out = np.zeros((train_codes.shape[1], len(train_factors)))
    accuracy = []
    for j, (tr, te) in enumerate(zip(train_factors, test_factors, strict=True)):
        keep_tr = np.isfinite(np.asarray(tr.values, np.float64))
        keep_te = np.isfinite(np.asarray(te.values, np.float64))
        # One set of bins for both splits: the test points are classed as the training ones.
        y_all = np.concatenate([np.asarray(tr.values)[keep_tr], np.asarray(te.values)[keep_te]])
        y_all = discrete_factor(tr, y_all)
        y_tr, y_te = y_all[: keep_tr.sum()], y_all[keep_tr.sum() :]
        clf = fit_logistic(train_codes[keep_tr], y_tr, seed=seed)
        weight = np.abs(clf.weights_on_inputs).sum(axis=1)
        out[:, j] = weight / weight.sum() if weight.sum() > 0 else 0.0
        accuracy.append(float(np.mean(clf.predict(test_codes[keep_te]) == y_te)))
    return out, accuracy


def dci(
    train_codes: np.ndarray,
    test_codes: np.ndarray,
    train_factors: Sequence[Factor],
    test_factors: Sequence[Factor],
    seed: int = 0,
) -> DCI:
    importance, accuracy = importance_matrix(
        train_codes, test_codes, train_factors, test_factors, seed
    )
    return DCI(
        disentanglement=disentanglement(importance),
        completeness=completeness(importance),
        informativeness=float(np.mean(accuracy)),
        importance=importance,
        per_factor_accuracy=tuple(accuracy),
    )


# --- all three -----------------------------------------------------------------------------


def split_factor(factor: Factor, index: np.ndarray) -> Factor:
    return Factor(factor.name, np.asarray(factor.values)[index], factor.discrete)


def score_all(
    codes: np.ndarray,
    factors: Sequence[Factor],
    train: np.ndarray,
    test: np.ndarray,
    seed: int = 0,
) -> DisentanglementScores:
    """MIG (all points), SAP and DCI (fitted on `train`, scored on `test` indices)."""
    codes = np.asarray(codes, np.float64)
    skipped: dict[str, str] = {}
    usable = []
    for factor in factors:
        why = factor_problem(factor)
        if why is None:
            for name, part in (("training", train), ("held-out", test)):
                if why is None:
                    why = factor_problem(split_factor(factor, part), minimum=2)
                    why = None if why is None else f"in the {name} split: {why}"
        if why is None:
            usable.append(factor)
        else:
            skipped[factor.name] = why
    scores = DisentanglementScores(tuple(f.name for f in usable), skipped=skipped)
    if not usable:
        scores.notes.append("no factor to score (no labels or attributes with values)")
        return scores
    if codes.shape[1] < 2:
        scores.notes.append("MIG and SAP need at least two latent dimensions (a top-two gap)")
    else:
        scores.mig, scores.mig_per_factor = mig(codes, usable)
    train_f = [split_factor(f, train) for f in usable]
    test_f = [split_factor(f, test) for f in usable]
    if codes.shape[1] >= 2:
        matrix = sap_score_matrix(codes[train], codes[test], train_f, test_f, seed)
        gaps = top_two_gap(matrix)
        scores.sap = float(gaps.mean())
        scores.sap_per_factor = {f.name: float(g) for f, g in zip(usable, gaps, strict=True)}
    scores.dci = dci(codes[train], codes[test], train_f, test_f, seed)
    if len(usable) == 1:
        scores.notes.append("one factor: DCI disentanglement is 1 by definition")
    return scores
