"""Probes on synthetic latents with planted factors: what is linear, what only the MLP reads."""

import numpy as np
import pytest

from latentlab.core.explore.disentanglement import Factor
from latentlab.core.explore.probe_report import probe_report_job, run_to_end
from latentlab.core.explore.probes import (
    dimension_table,
    fit_logistic,
    fit_ridge,
    one_blas_thread,
    probe_factor,
    r2,
    split,
)

N = 1500


@pytest.fixture
def latents():
    return np.random.default_rng(3).standard_normal((N, 5))


def test_the_split_is_a_fixed_80_20_partition():
    train, test = split(100, seed=4)
    assert len(train) == 80 and len(test) == 20
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(100))
    again = split(100, seed=4)
    np.testing.assert_array_equal(train, again[0])
    assert not np.array_equal(train, split(100, seed=5)[0])


def test_r2_by_hand():
    y = np.array([1.0, 2.0, 3.0])
    # SST = 1 + 0 + 1 = 2; predictions (1, 2, 4) leave SSE = 1: R^2 = 1 - 1/2.
    assert r2(y, np.array([1.0, 2.0, 4.0])) == pytest.approx(0.5)
    assert r2(y, np.full(3, 2.0)) == pytest.approx(0.0)


def test_ridge_and_logistic_recover_planted_linear_maps(latents):
    y = 3.0 * latents[:, 1] - latents[:, 4] + 0.5
    model = fit_ridge(latents, y, alpha=1e-6)
    np.testing.assert_allclose(model.predict(latents), y, atol=1e-4)
    labels = (latents[:, 2] > 0).astype(int) + 2 * (latents[:, 0] > 0.5)
    clf = fit_logistic(latents, labels)
    assert np.mean(clf.predict(latents) == labels) > 0.95


def test_a_linear_factor_is_read_by_both_probes_a_nonlinear_one_only_by_the_mlp(latents):
    train, test = split(N, 0)
    noise = np.random.default_rng(9).standard_normal(N)
    linear = probe_factor(
        latents, Factor("lin", 2 * latents[:, 0] + 0.1 * noise, False), train, test
    )
    assert linear.metric == "r2" and linear.linear > 0.95 and linear.mlp > 0.9
    bent = probe_factor(latents, Factor("abs", np.abs(latents[:, 3]), False), train, test)
    assert bent.linear < 0.1  # |z3| is symmetric: no straight line through it
    assert bent.mlp > 0.8 and bent.mlp > bent.linear + 0.5
    assert (bent.train_points, bent.test_points) == (len(train), len(test))


def test_a_label_probe_scores_held_out_accuracy_above_chance(latents):
    train, test = split(N, 0)
    labels = (latents[:, 2] > 0).astype(int)
    score = probe_factor(latents, Factor("class", labels, True), train, test)
    assert score.metric == "accuracy" and score.linear > 0.95 and score.mlp > 0.9
    assert 0.4 < score.chance < 0.6
    noise = np.random.default_rng(1).integers(0, 2, N)
    blind = probe_factor(latents, Factor("noise", noise, True), train, test)
    assert blind.linear < 0.62  # nothing to read: about chance


def test_probes_skip_what_cannot_be_probed_and_leave_out_missing_values(latents):
    train, test = split(N, 0)
    assert "same value" in probe_factor(latents, Factor("c", np.ones(N), False), train, test)
    values = latents[:, 0].copy()
    values[::2] = np.nan
    score = probe_factor(latents, Factor("half", values, False), train, test)
    assert score.train_points + score.test_points == N // 2
    assert score.linear > 0.95


def test_the_dimension_table_names_the_dimension_that_carries_each_factor(latents):
    factors = [
        Factor("slant", latents[:, 3] * 4, False),
        Factor("class", (latents[:, 1] > 0).astype(int), True),
    ]
    table = dimension_table(latents, factors)
    assert table.carrier(3)[0] == "slant" and table.carrier(1)[0] == "class"
    assert table.nmi[3, 0] > 5 * table.nmi[0, 0]
    assert table.correlation[3, 0] == pytest.approx(1.0)
    assert np.isnan(table.correlation[1, 1])  # no correlation with a class
    rows = table.as_list()
    assert (
        rows[3]["carries_most"] == "slant" and "class" not in rows[3]["abs_correlation_by_factor"]
    )


def test_the_report_job_is_deterministic_and_json_ready(latents):
    factors = [
        Factor("class", (latents[:, 0] > 0).astype(int), True),
        Factor("thickness", latents[:, 1] + 0.1 * latents[:, 2], False),
        Factor("predicted", (latents[:, 0] > 0.1).astype(int), True),
        Factor("flat", np.zeros(N), False),
    ]
    seen = []
    report = run_to_end(probe_report_job(latents, factors), seen.append)
    assert seen[-1].done == seen[-1].total and any("thickness" in p.stage for p in seen)
    again = run_to_end(probe_report_job(latents, factors))
    out = report.as_dict()
    assert out == again.as_dict()
    assert set(out["probes"]) == {"class", "thickness", "predicted"}
    assert out["probes"]["class"]["linear"]["accuracy"] > 0.95
    assert out["probes"]["thickness"]["mlp"]["r2"] > 0.9
    assert "same value" in out["probes_skipped"]["flat"]
    dis = out["disentanglement"]
    assert dis["factors"] == ["class", "thickness"]  # a prediction is not a factor
    assert set(dis["dci"]) == {"disentanglement", "completeness", "informativeness"}
    assert 0 <= dis["mig"] <= 1 and 0 <= dis["sap"] <= 1
    assert len(dis["per_dimension"]) == 5


def test_probes_run_numpys_blas_on_one_thread():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with one_blas_thread():
        blas = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
        assert blas and all(i["num_threads"] == 1 for i in blas)
