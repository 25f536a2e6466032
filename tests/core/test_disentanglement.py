"""MIG, SAP and DCI against small cases worked out by hand (disentanglement_lib's definitions)."""

import math

import numpy as np
import pytest

from latentlab.core.explore.disentanglement import (
    Factor,
    completeness,
    discrete_entropy,
    disentanglement,
    histogram_discretize,
    mig,
    mutual_info,
    sap_score_matrix,
    score_all,
    squared_correlation,
    top_two_gap,
)

LN2 = math.log(2)
# Two independent binary factors, every combination equally often (4 points, repeated).
F0 = np.array([0, 0, 1, 1] * 5)
F1 = np.array([0, 1, 0, 1] * 5)
FACTORS = [Factor("f0", F0, True), Factor("f1", F1, True)]


def test_mutual_information_and_entropy_by_hand():
    assert discrete_entropy(F0) == pytest.approx(LN2)
    assert mutual_info(F0, F0) == pytest.approx(LN2)
    assert mutual_info(F0, F1) == pytest.approx(0.0, abs=1e-12)
    # c = f0 + f1 takes 0, 1, 1, 2: H(c) = 1.5 ln 2 and H(c | f0) = ln 2, so I(c; f0) = ln 2 / 2.
    assert mutual_info(F0 + F1, F0) == pytest.approx(0.5 * LN2)
    assert discrete_entropy(F0 + F1) == pytest.approx(1.5 * LN2)


def test_histogram_discretisation_is_disentanglement_libs():
    # 20 equal bins over [0, 1]: digitize on the edges less the last gives 1..20.
    np.testing.assert_array_equal(histogram_discretize(np.array([0.0, 0.5, 1.0])), [1, 11, 20])
    np.testing.assert_array_equal(histogram_discretize(np.array([0.0, 0.04, 0.06])), [1, 14, 20])


def test_mig_of_a_one_to_one_code_is_one_and_permuting_codes_keeps_it():
    constant = np.full(len(F0), 3.0)
    codes = np.stack([F0, F1, constant], axis=1).astype(float)
    score, per_factor = mig(codes, FACTORS)
    assert score == pytest.approx(1.0)
    assert per_factor == pytest.approx({"f0": 1.0, "f1": 1.0})
    permuted = codes[:, [2, 0, 1]] * np.array([1.0, -2.0, 10.0])  # order and scale do not matter
    assert mig(permuted, FACTORS)[0] == pytest.approx(1.0)


def test_mig_of_a_code_that_mixes_two_factors_by_hand():
    # Codes: c0 = f0 + f1 (mixes both), c1 = f0.
    # f0: I(c1; f0) = ln 2 and I(c0; f0) = ln 2 / 2, so the gap is (ln 2 - ln 2 / 2) / ln 2 = 1/2.
    # f1: I(c0; f1) = ln 2 / 2 and I(c1; f1) = 0, so the gap is (ln 2 / 2) / ln 2 = 1/2.
    codes = np.stack([F0 + F1, F0], axis=1).astype(float)
    score, per_factor = mig(codes, FACTORS)
    expected_f0 = (LN2 - 0.5 * LN2) / LN2
    expected_f1 = (0.5 * LN2 - 0.0) / LN2
    assert per_factor["f0"] == pytest.approx(expected_f0)
    assert per_factor["f1"] == pytest.approx(expected_f1)
    assert score == pytest.approx((expected_f0 + expected_f1) / 2)


def test_sap_continuous_score_is_the_squared_correlation_by_hand():
    factor = np.array([1.0, 2.0, 3.0, 4.0])
    shuffled = np.array([1.0, 3.0, 2.0, 4.0])
    # Deviations (-1.5, -0.5, 0.5, 1.5) and (-1.5, 0.5, -0.5, 1.5): the cross products sum to
    # 2.25 - 0.25 - 0.25 + 2.25 = 4, each sum of squares is 5, so r = 4 / 5 and r^2 = 0.64.
    assert squared_correlation(shuffled, factor) == pytest.approx((4 / 5) ** 2)
    assert squared_correlation(np.full(4, 2.0), factor) == 0.0  # a constant code scores 0
    codes = np.stack([factor, shuffled, np.full(4, 2.0)], axis=1)
    f = [Factor("f", factor, False)]
    matrix = sap_score_matrix(codes, codes, f, f)
    np.testing.assert_allclose(matrix[:, 0], [1.0, 0.64, 0.0])
    assert top_two_gap(matrix) == pytest.approx([1.0 - 0.64])


