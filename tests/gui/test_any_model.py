"""The explorer window on models latentlab did not train: any size, colour, no encoder, no labels.

The fakes are written here from the `LatentModel` protocol alone (pure numpy): a smooth
colourful decoder of any size, with or without an encoder, classes or a class input. Their
documents look like the imported and live ones (`source` "onnx" / "live", a payload that is not
a `ModelRecord`, the images in `Document.images`), and the window is shown each of them with
`MainWindow.show_document`. What a model lacks must be disabled with a tooltip that says why;
pytest-qt fails a test on any exception raised in a Qt slot.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from latentlab.core.data.image_set import ImageSet
from latentlab.core.explore.document import Document
from latentlab.core.explore.latent_model import ImageSpec, LatentModel
from latentlab.core.explore.points import EncodedPoints
from latentlab.core.explore.state import MIN_SLIDER_RANGE
from latentlab.gui import capabilities
from latentlab.gui.model_info_dialog import FactsDialog

from .conftest import LOAD_MS

WAIT_MS = 5_000


class FieldModel:
    """A linear-sigmoid decoder over smooth colour fields, of any size; a least-squares encoder.

    Each latent dimension (and each class, for a conditional model) adds one low-frequency
    pattern per channel, so every slider visibly changes the picture.
    """

    def __init__(
        self,
        height: int,
        width: int,
        channels: int,
        latent_dim: int = 4,
        class_names: tuple[str, ...] = (),
        conditional: bool = False,
        can_encode: bool = True,
        seed: int = 0,
    ) -> None:
        self.latent_dim = latent_dim
        self.image_spec = ImageSpec(height, width, channels)
        self.class_names = class_names
        self.conditional = conditional
        self.can_encode = can_encode
        self.can_classify = False
        rng = np.random.default_rng(seed)
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        ys, xs = ys / height, xs / width

        def pattern() -> np.ndarray:
            fy, fx = rng.uniform(0.3, 1.2, 2)
            phase = rng.uniform(0, 2 * np.pi, channels)
            field = np.sin(2 * np.pi * (fy * ys + fx * xs)[..., None] + phase)
            return field.reshape(-1).astype(np.float32)

        self.w_z = np.stack([pattern() for _ in range(latent_dim)])
        self.w_c = np.stack([pattern() * 1.5 for _ in range(max(len(class_names), 1))])
        self.decoded = 0  # how many images were decoded, to see that the sliders decode

    def condition(self, classes: int | np.ndarray) -> np.ndarray:
        if not self.conditional:
            raise ValueError("this model has no class input")
        return np.eye(len(self.class_names), dtype=np.float32)[classes]

    def decode(self, z: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        z = np.asarray(z, np.float32)
        assert z.ndim == 2 and z.shape[1] == self.latent_dim, z.shape
        assert (condition is not None) == self.conditional, "a condition exactly when needed"
        logits = z @ self.w_z
        if condition is not None:
            logits = logits + np.asarray(condition, np.float32) @ self.w_c
        self.decoded += len(z)
        images = 1.0 / (1.0 + np.exp(-logits))
        return images.reshape(len(z), *self.image_spec.shape).astype(np.float32)

    def encode(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not self.can_encode:
            raise ValueError("this model has no encoder")
        images = np.asarray(images, np.float32)
        assert images.shape[1:] == self.image_spec.shape, images.shape
        x = np.clip(images.reshape(len(images), -1), 1e-3, 1 - 1e-3)
        mu = np.linalg.lstsq(self.w_z.T, np.log(x / (1 - x)).T, rcond=None)[0].T
        return mu.astype(np.float32), np.full_like(mu, 0.1, dtype=np.float32)

    def classify(self, images: np.ndarray) -> np.ndarray:
        raise ValueError("this model has no classifier")


class Payload:
    """What an imported model's document carries instead of a ModelRecord."""

    def info_rows(self) -> list[tuple[str, str]]:
        return [("Decoder graph", "decoder.onnx (opset 17)")]


