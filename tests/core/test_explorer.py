"""The headless explorer state the window shows: decoding, selection, axes, sliders and events."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from latentlab.core.explore.dimensions import kl_along
from latentlab.core.explore.projection import LinearBasis
from latentlab.core.explore.state import MIN_SLIDER_RANGE, ExplorerState
from latentlab.core.vae.latent_model import vae_document
from latentlab.core.vae.numpy_net import NumpyVAE

from ..factories import TINY_CVAE, TINY_VAE, open_state, random_record


@pytest.fixture
def cvae() -> ExplorerState:
    return open_state(random_record(TINY_CVAE, n_test=60, seed=3))


@pytest.fixture
def vae() -> ExplorerState:
    return open_state(random_record(TINY_VAE, n_test=40, seed=4))


def _net(state: ExplorerState) -> NumpyVAE:
    record = state.document.payload
    return NumpyVAE(record.config, record.weights)


class Recorder:
    """Every event of a state, in order, with the value each carried."""

    def __init__(self, state: ExplorerState) -> None:
        self.calls: list[tuple[str, tuple]] = []
        events = state.events
        for event in (
            events.model,
            events.document,
            events.z,
            events.class_index,
            events.selection,
            events.projection,
            events.slider_basis,
            events.changed,
        ):
            event.connect(lambda *args, name=event.name: self.calls.append((name, args)))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def value(self, name: str):
        (args,) = [args for n, args in self.calls if n == name]
        (value,) = args
        return value

    def clear(self) -> None:
        self.calls.clear()


# --- decoding -------------------------------------------------------------------------------


def test_decode_is_a_contiguous_float_image_in_the_unit_range(cvae):
    image = cvae.decode()
    assert image.shape == (28, 28, 1) and image.dtype == np.float32
    assert image.flags.c_contiguous
    assert image.min() >= 0.0 and image.max() <= 1.0


def test_the_class_input_changes_a_conditional_decode(cvae):
    three = (cvae.set_class(3), cvae.decode())[1]
    eight = (cvae.set_class(8), cvae.decode())[1]
    assert not np.allclose(three, eight)
    np.testing.assert_array_equal(cvae.condition(), np.eye(10, dtype=np.float32)[8])
    with pytest.raises(ValueError):
        cvae.set_class(10)
    with pytest.raises(ValueError):
        cvae.set_class(-1)
    assert cvae.class_index == 8


def test_decode_matches_the_network_on_the_current_state(cvae):
    cvae.set_z(np.linspace(-1, 1, cvae.latent_dim))
    cvae.set_class(6)
    expected = _net(cvae).decode(cvae.z, np.eye(10, dtype=np.float32)[6]).reshape(28, 28, 1)
    np.testing.assert_allclose(cvae.decode(), expected, atol=1e-6)
    np.testing.assert_array_equal(cvae.image(), cvae.decode())  # nothing selected


def test_select_moves_to_a_test_point_and_its_predicted_class(cvae):
    points = cvae.points
    cvae.select(17)
    np.testing.assert_array_equal(cvae.z, points.mu[17])
    assert cvae.class_index == int(points.predicted[17]) and cvae.selected == 17
    np.testing.assert_allclose(cvae.current_point(), cvae.points_2d()[17], atol=1e-6)
    z = cvae.z
    z[0] += 1  # the state's z is a copy, not a view into the points or the state
    assert points.mu[17, 0] != z[0] and cvae.z[0] == points.mu[17, 0]
    with pytest.raises(IndexError):
        cvae.select(len(points))


def test_reconstruction_decodes_the_mean_with_the_class_probabilities(cvae):
    points = cvae.points
    expected = _net(cvae).decode(points.mu[5], points.probs[5]).reshape(28, 28, 1)
    np.testing.assert_allclose(cvae.reconstruction(5), expected, atol=1e-6)
    cvae.select(5)
    np.testing.assert_allclose(cvae.image(), expected, atol=1e-6)  # the pane shows it


def test_classify_reads_a_probability(cvae):
    reading = cvae.classify(cvae.decode())
    assert reading is not None
    digit, prob = reading
    probs = _net(cvae).classify(cvae.decode().reshape(-1))
    assert digit == int(np.argmax(probs)) and prob == pytest.approx(float(probs.max()))
    assert 0 <= digit < 10 and 0.0 < prob <= 1.0


# --- the scatter's axes ---------------------------------------------------------------------


def test_move_to_changes_z_only_along_the_axes(cvae):
    cvae.set_z(np.full(cvae.latent_dim, 0.2, np.float32))
    before = cvae.z
    target = cvae.current_point() + np.array([0.5, -0.3], np.float32)
    cvae.move_to(*target)
    np.testing.assert_allclose(cvae.current_point(), target, atol=1e-5)
    step = cvae.z - before
    comps = cvae.projection.components
    np.testing.assert_allclose(step, (step @ comps.T) @ comps, atol=1e-5)


@pytest.mark.parametrize("axes", [("pca", 0, 1), ("pca", 2, 1), ("dims", 1, 2), ("dims", 2, 0)])
def test_move_to_lands_the_current_point_on_the_target(cvae, axes):
    cvae.set_projection(*axes)
    for x, y in [(1.25, -0.5), (-2.0, 2.5), (0.0, 0.0)]:
        cvae.move_to(x, y)
        np.testing.assert_allclose(cvae.current_point(), [x, y], atol=1e-5)


def test_move_to_stays_inside_the_slider_range(cvae):
    cvae.move_to(100.0, -100.0)
    assert np.all(np.abs(cvae.slider_values()) <= cvae.slider_range + 1e-6)
    assert np.all(np.abs(cvae.z) <= cvae.slider_range + 1e-6)  # the dims sliders
    assert np.abs(cvae.z).max() == pytest.approx(cvae.slider_range)  # pushed to the edge


def test_dims_axes_show_two_raw_dimensions(cvae):
    cvae.set_projection("dims", 2, 0)
    np.testing.assert_allclose(cvae.points_2d(), cvae.points.mu[:, [2, 0]], atol=1e-6)
    assert cvae.projection.kind == "dims" and cvae.projection.labels == ("z3", "z1")
    assert cvae.projection.titles == ("z3", "z1")
    with pytest.raises(ValueError):
        cvae.set_projection("dims", 1, 1)
    with pytest.raises(ValueError):
        cvae.set_projection("dims", 0, cvae.latent_dim)
    with pytest.raises(ValueError):
        cvae.set_projection("umap")
    assert cvae.projection.labels == ("z3", "z1")  # a refused change changes nothing


def test_pca_axes_are_orthonormal_and_the_default(cvae):
    axes = cvae.projection
    comps = axes.components
    assert axes.kind == "pca" and axes.labels == ("PC1", "PC2")
    assert all(
        t.startswith(f"PC{k + 1} (") and "% of variance" in t for k, t in enumerate(axes.titles)
    )
    np.testing.assert_allclose(comps @ comps.T, np.eye(2), atol=1e-5)
    np.testing.assert_allclose(comps, cvae.basis("pca").components[:2])
    centred = cvae.points.mu - cvae.points.mu.mean(axis=0)
    np.testing.assert_allclose(cvae.points_2d(), centred @ comps.T, atol=1e-5)
    assert cvae.available_kinds() == ("dims", "pca")


def test_a_2d_model_shows_its_own_plane(vae):
    assert vae.projection.kind == "dims" and vae.projection.labels == ("z1", "z2")
    np.testing.assert_allclose(vae.points_2d(), vae.points.mu, atol=1e-6)
    assert vae.classify(vae.decode()) is None and vae.condition() is None
    vae.select(3)
    assert vae.class_index == 0  # a plain model has no class to change
    vae.set_class(4)
    assert vae.class_index == 0 and vae.selected == 3  # ignored: nothing changed


def test_nearest_finds_the_point_itself(cvae):
    for index in (0, 9, 33):
        x, y = cvae.points_2d()[index]
        assert cvae.nearest_point(x + 1e-4, y - 1e-4) == index


def test_randomize_draws_inside_the_range_reproducibly(cvae):
    cvae.randomize(np.random.default_rng(1))
    first = cvae.z
    cvae.randomize(np.random.default_rng(1))
    np.testing.assert_array_equal(first, cvae.z)
    assert np.all(np.abs(first) <= cvae.slider_range) and np.any(first != 0)
    cvae.reset()
    assert not cvae.z.any()


def test_a_latent_must_be_finite_and_of_the_models_size(cvae):
    with pytest.raises(ValueError):
        cvae.set_z(np.zeros(cvae.latent_dim + 1))
    with pytest.raises(ValueError):
        cvae.set_z(np.array([0.0, np.nan, 0.0]))
    with pytest.raises(ValueError):
        cvae.set_z(np.array([0.0, np.inf, 0.0]))
    assert not cvae.z.any()


# --- events ---------------------------------------------------------------------------------


def test_open_announces_a_new_model_once():
    state = ExplorerState()
    assert not state.loaded and state.model is None
    events = Recorder(state)
    state.open(vae_document(random_record(TINY_CVAE, n_test=20, seed=1)))
    assert events.names() == ["model", "changed"]
    assert state.loaded and state.latent_dim == TINY_CVAE.latent_dim


def test_each_action_fires_each_event_once_with_the_new_value(cvae):
    events = Recorder(cvae)

    cvae.set_z(np.array([0.5, -1.0, 2.0], np.float32))
    assert events.names() == ["z", "changed"]
    np.testing.assert_array_equal(events.value("z"), [0.5, -1.0, 2.0])
    events.clear()

    cvae.set_latent(1, 1.5)
    assert events.names() == ["z", "changed"]
    np.testing.assert_array_equal(events.value("z"), [0.5, 1.5, 2.0])
    events.clear()

    cvae.set_class(4)
    assert events.names() == ["class_index", "changed"] and events.value("class_index") == 4
    events.clear()

    k = int(cvae.points.predicted[7])
    other = (k + 1) % 10
    cvae.set_class(other)
    events.clear()
    cvae.select(7)
    assert events.names() == ["z", "class_index", "selection", "changed"]
    np.testing.assert_array_equal(events.value("z"), cvae.points.mu[7])
    assert events.value("class_index") == k and events.value("selection") == 7
    events.clear()

    cvae.set_point(np.zeros(3, np.float32), (k + 3) % 10)
    assert sorted(events.names()) == ["changed", "class_index", "selection", "z"]
    assert events.names()[-1] == "changed"
    assert events.value("class_index") == (k + 3) % 10 and events.value("selection") is None
    events.clear()

    cvae.set_projection("dims", 0, 2)
    assert events.names() == ["projection", "changed"]
    projection = events.value("projection")
    assert isinstance(projection, LinearBasis) and projection.labels == ("z1", "z3")
    events.clear()

    cvae.set_slider_kind("pca")
    assert events.names() == ["slider_basis"]
    assert events.value("slider_basis").kind == "pca"
    events.clear()

    cvae.set_slider(0, 1.0)
    assert events.names() == ["z", "changed"]
    np.testing.assert_array_equal(events.value("z"), cvae.z)


def test_an_action_that_changes_nothing_fires_nothing(cvae):
    cvae.set_z(np.array([0.5, -1.0, 2.0], np.float32))
    cvae.set_class(3)
    events = Recorder(cvae)
    cvae.set_z(np.array([0.5, -1.0, 2.0], np.float32))
    cvae.set_latent(2, 2.0)
    cvae.set_class(3)
    cvae.set_point(cvae.z, 3)
    cvae.set_slider_kind("dims")
    assert events.names() == []


def test_selection_is_cleared_by_any_other_change(cvae):
    rng = np.random.default_rng(0)
    actions = {
        "set_z": lambda s: s.set_z(s.z + 0.1),
        "set_z to the point itself": lambda s: s.set_z(s.points.mu[5]),
        "set_latent": lambda s: s.set_latent(0, 1.0),
        "set_slider": lambda s: s.set_slider(1, -1.0),
        "set_class": lambda s: s.set_class((s.class_index + 1) % 10),
        "set_class to the same class": lambda s: s.set_class(s.class_index),
        "set_point": lambda s: s.set_point(s.z, s.class_index),
        "reset": lambda s: s.reset(),
        "randomize": lambda s: s.randomize(rng),
        "move_to": lambda s: s.move_to(*(s.current_point() + 0.5)),
    }
    for name, action in actions.items():
        cvae.select(5)
        assert cvae.selected == 5
        events = Recorder(cvae)
        action(cvae)
        assert cvae.selected is None, name
        assert events.names().count("selection") == 1, name
        assert events.value("selection") is None, name
        assert events.names().count("changed") == 1, name
        np.testing.assert_array_equal(cvae.image(), cvae.decode())  # the free point is shown


def test_a_callback_may_disconnect_itself_during_an_event(cvae):
    seen = []

    def once(z):
        seen.append(z.copy())
        cvae.events.z.disconnect(once)

    cvae.events.z.connect(once)
    cvae.set_latent(0, 1.0)
    cvae.set_latent(0, 2.0)
    assert len(seen) == 1 and seen[0][0] == 1.0


# --- the sliders ----------------------------------------------------------------------------


def test_the_slider_range_is_at_least_the_priors(cvae):
    assert cvae.slider_range >= MIN_SLIDER_RANGE
    assert cvae.slider_range % 0.5 == 0
    cvae.set_z(np.array([10.0, -10.0, 0.25], np.float32))
    np.testing.assert_allclose(cvae.z, [cvae.slider_range, -cvae.slider_range, 0.25])


def _record_with_a_far_point(value: float = 3.9):
    record = random_record(TINY_CVAE, n_test=30, seed=8)
    points = record.test_encoding
    mu = np.clip(points.mu, -2.0, 2.0)
    mu[0] = [value, 0.5, -0.5]
    return replace(record, test_encoding=replace(points, mu=mu))


def test_the_slider_range_covers_every_encoded_point():
    state = open_state(_record_with_a_far_point(3.9))
    assert state.slider_range == 4.0  # 3.9 rounded up to the next half
    state.select(0)
    assert state.z[0] == np.float32(3.9)  # kept, not clamped to 3.5
    np.testing.assert_array_equal(state.z, state.points.mu[0])
    state.set_z(np.array([3.9, 0.0, 0.0], np.float32))
    assert state.z[0] == np.float32(3.9)
    for kind in state.available_kinds():
        state.set_slider_kind(kind)
        coords = state.slider_basis.project(state.points.mu)
        assert np.abs(coords).max() <= state.slider_range, kind
        for i in range(len(state.points)):
            state.select(i)
            np.testing.assert_allclose(state.z, state.points.mu[i], atol=1e-6, err_msg=kind)


def test_slider_values_and_set_slider_on_raw_dimensions(cvae):
    cvae.set_slider(2, -1.25)
    np.testing.assert_allclose(cvae.z, [0.0, 0.0, -1.25])
    np.testing.assert_allclose(cvae.slider_values(), cvae.z)
    assert cvae.slider_basis.kind == "dims" and cvae.slider_basis.labels == ("z1", "z2", "z3")


def test_set_slider_in_pca_mode_moves_along_the_principal_component(cvae):
    cvae.set_z(np.array([0.3, -0.2, 0.6], np.float32))
    cvae.set_slider_kind("pca")
    pca = cvae.basis("pca")
    assert cvae.slider_basis is pca
    before, coords = cvae.z, cvae.slider_values()
    cvae.set_slider(1, 2.0)
    step = cvae.z - before
    # The step is a multiple of PC2, and only PC2's coordinate changed, to the value asked.
    np.testing.assert_allclose(step, (step @ pca.components[1]) * pca.components[1], atol=1e-5)
    after = cvae.slider_values()
    assert after[1] == pytest.approx(2.0, abs=1e-5)
    np.testing.assert_allclose(after[[0, 2]], coords[[0, 2]], atol=1e-5)
    np.testing.assert_allclose(after, pca.components @ (cvae.z - pca.mean), atol=1e-5)


def test_the_slider_kl_is_the_average_kl_along_each_direction(cvae):
    points = cvae.points
    np.testing.assert_allclose(
        cvae.slider_kl(), kl_along(points.mu, points.logvar, np.eye(3)), rtol=1e-6
    )
    cvae.set_slider_kind("pca")
    pca = cvae.basis("pca").components
    np.testing.assert_allclose(cvae.slider_kl(), kl_along(points.mu, points.logvar, pca), rtol=1e-6)
    with pytest.raises(ValueError):
        cvae.set_slider_kind("umap")
    assert cvae.slider_basis.kind == "pca"


# --- odd shapes of latent space -------------------------------------------------------------


def test_a_1d_latent_model_opens():
    state = open_state(random_record(TINY_VAE.replace(latent_dim=1), n_test=25, seed=5))
    assert state.latent_dim == 1 and state.z.shape == (1,)
    assert state.decode().shape == (28, 28, 1)
    points_2d = state.points_2d()
    assert points_2d.shape == (25, 2)
    np.testing.assert_allclose(points_2d[:, 0], state.points.mu[:, 0], atol=1e-6)
    assert not points_2d[:, 1].any()  # a line: nothing up
    assert state.projection.titles[0] == "z1"
    state.move_to(1.5, 7.0)
    np.testing.assert_allclose(state.z, [1.5])
    state.set_slider(0, -2.0)
    np.testing.assert_allclose(state.slider_values(), [-2.0])
    state.select(4)
    np.testing.assert_array_equal(state.z, state.points.mu[4])
    assert state.nearest_point(*state.points_2d()[4]) == 4
    with pytest.raises(ValueError):
        state.set_projection("dims", 0, 1)


def test_points_of_another_size_than_the_model_are_refused():
    record = random_record(TINY_CVAE, n_test=10, seed=2)
    points = record.test_encoding
    bad = replace(points, mu=points.mu[:, :2], logvar=points.logvar[:, :2])
    document = replace(vae_document(record), points=bad)
    with pytest.raises(ValueError, match="2-D"):
        ExplorerState().open(document)