def test_sap_discrete_score_is_held_out_accuracy_of_one_code():
    # Training: code 0 equals the class; code 1 is constant. A classifier reading code 0 is
    # right on every held-out point; one reading code 1 answers one class: half are right.
    y_train = np.array([0, 1] * 10)
    y_test = np.array([0, 1, 1, 0])
    train = np.stack([y_train, np.zeros(20)], axis=1).astype(float)
    test = np.stack([y_test, np.zeros(4)], axis=1).astype(float)
    matrix = sap_score_matrix(
        train, test, [Factor("y", y_train, True)], [Factor("y", y_test, True)]
    )
    np.testing.assert_allclose(matrix[:, 0], [1.0, 0.5])
    assert top_two_gap(matrix)[0] == pytest.approx(1.0 - 0.5)


def test_dci_disentanglement_and_completeness_by_hand():
    # R (codes x factors) = [[1, 0], [1, 1]].
    # Code 0 has P = (1, 0): H = 0, so 1 - H = 1; code 1 has P = (1/2, 1/2): H_2 = 1, so 0.
    # Codes' shares of the importance: 1/3 and 2/3, so disentanglement = 1/3 * 1 + 2/3 * 0.
    # Factor 0 has P = (1/2, 1/2) over codes: 0; factor 1 has (0, 1): 1; shares 2/3 and 1/3.
    r = np.array([[1.0, 0.0], [1.0, 1.0]])
    assert disentanglement(r) == pytest.approx(1 / 3, abs=1e-6)
    assert completeness(r) == pytest.approx(1 / 3, abs=1e-6)
    identity = np.eye(3)
    assert disentanglement(identity) == pytest.approx(1.0, abs=1e-6)
    assert completeness(identity) == pytest.approx(1.0, abs=1e-6)
    # Every code uses every factor alike: nothing is disentangled or complete.
    assert disentanglement(np.ones((3, 3))) == pytest.approx(0.0, abs=1e-6)
    assert completeness(np.ones((3, 3))) == pytest.approx(0.0, abs=1e-6)


def _one_to_one(n=1200, seed=0):
    """Three codes; factor j is code j cut in thirds (3 classes); a fourth code is noise."""
    rng = np.random.default_rng(seed)
    codes = rng.standard_normal((n, 4))
    factors = [Factor(f"f{j}", np.digitize(codes[:, j], [-0.43, 0.43]), True) for j in range(3)]
    return codes, factors


def test_dci_and_sap_of_a_one_to_one_code_are_near_ideal():
    codes, factors = _one_to_one()
    train, test = np.arange(960), np.arange(960, 1200)
    scores = score_all(codes, factors, train, test)
    assert scores.dci.disentanglement > 0.9
    assert scores.dci.completeness > 0.9
    assert scores.dci.informativeness > 0.95
    assert scores.sap > 0.4  # each factor: one code reads it well, the next only at chance
    np.testing.assert_allclose(scores.dci.importance.sum(axis=0), 1.0)
    # Mixing: codes rotated by 45 degrees in the (0, 1) plane share factors 0 and 1.
    c, s = np.cos(np.pi / 4), np.sin(np.pi / 4)
    mixed = codes.copy()
    mixed[:, 0], mixed[:, 1] = c * codes[:, 0] - s * codes[:, 1], s * codes[:, 0] + c * codes[:, 1]
    worse = score_all(mixed, factors, train, test)
    assert worse.dci.disentanglement < scores.dci.disentanglement - 0.2
    assert worse.mig < scores.mig - 0.2


def test_a_constant_factor_is_skipped_with_a_reason_not_nan():
    codes, factors = _one_to_one(300)
    factors = [*factors, Factor("flat", np.full(300, 7.0), False)]
    scores = score_all(codes, factors, np.arange(240), np.arange(240, 300))
    assert "flat" not in scores.factors
    assert "same value" in scores.skipped["flat"]
    for value in (scores.mig, scores.sap, scores.dci.disentanglement, scores.dci.completeness):
        assert value is not None and math.isfinite(value)


def test_missing_values_are_left_out_of_a_factor():
    codes, factors = _one_to_one(300)
    values = factors[0].values.astype(float)
    values[::3] = np.nan
    holey = [Factor("f0", values, True), *factors[1:]]
    scores = score_all(codes, holey, np.arange(240), np.arange(240, 300))
    assert scores.factors == ("f0", "f1", "f2")
    assert math.isfinite(scores.mig) and scores.mig_per_factor["f0"] > 0.3


def test_one_code_has_no_top_two_gap_and_no_factor_gives_a_note():
    codes, factors = _one_to_one(300)
    scores = score_all(codes[:, :1], factors[:1], np.arange(240), np.arange(240, 300))
    assert scores.mig is None and scores.sap is None
    assert "at least two latent dimensions" in scores.notes[0]
    assert scores.dci is not None and scores.dci.disentanglement == pytest.approx(1.0)
    assert "one factor" in scores.notes[1]
    nothing = score_all(codes, [], np.arange(240), np.arange(240, 300))
    assert nothing.mig is None and nothing.dci is None and "no factor" in nothing.notes[0]
    as_json = nothing.as_dict()
    assert as_json["mig"] is None and as_json["dci"] is None