def document_of(
    model: FieldModel, n: int = 0, source: str = "onnx", seed: int = 1, labelled: bool = True
) -> Document:
    """A document like an imported one: `n` encoded images of the model's own, or none."""
    if n == 0:
        return Document(model, None, payload=Payload(), source=source)
    rng = np.random.default_rng(seed)
    k = max(len(model.class_names), 1)
    labels = (np.arange(n) % k).astype(np.uint8)
    condition = model.condition(labels) if model.conditional else None
    images = model.decode(rng.standard_normal((n, model.latent_dim)), condition)
    pixels = np.round(images * 255).astype(np.uint8)
    mu, var = model.encode(pixels.astype(np.float32) / 255)
    has_labels = labelled and bool(model.class_names)
    points = EncodedPoints(mu, np.log(var), labels if has_labels else np.zeros(n, np.uint8))
    image_set = ImageSet(
        "thumbnails",
        pixels,
        labels if has_labels else None,
        model.class_names if has_labels else (),
    )
    return Document(model, points, payload=Payload(), images=image_set, source=source)


def colour_conditional() -> FieldModel:
    """64 x 48 RGB, three classes fed to the decoder, an encoder."""
    return FieldModel(64, 48, 3, 4, ("sky", "sand", "moss"), conditional=True)


def grey_decoder_only() -> FieldModel:
    """32 x 32 grey, no class input, no encoder, no labels."""
    return FieldModel(32, 32, 1, 3, can_encode=False)


def colour_unlabelled() -> FieldModel:
    """24 x 40 RGB with an encoder and points, but no classes at all."""
    return FieldModel(24, 40, 3, 5)


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch) -> list:
    """Error dialogs are recorded instead of blocking the test (and must not happen)."""
    shown: list = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *args: shown.append(args))
    return shown


@pytest.fixture
def show(open_explorer_window, qtbot):
    """``show(document)``: a window showing that document (through show_document)."""

    def open_on(document: Document):
        window = open_explorer_window()
        with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS) as blocker:
            window.show_document(document)
        assert blocker.args == [document]
        return window

    return open_on


def expected(window, model: LatentModel) -> np.ndarray:
    """What the live image must show: the model's own decode of the state's point."""
    condition = window.state.condition()
    z = window.state.z[None]
    image = model.decode(z, None if condition is None else condition[None])[0]
    return image[..., 0] if image.shape[-1] == 1 else image


def move_slider(qtbot, window, index: int, ticks: int) -> None:
    before = window.image_view.shown_image().copy()
    window.sliders.slider(index).setValue(ticks)
    qtbot.waitUntil(lambda: not np.array_equal(window.image_view.shown_image(), before))


# --- a colour conditional model with an encoder ---------------------------------------------


def test_a_colour_model_is_shown_at_its_size_and_the_sliders_change_it(qtbot, show):
    model = colour_conditional()
    window = show(document_of(model, n=60))
    assert window.image_view.shown_image().shape == (64, 48, 3)
    np.testing.assert_allclose(window.image_view.shown_image(), expected(window, model), atol=1e-6)
    move_slider(qtbot, window, 1, 150)
    assert window.state.slider_values()[1] == pytest.approx(1.5)
    np.testing.assert_allclose(window.image_view.shown_image(), expected(window, model), atol=1e-6)
    # Drawn in colour, at a whole-number scale: every model pixel the same size on screen.
    scale = window.image_view.pixel_scale()
    assert scale >= 1 and scale == pytest.approx(round(scale))
    text = window.status_model.text()
    assert "imported ONNX" in text and "64 x 48 RGB" in text and "4-D latent" in text


def test_a_colour_model_chooses_its_classes_and_maps_its_points(qtbot, show):
    model = colour_conditional()
    window = show(document_of(model, n=60))
    assert not window.selector.isHidden()
    assert [b.text() for b in window.selector.buttons()] == ["sky", "sand", "moss"]
    before = window.image_view.shown_image().copy()
    qtbot.mouseClick(window.selector.buttons()[2], Qt.MouseButton.LeftButton)
    assert window.state.class_index == 2 and window.image_view.title() == "Decoded: moss"
    assert not np.allclose(window.image_view.shown_image(), before)
    np.testing.assert_allclose(window.image_view.shown_image(), expected(window, model), atol=1e-6)
    scatter = window.scatter
    assert scatter.has_map() and scatter.is_labelled()
    assert [len(item.getData()[0]) for item in scatter.class_items()] == [20, 20, 20]


def test_a_selected_point_shows_the_image_the_file_carries(qtbot, show):
    model = colour_conditional()
    document = document_of(model, n=60)
    window = show(document)
    window.state.select(7)
    original = window.original_view.image()
    assert original is not None and original.shape == (64, 48, 3)
    np.testing.assert_allclose(original, document.images.image(7), atol=1e-6)
    assert window.original_view.caption() == "image #7 — label sand"
    assert window.image_view.title() == "Reconstruction of #7"


