"""Class-fitted latent densities: EM fit, choice of components, file round trip, sampling seams."""

import json
import math

import numpy as np
import pytest
from safetensors.numpy import load_file, save

from latentlab.core.errors import ModelFileError
from latentlab.core.explore.sampling import sample_grid
from latentlab.core.vae.checkpoint import METADATA_KEY, load_model, save_model
from latentlab.core.vae.density import (
    LatentDensity,
    fit_class_density,
    fit_mixture,
    standard_normal_log_prob,
)
from latentlab.core.vae.latent_model import VaeModel

from ..factories import TINY_CVAE, TINY_VAE, open_state, random_record


def _two_blobs(n: int, rng: np.random.Generator, centre: float = 3.0) -> np.ndarray:
    """n 2-D points, half around (-centre, 0) and half around (+centre, 0), std 0.3."""
    sign = np.where(np.arange(n) % 2 == 0, -1.0, 1.0)
    return np.stack([sign * centre, np.zeros(n)], 1) + 0.3 * rng.standard_normal((n, 2))


def _point_density(means: np.ndarray, scale: float = 1e-3) -> LatentDensity:
    """One narrow Gaussian per class at means[c] (C, d): samples land where a test expects."""
    c, d = means.shape
    return LatentDensity(
        weights=np.ones((c, 1), np.float32),
        means=means[:, None, :].astype(np.float32),
        scale_tril=np.broadcast_to(scale * np.eye(d), (c, 1, d, d)).astype(np.float32),
        components=(1,) * c,
        covariance=("diag",) * c,
        heldout_gain=1.0,
    )


def test_em_recovers_two_separated_blobs():
    rng = np.random.default_rng(0)
    mix = fit_mixture(_two_blobs(600, rng), 2, "full", rng)
    order = np.argsort(mix.means[:, 0])
    np.testing.assert_allclose(mix.means[order], [[-3, 0], [3, 0]], atol=0.1)
    np.testing.assert_allclose(mix.weights, [0.5, 0.5], atol=0.05)
    np.testing.assert_allclose(np.diagonal(mix.tril, axis1=1, axis2=2), 0.3, atol=0.05)


def test_held_out_likelihood_picks_two_components_for_two_blobs_and_one_for_one():
    rng = np.random.default_rng(1)
    one = 0.5 * rng.standard_normal((3000, 2)) + 1.0
    z = np.concatenate([_two_blobs(3000, rng), one])
    labels = np.repeat([0, 1], 3000)
    density = fit_class_density(z, labels, num_classes=2, seed=0)
    assert density.components[0] == 2
    assert density.components[1] == 1
    # Both classes are far from N(0, I): class 0's mixture is far more likely than the prior.
    assert density.heldout_gain > 1.0
    assert density.gain_over_prior(z[:3000], 0) > 2.0


def test_log_prob_of_one_gaussian_is_the_textbook_formula():
    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    tril = np.linalg.cholesky(cov)
    density = LatentDensity(
        weights=np.ones((1, 1), np.float32),
        means=np.array([[[1.0, -1.0]]], np.float32),
        scale_tril=tril[None, None].astype(np.float32),
        components=(1,),
        covariance=("full",),
        heldout_gain=0.0,
    )
    z = np.array([[0.5, 0.2], [3.0, -2.0]])
    diff = z - [1.0, -1.0]
    expected = -0.5 * (
        np.einsum("ni,ij,nj->n", diff, np.linalg.inv(cov), diff)
        + math.log(np.linalg.det(cov))
        + 2 * math.log(2 * math.pi)
    )
    np.testing.assert_allclose(density.log_prob(z, 0), expected, rtol=1e-5)
    np.testing.assert_allclose(
        standard_normal_log_prob(z), -0.5 * ((z**2).sum(1) + 2 * math.log(2 * math.pi))
    )


def test_samples_follow_the_fitted_mixture():
    rng = np.random.default_rng(2)
    density = fit_class_density(_two_blobs(800, rng), None, num_classes=10, seed=0)
    assert density.num_classes == 1  # a plain VAE: one mixture for all
    z = density.sample(4000, None, np.random.default_rng(3))
    assert z.shape == (4000, 2) and z.dtype == np.float32
    left = z[:, 0] < 0
    assert 0.45 < left.mean() < 0.55
    np.testing.assert_allclose(z[left].mean(0), [-3, 0], atol=0.05)
    np.testing.assert_allclose(z[left].std(0), [0.3, 0.3], atol=0.03)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a["weights"].__setitem__((0, 0), 0.3), "sum to 1"),
        (lambda a: a["scale_tril"].__setitem__((0, 0, 0, 1), 0.5), "lower triangular"),
        (lambda a: a["scale_tril"].__setitem__((0, 0, 1, 1), -1.0), "positive diagonal"),
        (lambda a: a["means"].__setitem__((0, 0, 0), np.nan), "finite"),
    ],
)
def test_a_broken_density_is_refused(change, message):
    arrays = {
        "weights": np.ones((2, 1), np.float32),
        "means": np.zeros((2, 1, 2), np.float32),
        "scale_tril": np.broadcast_to(np.eye(2), (2, 1, 2, 2)).astype(np.float32).copy(),
    }
    change(arrays)
    with pytest.raises(ValueError, match=message):
        LatentDensity(**arrays, components=(1, 1), covariance=("full", "diag"), heldout_gain=0.0)


