"""What the document shown can do, and, where it cannot, the one line that says why.

Every model kind (latentlab's own, an imported ONNX file, a live PyTorch object) reaches the
window as a `Document`; what it lacks (an encoder, labels, a latentlab record behind it) is read
here once, so each widget disables the same things with the same words instead of crashing on
a feature the model does not have.
"""

from __future__ import annotations

from latentlab.core.explore.document import Document
from latentlab.core.explore.latent_model import LatentModel
from latentlab.core.vae.record import ModelRecord

NO_ENCODER = (
    "This model has no encoder, so there is no data to map. "
    "Sliders, sampling, grids and morphs between chosen points still work."
)
NO_POINTS_NEIGHBOURS = "This model has no encoder, so there are no data images to compare with."
NO_POINTS_IMAGES = "This model has no encoder, so there are no data images to show."
NO_POINTS_SCATTER_EXPORT = "This model has no encoder, so there is no scatter to export."
NO_CLASSES = "This model has no classes."
NO_CLASS_INPUT = "This model has no class input."
DRAW_NEEDS_GREY = "Drawing is for grey-image models."
DRAW_NEEDS_ENCODER = "Drawing needs a model with an encoder to read the drawing."
EVALUATE_NEEDS_RECORD = (
    "Evaluation needs a latentlab model; for imported models use `latentlab eval FILE`."
)
SAVE_IMPORTED = "An imported model is already saved: it is the file it was opened from."
SAVE_LIVE = "A live model is saved from Python with latentlab.export(...)."
SAVE_NOTHING_NEW = "The model shown is already saved in its file."
SOURCE_TEXTS = {"onnx": "imported ONNX", "live": "live Python model"}


def record_of(document: Document | None) -> ModelRecord | None:
    """The latentlab record behind a document (saved, evaluated, shown in Info), if it has one."""
    payload = None if document is None else document.payload
    return payload if isinstance(payload, ModelRecord) else None


def save_reason(document: Document | None) -> str:
    """Why Save model as… is off for `document` ("" when it can be saved now)."""
    if document is None:
        return "No model loaded."
    if record_of(document) is None:
        return SAVE_LIVE if document.source == "live" else SAVE_IMPORTED
    return "" if document.unsaved else SAVE_NOTHING_NEW


def evaluate_reason(document: Document | None) -> str:
    """Why Model > Evaluate… is off ("" when the report can run)."""
    if document is None:
        return "No model loaded."
    return "" if record_of(document) is not None else EVALUATE_NEEDS_RECORD


def draw_reason(model: LatentModel | None) -> str:
    """Why the Draw dock is off for `model` ("" when a drawing can be read)."""
    if model is None:
        return "No model loaded."
    if model.image_spec.channels != 1:
        return DRAW_NEEDS_GREY
    if not model.can_encode:
        return DRAW_NEEDS_ENCODER
    return ""


def image_size_text(model: LatentModel) -> str:
    """ "64 x 64 RGB", "28 x 28 grey": the model's image size as people say it."""
    spec = model.image_spec
    colour = "RGB" if spec.channels == 3 else "grey"
    return f"{spec.height} x {spec.width} {colour}"


def shown_name(document: Document) -> str:
    """The title's name: the file's, else "live model" for an in-memory one (never "unsaved":
    the app has nothing to save a live model to)."""
    if document.path is None and record_of(document) is None:
        return "live model" if document.source == "live" else "untitled"
    return document.name


def kind_text(document: Document) -> str:
    """What kind of model: "conditional VAE" for latentlab's own, "imported ONNX" and so on."""
    if document.source in SOURCE_TEXTS:
        return SOURCE_TEXTS[document.source]
    return "conditional VAE" if document.model.conditional else "plain VAE"
