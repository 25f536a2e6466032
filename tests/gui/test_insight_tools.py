"""Draw a digit, which dimensions matter, and the model report, driven through real widgets.

Expected numbers come from an independent core computation on the same file (preprocess, read,
KL, strips, report) and an `ExplorerState` of their own, so these tests check the wiring and what
is shown, not copied results.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMessageBox

from latentlab.core.data import datasets
from latentlab.core.data.preprocess import mnist_like
from latentlab.core.explore.dimensions import decode_strips, kl_along, kl_per_dimension
from latentlab.core.explore.drawing import ellipse, read_image
from latentlab.core.explore.projection import dims_basis, pca_basis
from latentlab.core.explore.state import ExplorerState
from latentlab.core.vae.checkpoint import load_model, save_model
from latentlab.core.vae.report import evaluate_report
from latentlab.gui.report_dialog import ReportDialog
from latentlab.gui.slider_rows import strip_image

from ..factories import open_state
from .conftest import SMALL_CVAE, make_record

REPORT_MS = 60_000


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch):
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: QMessageBox.StandardButton.Ok)


@pytest.fixture
def make_window(open_explorer_window):
    """The shared explorer window (conftest) on the model file `path`."""
    return open_explorer_window


def draw_seven(qtbot, canvas) -> None:
    """One stroke with the mouse, as a user draws: press, drag through points, release."""
    path = [(60, 50), (140, 48), (215, 55), (190, 110), (160, 170), (135, 235)]
    points = [canvas.from_buffer(x, y).toPoint() for x, y in path]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=points[0])
    for p in points[1:]:
        qtbot.mouseMove(canvas, p)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=points[-1])


def reference(path) -> ExplorerState:
    return open_state(load_model(path))


def grey(image: np.ndarray) -> np.ndarray:
    """An (H, W, 1) model image as a grey view holds it: (H, W)."""
    return np.asarray(image)[..., 0]


def open_draw_panel(qtbot, window):
    tools = window.insight_tools
    tools.draw_action.trigger()
    qtbot.waitUntil(tools.draw_dock.isVisible)
    return tools, tools.draw_panel


# --- draw a digit -----------------------------------------------------------------------------


def test_drawing_is_read_and_placed_on_the_scatter(qtbot, make_window, cvae_file):
    window = make_window(cvae_file)
    tools, panel = open_draw_panel(qtbot, window)
    assert panel.reading is None and not tools.overlay.is_shown()

    with qtbot.waitSignal(panel.reading_changed, timeout=2000):
        draw_seven(qtbot, panel.canvas)
    qtbot.waitUntil(lambda: panel.reading is not None)

    ref = reference(cvae_file)
    image = mnist_like(panel.canvas.ink())
    expected = read_image(ref.model, image)
    reading = panel.reading
    np.testing.assert_allclose(grey(reading.image), image)
    np.testing.assert_allclose(reading.mu, expected.mu, atol=1e-6)
    np.testing.assert_allclose(panel.input_view.shown_image(), image)
    np.testing.assert_allclose(
        panel.recon_view.shown_image(), grey(expected.reconstruction), atol=1e-6
    )
    name = ref.class_names[expected.predicted]
    assert panel.reading_label.text() == f"Reads as {name} — {expected.confidence:.0%}"

    # Where it lands: the star at the projected mean, the ellipses of the projected q(z|x).
    assert tools.overlay.is_shown()
    x, y = tools.overlay.mean.getData()
    assert (x[0], y[0]) == pytest.approx(tuple(ref.projection.project(expected.mu)), abs=1e-5)
    for item, n in ((tools.overlay.one_sigma, 1), (tools.overlay.two_sigma, 2)):
        outline = ellipse(expected.mu, expected.var, ref.projection, n_sigma=n)
        ex, ey = item.getData()
        np.testing.assert_allclose(np.column_stack([ex, ey]), outline, atol=1e-4)

    # Other axes: the overlay follows.
    window.scatter.set_axes_choice("dims", 1, 3)
    axes = window.state.projection
    x, y = tools.overlay.mean.getData()
    assert (x[0], y[0]) == pytest.approx((expected.mu[1], expected.mu[3]), abs=1e-5)
    ex, _ = tools.overlay.one_sigma.getData()
    half_width = (ex.max() - ex.min()) / 2
    assert half_width == pytest.approx(float(np.sqrt(expected.var[1])), rel=1e-3)
    assert axes.kind == "dims"


def test_each_stroke_is_read_again_and_clear_forgets_it(qtbot, make_window, cvae_file):
    window = make_window(cvae_file)
    tools, panel = open_draw_panel(qtbot, window)
    draw_seven(qtbot, panel.canvas)
    qtbot.waitUntil(lambda: panel.reading is not None)
    first = panel.reading.image.copy()
    canvas = panel.canvas
    panel.pen_slider.setValue(40)
    assert canvas.pen_width() == 40
    with qtbot.waitSignal(panel.reading_changed, timeout=2000):
        a, b = canvas.from_buffer(100, 140).toPoint(), canvas.from_buffer(230, 140).toPoint()
        qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=a)
        qtbot.mouseMove(canvas, b)
        qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=b)
    assert not np.allclose(panel.reading.image, first)  # the cross bar changed the digit

    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert panel.reading is None and canvas.is_empty()
    assert not tools.overlay.is_shown()
    assert not panel.edit_button.isEnabled()
    assert canvas.ink().max() == 0.0


def test_edit_in_sliders_takes_the_drawings_latent_and_class(qtbot, make_window, cvae_file):
    window = make_window(cvae_file)
    _, panel = open_draw_panel(qtbot, window)
    draw_seven(qtbot, panel.canvas)
    qtbot.waitUntil(lambda: panel.edit_button.isEnabled())
    reading = panel.reading
    qtbot.mouseClick(panel.edit_button, Qt.MouseButton.LeftButton)

    ref = reference(cvae_file)
    z = np.clip(reading.mu, -ref.slider_range, ref.slider_range)  # kept inside the sliders' box
    np.testing.assert_allclose(window.state.z, z, atol=1e-6)
    np.testing.assert_allclose(window.sliders.values(), z, atol=0.006)
    assert window.state.class_index == reading.predicted
    assert window.selector.digit() == reading.predicted
    ref.set_point(z, reading.predicted)
    np.testing.assert_allclose(window.image_view.shown_image(), grey(ref.decode()), atol=1e-6)
    assert window.scatter.marker_position() == pytest.approx(tuple(ref.current_point()), abs=1e-5)


# --- which dimensions matter -----------------------------------------------------------------------


def visual_order(sliders) -> list[int]:
    return sorted(
        range(sliders.count()), key=lambda i: sliders.slider(i).mapTo(sliders, QPoint()).y()
    )


def test_kl_bars_and_ordering_by_kl(qtbot, make_window, tmp_path):
    # Give z3 a collapsed unit and z2 the largest KL, so the order is known from the data.
    record = make_record(SMALL_CVAE, seed=4)
    enc = record.test_encoding
    enc.mu[:, 2] = 0.0
    enc.logvar[:, 2] = 0.0
    enc.mu[:, 1] *= 3.0
    path = save_model(record, tmp_path / "kl.safetensors")
    window = make_window(path)
    sliders = window.sliders
    enc = load_model(path).test_encoding
    kl = kl_per_dimension(enc.mu, enc.logvar)
    for i in range(4):
        bar = sliders.kl_bar(i)
        assert bar.isVisible() and bar.kl == pytest.approx(kl[i])
        assert bar.text() == f"{kl[i]:.2f}"
    assert not sliders.kl_bar(2).is_active and not sliders.label(2).isEnabled()
    assert "collapsed" in sliders.kl_bar(2).toolTip()
    assert sliders.kl_bar(1).is_active

    assert visual_order(sliders) == [0, 1, 2, 3]
    qtbot.mouseClick(sliders.order_by_kl_box, Qt.MouseButton.LeftButton)
    expected = [int(i) for i in np.argsort(-kl)]
    assert expected[0] == 1 and expected[-1] == 2
    qtbot.waitUntil(lambda: visual_order(sliders) == expected)
    # Reordering changes where the rows are, not what they do.
    sliders.slider(1).setValue(120)
    assert window.state.z[1] == pytest.approx(1.2)
    qtbot.mouseClick(sliders.order_by_kl_box, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: visual_order(sliders) == [0, 1, 2, 3])


def test_principal_component_sliders_move_along_the_scatter_axes(qtbot, make_window, cvae_file):
    window = make_window(cvae_file)
    sliders = window.sliders
    window.sliders.slider(0).setValue(50)  # start away from the origin
    sliders.set_directions("pca")  # as a user picks it in the combo
    assert sliders.directions_combo.currentData() == "pca"
    enc = load_model(cvae_file).test_encoding
    basis = pca_basis(enc.mu)
    assert [sliders.label(i).text() for i in range(4)] == ["PC1", "PC2", "PC3", "PC4"]
    z0 = window.state.z
    np.testing.assert_allclose(sliders.values(), basis.project(z0), atol=0.006)
    pc_kl = kl_along(enc.mu, enc.logvar, basis.components)
    assert sliders.kl_bar(0).kl == pytest.approx(pc_kl[0])

    sliders.slider(0).setValue(150)  # PC1 = 1.5: the marker moves to x = 1.5 on the PCA scatter
    expected = basis.with_coord(z0, 0, 1.5)
    np.testing.assert_allclose(window.state.z, expected, atol=1e-5)
    x, y = window.scatter.marker_position()
    before = window.state.projection.project(z0)
    assert x == pytest.approx(1.5, abs=1e-4) and y == pytest.approx(before[1], abs=1e-4)
    ref = reference(cvae_file)
    ref.set_z(expected)
    np.testing.assert_allclose(window.image_view.shown_image(), grey(ref.decode()), atol=1e-6)

    sliders.set_directions("dims")  # back to raw: the raw values of that z
    r = ref.slider_range  # the reference slides along raw dimensions
    np.testing.assert_allclose(sliders.values(), np.clip(expected, -r, r), atol=0.006)


def test_strips_follow_the_class_and_the_latent(qtbot, make_window, cvae_file, monkeypatch):
    window = make_window(cvae_file)
    sliders = window.sliders
    ref = reference(cvae_file)
    basis = dims_basis(ref.latent_dim)
    # Count the strip decodes at the state, where the sliders ask for them.
    decodes: list[int] = []
    real_strips = window.state.slider_strips

    def counting_strips():
        decodes.append(1)
        return real_strips()

    monkeypatch.setattr(window.state, "slider_strips", counting_strips)

    def strips_match() -> bool:
        images = decode_strips(ref.model, basis, ref.z, ref.condition())
        return all(sliders.strip(i).image() == strip_image(images[i]) for i in range(4))

    qtbot.waitUntil(strips_match)
    assert all(sliders.strip(i).isVisible() for i in range(4))
    count = len(decodes)
    window.selector.select(6)
    ref.set_class(6)
    qtbot.waitUntil(strips_match)
    sliders.slider(3).setValue(-200)
    ref.set_latent(3, -2.0)
    qtbot.waitUntil(strips_match)
    assert len(decodes) > count
    # A drag's burst of moves is folded into a few strip updates, not one per step.
    count = len(decodes)
    for v in range(-200, 201, 10):
        sliders.slider(2).setValue(v)
    ref.set_latent(2, 2.0)
    qtbot.waitUntil(strips_match)
    assert 0 < len(decodes) - count < 41

    qtbot.mouseClick(sliders.strips_box, Qt.MouseButton.LeftButton)
    assert not any(sliders.strip(i).isVisible() for i in range(4))


# --- model report ---------------------------------------------------------------------------


@pytest.fixture
def tiny_model(tiny_dataset, tmp_path, monkeypatch):
    """A model whose dataset is the tiny one, found through LATENTLAB_DATA_DIR like real data."""
    monkeypatch.setenv(datasets.DATA_DIR_ENV, str(tiny_dataset.dir))
    record = make_record(SMALL_CVAE.replace(dataset=tiny_dataset.name), seed=5)
    return save_model(record, tmp_path / "tiny.safetensors")


def test_evaluate_from_the_model_menu(qtbot, make_window, tiny_model, tiny_dataset):
    window = make_window(tiny_model)
    tools = window.insight_tools
    assert tools.evaluate_action.isEnabled()
    assert tools.evaluate_action in window.model_menu.actions()
    tools.evaluate_action.trigger()
    dialog = tools.report_dialog
    assert isinstance(dialog, ReportDialog) and dialog.isVisible()
    dialog.k_spin.setValue(8)
    dialog.gen_spin.setValue(5)
    with qtbot.waitSignal(dialog.report_ready, timeout=REPORT_MS) as blocker:
        qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
        assert dialog.running and not dialog.run_button.isEnabled()
    report = blocker.args[0]
    qtbot.waitUntil(lambda: not dialog.running)

    images, labels = tiny_dataset.arrays["test_images"], tiny_dataset.arrays["test_labels"]
    expected = evaluate_report(load_model(tiny_model), images, labels, k=8, generated_per_class=5)
    assert report.neg_elbo == pytest.approx(expected.neg_elbo, rel=1e-5)
    assert report.iwae_nll == pytest.approx(expected.iwae_nll, rel=1e-5)
    assert report.iwae_nll < report.neg_elbo
    np.testing.assert_array_equal(report.confusion, expected.confusion)
    assert dialog.values["neg_elbo"].text() == f"{report.neg_elbo:.2f} nats"
    assert dialog.values["iwae"].text() == f"{report.iwae_nll:.2f} nats (k = 8)"
    assert dialog.values["accuracy"].text() == f"{report.accuracy:.2%}"
    assert dialog.values["test_size"].text() == str(len(labels))
    table = dialog.confusion_table
    total = sum(int(table.item(i, j).text()) for i in range(10) for j in range(10))
    assert total == len(labels)
    shown = [dialog.generation_table.item(0, j).text() for j in range(10)]
    assert shown == [f"{v:.0%}" for v in expected.generation_per_class]
    assert dialog.run_button.isEnabled() and not dialog.cancel_button.isEnabled()


def test_evaluate_without_data_says_why(qtbot, make_window, cvae_file):
    window = make_window(cvae_file)  # an MNIST model, and no MNIST in the isolated folders
    window.insight_tools.open_report()
    dialog = window.insight_tools.report_dialog
    with qtbot.waitSignal(dialog.report_failed, timeout=REPORT_MS) as blocker:
        dialog.start()
    assert "mnist" in blocker.args[0].lower()
    assert dialog.status.text().startswith("Could not evaluate")
    qtbot.waitUntil(lambda: dialog.run_button.isEnabled())


def test_cancel_stops_the_evaluation(qtbot, tiny_dataset):
    record = make_record(SMALL_CVAE, seed=6)
    release = threading.Event()

    def slow_loader(name: str):
        release.wait(10)
        return tiny_dataset.arrays["test_images"], tiny_dataset.arrays["test_labels"]

    dialog = ReportDialog(record, "test", None, slow_loader)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start()
    assert dialog.cancel_button.isEnabled()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    release.set()
    with qtbot.waitSignal(dialog.running_changed, timeout=REPORT_MS) as blocker:
        pass
    assert blocker.args == [False]
    assert dialog.status.text() == "Cancelled." and dialog.report is None
    dialog.close()


def test_a_plain_vae_drawing_has_no_reading_but_lands_on_the_plane(qtbot, make_window, vae2d_file):
    window = make_window(vae2d_file)
    tools, panel = open_draw_panel(qtbot, window)
    draw_seven(qtbot, panel.canvas)
    qtbot.waitUntil(lambda: panel.reading is not None)
    assert panel.reading_label.text() == "plain VAE: no classifier to read it"
    x, y = tools.overlay.mean.getData()
    assert (x[0], y[0]) == pytest.approx(tuple(panel.reading.mu), abs=1e-5)  # z1, z2 axes
    qtbot.mouseClick(panel.edit_button, Qt.MouseButton.LeftButton)
    r = window.state.slider_range
    np.testing.assert_allclose(window.state.z, np.clip(panel.reading.mu, -r, r), atol=1e-6)
    # Hiding the dock hides its overlay; showing it brings the overlay back.
    tools.draw_action.trigger()
    qtbot.waitUntil(lambda: not tools.overlay.is_shown())
    tools.draw_action.trigger()
    qtbot.waitUntil(tools.overlay.is_shown)