def test_the_density_round_trips_through_the_model_file(tmp_path):
    record = random_record(TINY_CVAE)
    rng = np.random.default_rng(0)
    record.density = fit_class_density(
        rng.standard_normal((400, 3)), np.arange(400) % 10, num_classes=10, seed=0
    )
    loaded = load_model(save_model(record, tmp_path / "m.safetensors")).density
    assert loaded is not None
    for name in ("weights", "means", "scale_tril"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(record.density, name))
    assert loaded.components == record.density.components
    assert loaded.covariance == record.density.covariance
    assert loaded.heldout_gain == record.density.heldout_gain
    assert loaded.temperature == 1.0
    record.density = record.density.at_temperature(0.9)
    cooled = load_model(save_model(record, tmp_path / "t.safetensors")).density
    assert cooled.temperature == pytest.approx(0.9)


def test_a_file_without_a_density_still_loads(tmp_path):
    loaded = load_model(save_model(random_record(TINY_CVAE), tmp_path / "m.safetensors"))
    assert loaded.density is None
    model = VaeModel(loaded)
    assert model.sample_source == "prior" and "N(0, I)" in model.sampling_description
    with pytest.raises(ValueError, match="fit-density"):
        model.sample_source = "mixture"


def _rewrite(path, change_tensors=None, change_meta=None):
    tensors = load_file(str(path))
    meta = json.loads(json.loads(_header(path))["__metadata__"][METADATA_KEY])
    if change_tensors:
        change_tensors(tensors)
    if change_meta:
        change_meta(meta)
    path.write_bytes(save(tensors, metadata={METADATA_KEY: json.dumps(meta)}))


def _header(path) -> str:
    data = path.read_bytes()
    size = int.from_bytes(data[:8], "little")
    return data[8 : 8 + size].decode()


@pytest.mark.parametrize(
    ("change_tensors", "change_meta", "message"),
    [
        (lambda t: t.pop("density.means"), None, "exactly the tensors"),
        (None, lambda m: m.pop("density"), "needs its metadata"),
        (None, lambda m: m["density"].update(kind="flow"), "unknown class density kind"),
        (None, lambda m: m["density"].update(components=[9] * 10), "invalid class density"),
        (None, lambda m: m["density"].update(temperature="hot"), "temperature must be a number"),
        (None, lambda m: m["density"].update(temperature=7.0), "temperature must be a number in"),
        (
            lambda t: t.__setitem__("density.means", t["density.means"][:, :, :2].copy()),
            None,
            "mixtures over 3 dimensions",
        ),
        (
            lambda t: t.__setitem__("density.scale_tril", t["density.scale_tril"] + 1.0),
            None,
            "lower triangular",
        ),
    ],
)
def test_a_damaged_density_in_a_file_is_a_model_file_error(
    tmp_path, change_tensors, change_meta, message
):
    record = random_record(TINY_CVAE)
    record.density = _point_density(np.zeros((10, 3)))
    path = save_model(record, tmp_path / "m.safetensors")
    _rewrite(path, change_tensors, change_meta)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


def test_random_and_sample_grids_draw_from_the_class_density():
    record = random_record(TINY_CVAE)
    centres = np.linspace(-1.5, 1.5, 10)[:, None].repeat(3, axis=1)
    record.density = _point_density(centres)
    state = open_state(record)
    assert "mixture" in state.model.sampling_description
    rng = np.random.default_rng(0)
    for c in (0, 7):
        state.set_class(c)
        state.randomize(rng)
        np.testing.assert_allclose(state.z, centres[c], atol=0.01)
    model = state.model
    grid = sample_grid(model, rows=2, seed=0)
    expected = model.decode(centres.astype(np.float32), model.condition(np.arange(10)))
    np.testing.assert_allclose(grid[0], expected, atol=1e-2)
    one_class = sample_grid(model, rows=1, seed=0, class_index=4)
    np.testing.assert_allclose(
        one_class[0], np.repeat(expected[4:5], one_class.shape[1], axis=0), atol=1e-2
    )
    model.sample_source = "prior"  # the other choice: N(0, I), one style for every class
    z = model.sample_latents(500, 3, np.random.default_rng(1))
    assert abs(float(z.mean())) < 0.15 and 0.85 < float(z.std()) < 1.15