def test_neighbours_show_colour_thumbnails_from_the_file(qtbot, show):
    model = colour_conditional()
    document = document_of(model, n=60)
    window = show(document)
    tools = window.explore_tools
    assert tools.neighbours_action.isEnabled()
    tools.neighbours_action.trigger()
    panel = tools.neighbours_panel
    qtbot.waitUntil(lambda: len(panel.indices()) == panel.k(), timeout=WAIT_MS)
    first = panel.buttons()[0]
    pixmap = first.icon().pixmap(first.iconSize())
    assert (pixmap.width(), pixmap.height()) == (48, 64)  # the model's size, not 28 x 28
    picture = pixmap.toImage()
    colours = {picture.pixelColor(x, y).name() for x in range(0, 48, 6) for y in range(0, 64, 6)}
    assert any(len({c[1:3], c[3:5], c[5:7]}) > 1 for c in colours)  # not grey
    assert "label" in first.toolTip() and "test images" in panel.note.text()


def test_what_a_model_without_a_record_cannot_do_is_disabled_and_says_why(qtbot, show):
    window = show(document_of(colour_conditional(), n=60))
    insight = window.insight_tools
    assert not window.save_action.isEnabled()
    assert window.save_action.toolTip() == capabilities.SAVE_IMPORTED
    assert not insight.evaluate_action.isEnabled()
    assert "latentlab eval FILE" in insight.evaluate_action.toolTip()
    assert not insight.draw_action.isEnabled()
    assert insight.draw_action.toolTip() == capabilities.DRAW_NEEDS_GREY
    insight.open_report()  # refused, never reading the payload as a record
    assert insight.report_dialog is None
    assert window.files.save_as() is False


def test_model_info_shows_the_facts_of_any_model_and_the_payloads_own(qtbot, show):
    window = show(document_of(colour_conditional(), n=60))
    window.info_action.trigger()
    dialog = window._info_dialog
    assert isinstance(dialog, FactsDialog)
    qtbot.addWidget(dialog)
    rows = dict(dialog.rows())
    assert rows["Kind"] == "imported ONNX model"
    assert rows["Image size (H, W, C)"] == "64 x 48 x 3"
    assert rows["Classes"] == "sky, sand, moss" and rows["Encoded images"] == "60"
    assert rows["Decoder graph"] == "decoder.onnx (opset 17)"


def test_a_payload_whose_info_rows_fail_still_shows_the_facts(qtbot, show):
    class Broken:
        def info_rows(self):
            raise RuntimeError("graph unreadable")

    model = grey_decoder_only()
    window = show(Document(model, None, payload=Broken(), source="onnx"))
    window.info_action.trigger()
    dialog = window._info_dialog
    qtbot.addWidget(dialog)
    rows = dict(dialog.rows())
    assert rows["Latent dimensions"] == "3" and "graph unreadable" in rows["Details"]


# --- a grey decoder-only model without labels -----------------------------------------------


def test_a_decoder_only_model_shows_a_placeholder_instead_of_the_scatter(qtbot, show):
    model = grey_decoder_only()
    window = show(document_of(model))
    assert not window.scatter.has_map()
    assert window.scatter.placeholder_text() == capabilities.NO_ENCODER
    assert "no encoder" in capabilities.NO_ENCODER and "still work" in capabilities.NO_ENCODER
    assert not window.export_scatter_action.isEnabled()
    assert "no scatter" in window.export_scatter_action.toolTip()
    assert window.selector.isHidden() and window.selector.reason() == capabilities.NO_CLASSES
    assert not window.original_view.isEnabled()
    assert window.original_view.toolTip() == capabilities.NO_POINTS_IMAGES
    assert window.original_view.caption() == capabilities.NO_POINTS_IMAGES
    text = window.status_model.text()
    assert "32 x 32 grey" in text and "decoder only" in text


def test_a_decoder_only_model_disables_the_data_docks_with_reasons(qtbot, show):
    window = show(document_of(grey_decoder_only()))
    tools, insight = window.explore_tools, window.insight_tools
    assert not tools.neighbours_action.isEnabled()
    assert tools.neighbours_action.toolTip() == capabilities.NO_POINTS_NEIGHBOURS
    assert not insight.draw_action.isEnabled()
    assert insight.draw_action.toolTip() == capabilities.DRAW_NEEDS_ENCODER
    overlay = tools.manifold_view.overlay_check
    assert not overlay.isEnabled() and overlay.toolTip() == capabilities.NO_ENCODER