def test_a_plain_vae_samples_its_one_mixture():
    record = random_record(TINY_VAE)
    record.density = _point_density(np.full((1, 2), 0.75))
    state = open_state(record)
    state.randomize(np.random.default_rng(0))
    np.testing.assert_allclose(state.z, [0.75, 0.75], atol=0.01)


def test_training_fits_the_density_and_each_epoch_row_draws_from_class_gaussians():
    from latentlab.core.vae.events import EpochEnd, Finished
    from latentlab.core.vae.training import run_training

    from ..factories import tiny_dataset

    events = list(run_training(TINY_CVAE.replace(epochs=1), tiny_dataset(), device="cpu"))
    epoch = next(e for e in events if isinstance(e, EpochEnd))
    assert epoch.samples.shape == (10, 28, 28) and "class Gaussians" in epoch.samples_from
    record = events[-1].record
    assert isinstance(events[-1], Finished) and record.density is not None
    assert record.density.num_classes == 10 and record.density.latent_dim == 3
    assert record.metrics["density_heldout_gain_nats"] == record.density.heldout_gain
    assert record.density.temperature == 1.0
    cool = list(run_training(TINY_CVAE.replace(epochs=1, density_temperature=0.8), tiny_dataset()))
    assert cool[-1].record.density.temperature == pytest.approx(0.8)
    plain = list(run_training(TINY_CVAE.replace(epochs=1), tiny_dataset(), fit_density=False))
    assert plain[-1].record.density is None
    assert next(e for e in plain if isinstance(e, EpochEnd)).samples_from == "the prior N(0, I)"


def test_fit_density_command_adds_a_density_to_an_existing_file(tmp_path, tiny_dataset, capsys):
    from latentlab.cli import main

    path = tmp_path / "m.safetensors"
    save_model(random_record(TINY_CVAE.replace(dataset=tiny_dataset.name)), path)
    assert load_model(path).density is None
    args = ["fit-density", str(path), "--data-dir", str(tiny_dataset.dir)]
    assert main(args) == 0
    assert "class mixtures of" in capsys.readouterr().out
    density = load_model(path).density
    assert density is not None and density.num_classes == 10
    out = tmp_path / "grid.png"
    assert main(["sample", str(path), "--out", str(out), "--styles", "prior"]) == 0
    assert "styles from the prior N(0, I)" in capsys.readouterr().out
    assert main(["sample", str(path), "--out", str(out)]) == 0
    assert "Gaussian mixture" in capsys.readouterr().out
    assert main([*args, "--temperature", "0.9"]) == 0
    assert "sampled at temperature 0.9" in capsys.readouterr().out
    assert load_model(path).density.temperature == pytest.approx(0.9)
    assert main([*args, "--temperature", "0"]) != 0
    assert "--temperature must be in (0, 2]" in capsys.readouterr().err


def test_a_temperature_scales_each_components_spread():
    from latentlab.core.vae.density import fit_class_density

    rng = np.random.default_rng(3)
    z = rng.normal(size=(2000, 2)).astype(np.float32) * np.array([2.0, 0.5], np.float32)
    density = fit_class_density(z, None, 1, seed=0)
    assert density.temperature == 1.0
    cool = density.at_temperature(0.5)
    assert cool.temperature == 0.5 and density.temperature == 1.0  # a copy
    a = density.sample(20_000, 0, np.random.default_rng(1))
    b = cool.sample(20_000, 0, np.random.default_rng(1))
    if density.components[0] == 1:  # one Gaussian: the same draws, half as far from its mean
        centre = density.means[0, 0]
        np.testing.assert_allclose(b - centre, 0.5 * (a - centre), rtol=1e-4, atol=1e-5)
    assert b.std(axis=0)[0] < a.std(axis=0)[0] * 0.8
    assert "sampled at temperature 0.5" in cool.describe()
    assert "temperature" not in density.describe()


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), 2.5])
def test_a_temperature_outside_0_to_2_is_refused(bad):
    from latentlab.core.vae.density import fit_class_density

    z = np.random.default_rng(0).normal(size=(100, 2)).astype(np.float32)
    with pytest.raises(ValueError, match="temperature"):
        fit_class_density(z, None, 1, seed=0).at_temperature(bad)