def test_a_decoder_only_models_sliders_random_and_reset_work(qtbot, show):
    model = grey_decoder_only()
    window = show(document_of(model))
    assert window.sliders.spin_box(0).maximum() == pytest.approx(MIN_SLIDER_RANGE)
    move_slider(qtbot, window, 2, -200)
    assert window.image_view.shown_image().shape == (32, 32)
    np.testing.assert_allclose(window.image_view.shown_image(), expected(window, model), atol=1e-6)
    assert window.image_view.caption() == "no classifier to read it"
    before = window.image_view.shown_image().copy()
    window.random_action.trigger()
    assert not np.allclose(window.image_view.shown_image(), before)
    window.reset_action.trigger()
    assert not window.state.z.any()
    np.testing.assert_allclose(window.image_view.shown_image(), expected(window, model), atol=1e-6)


def test_a_decoder_only_model_draws_its_manifold_grid(qtbot, show):
    model = grey_decoder_only()
    window = show(document_of(model))
    tools = window.explore_tools
    with qtbot.waitSignal(tools.manifold_view.grid_changed, timeout=WAIT_MS):
        tools.manifold_action.trigger()
    grid = tools.manifold_view.manifold()
    size = tools.manifold_view.size_spin.value()
    assert grid.images.shape == (size, size, 32, 32, 1)
    # A click on a cell moves the point there, as for any model.
    scene = tools.manifold_view.cell_centre_scene(0, 0)
    view = tools.manifold_view.plot_widget
    before = window.state.z
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(scene))
    assert not np.allclose(window.state.z, before)


def test_a_decoder_only_model_morphs_between_two_slider_positions(qtbot, show, tmp_path):
    model = grey_decoder_only()
    window = show(document_of(model))
    tools = window.explore_tools
    tools.morph_action.trigger()
    panel = tools.morph_panel
    assert "sliders" in panel.note.text() and "sliders" in panel.set_a_button.toolTip()
    window.sliders.slider(0).setValue(-250)
    qtbot.mouseClick(panel.set_a_button, Qt.MouseButton.LeftButton)
    window.sliders.slider(0).setValue(250)
    window.sliders.slider(1).setValue(100)
    qtbot.mouseClick(panel.set_b_button, Qt.MouseButton.LeftButton)
    assert panel.end("A").label.startswith("sliders (-2.50")
    morph = panel.current_morph()
    assert morph is not None and morph.frames.shape == (panel.steps_spin.value(), 32, 32, 1)
    np.testing.assert_allclose(morph.z[0], panel.end("A").z)
    path = tmp_path / "morph.gif"
    panel.export(str(path))
    with Image.open(path) as gif:
        assert gif.n_frames == len(morph) and gif.size[0] % 32 == 0


def test_an_unconditional_model_with_labelled_data_offers_no_class_input(qtbot, show):
    """As for latentlab's plain VAE: the classes colour the scatter, the buttons are off."""
    model = FieldModel(28, 28, 3, 2, ("a", "b", "c", "d"))
    window = show(document_of(model, n=40))
    buttons = window.selector.buttons()
    assert len(buttons) == 4 and not any(b.isEnabled() for b in buttons)
    assert window.selector.reason() == capabilities.NO_CLASS_INPUT
    assert window.scatter.is_labelled() and len(window.scatter.class_items()) == 4
    assert window.image_view.title() == "Decoded"
    assert window.image_view.shown_image().shape == (28, 28, 3)


# --- an unlabelled colour model with points -------------------------------------------------


def test_unlabelled_points_are_one_colour_without_a_legend_or_classes(qtbot, show):
    model = colour_unlabelled()
    window = show(document_of(model, n=45))
    scatter = window.scatter
    assert scatter.has_map() and not scatter.is_labelled()
    assert [len(item.getData()[0]) for item in scatter.class_items()] == [45]
    assert scatter.tip_for(3) == "image #3"
    assert window.selector.isHidden()
    assert window.selector.toolTip() == capabilities.NO_CLASSES
    window.state.select(3)
    assert window.original_view.caption() == "image #3"
    assert window.original_view.image().shape == (24, 40, 3)
    tools = window.explore_tools
    tools.neighbours_action.trigger()
    panel = tools.neighbours_panel
    qtbot.waitUntil(lambda: len(panel.indices()) == panel.k(), timeout=WAIT_MS)
    assert panel.indices()[0] == 3 and "label" not in panel.buttons()[0].toolTip()
    assert not panel.same_class_check.isEnabled()


def test_a_click_on_an_unlabelled_point_selects_it(qtbot, show, unthrottled_mouse):
    window = show(document_of(colour_unlabelled(), n=45))
    QApplication.processEvents()  # the plot takes its new range in the event loop
    scatter = window.scatter
    points = window.state.points_2d()
    d = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    index = int(np.argmax(d.min(axis=1)))  # far from the others: a click hits only it
    viewport = scatter.plot_widget.viewport()
    pos = scatter.plot_widget.mapFromScene(scatter.scene_pos(*points[index]))
    qtbot.mouseMove(viewport, pos)
    with qtbot.waitSignal(scatter.point_clicked, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == [index] and window.state.selected == index


def test_the_manifold_grid_keeps_non_square_images_in_shape(qtbot, show):
    window = show(document_of(colour_unlabelled(), n=45))
    view = window.explore_tools.manifold_view
    with qtbot.waitSignal(view.grid_changed, timeout=WAIT_MS):
        window.explore_tools.manifold_action.trigger()
    assert view.manifold().images.shape[2:] == (24, 40, 3)
    box = view.plot_widget.getPlotItem().getViewBox()
    QApplication.processEvents()  # the view applies its locked aspect in the event loop
    (x0, x1), (y0, y1) = box.viewRange()
    per_x, per_y = box.width() / (x1 - x0), box.height() / (y1 - y0)
    # A cell is one unit square; its 40 x 24 pixels must come out square on screen.
    assert (per_x / 40) == pytest.approx(per_y / 24, rel=0.02)


# --- drawing on grey models of any size -----------------------------------------------------


@pytest.mark.parametrize("size", [(32, 32), (20, 36)])
def test_a_drawing_is_scaled_to_a_grey_models_size(qtbot, show, size):
    model = FieldModel(*size, 1, 3)
    window = show(document_of(model, n=30))
    insight = window.insight_tools
    assert insight.draw_action.isEnabled()
    insight.draw_action.trigger()
    panel = insight.draw_panel
    with qtbot.waitSignal(panel.reading_changed, timeout=WAIT_MS) as blocker:
        panel.canvas.draw_stroke([(140, 40), (140, 240)])
    reading = blocker.args[0]
    assert reading is not None and reading.image.shape == (*size, 1)
    assert reading.reconstruction.shape == (*size, 1)
    assert reading.image.max() > 0.5  # the stroke made it into the model's image
    assert f"{size[0]} x {size[1]}" in panel.input_view.toolTip()
    assert insight.overlay.is_shown()


# --- going back and forth -------------------------------------------------------------------


def test_a_latentlab_model_after_an_imported_one_gets_everything_back(
    qtbot, show, cvae_file, no_modal_dialogs
):
    window = show(document_of(grey_decoder_only()))
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.open_model(cvae_file)
    assert window.scatter.has_map() and window.scatter.is_labelled()
    assert not window.selector.isHidden() and len(window.selector.buttons()) == 10
    assert window.explore_tools.neighbours_action.isEnabled()
    assert window.insight_tools.evaluate_action.isEnabled()
    assert window.original_view.isEnabled()
    assert window.explore_tools.manifold_view.overlay_check.isEnabled()
    assert window.image_view.shown_image().shape == (28, 28)
    assert no_modal_dialogs == []


def test_a_live_model_left_unsaved_closes_without_asking(qtbot, show, monkeypatch):
    asked: list = []
    window = show(document_of(colour_unlabelled(), n=20, source="live"))
    window.files.ask_unsaved = lambda cancel: asked.append(cancel)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: asked.append(a))
    window.state.update_document(replace(window.document, unsaved=True))
    assert window.save_action.toolTip() == capabilities.SAVE_LIVE
    assert not window.isWindowModified()
    assert window.windowTitle().startswith("live model")
    assert window.status_model.text().startswith("live model  ·  live Python model, 5-D")
    assert window.close() and asked == []


def test_the_digit_keys_do_nothing_on_a_model_without_classes(qtbot, show):
    window = show(document_of(colour_unlabelled(), n=20))
    before = window.image_view.shown_image().copy()
    qtbot.keyClick(window, Qt.Key.Key_3)
    assert window.state.class_index == 0
    np.testing.assert_array_equal(window.image_view.shown_image(), before)
