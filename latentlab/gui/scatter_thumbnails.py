"""Images on the map: each point drawn as its own thumbnail once the view is zoomed in enough.

As TensorBoard's projector draws image sprites: every point's image is packed once into one
atlas image (tiles of at most `TILE` pixels, in a worker), and the layer paints, for the points
inside the view, their tiles from that atlas at a fixed size on screen, centred on the points.
Where the visible points would pile up (more than `MAX_SHOWN` of them, or their thumbnails
would cover the view more than `MAX_COVER` times over) it paints nothing and says so, so
panning and zooming stay smooth whatever the number of points.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, Signal, Slot
from PySide6.QtGui import QAction, QColor, QImage, QKeySequence, QPainter, QPen
from PySide6.QtWidgets import QGraphicsObject, QStyleOptionGraphicsItem, QWidget

from latentlab.core.explore.imaging import picture_uint8
from latentlab.core.explore.state import ExplorerState

from .workers import LatestJob

TILE = 28  # the atlas's tile side in pixels: MNIST's own size; larger images are shrunk to it
SHOWN_SIDE = 30  # a thumbnail's side on screen, in pixels
MAX_SHOWN = 600  # more visible points than this and the thumbnails would pile up
MAX_COVER = 0.5  # ... or their area would cover more than half the view
ATLAS_COLUMNS = 256


def atlas_tiles(images: np.ndarray, tile: int = TILE) -> np.ndarray:
    """(N, t, t, C) uint8 ink-on-paper tiles of (N, H, W, C) images in [0, 1], shrunk (by block
    means) to fit `tile` pixels a side and padded with paper to a square."""
    images = np.asarray(images, np.float32)
    n, h, w, c = images.shape
    step = max(1, -(-max(h, w) // tile))  # ceil: whole-pixel blocks
    hh, ww = (h // step) * step, (w // step) * step
    small = images[:, :hh, :ww].reshape(n, hh // step, step, ww // step, step, c).mean((2, 4))
    ink = picture_uint8(small)  # (N, h', w') grey or (N, h', w', 3)
    if ink.ndim == 3:
        ink = ink[..., None]
    side = max(ink.shape[1], ink.shape[2])
    out = np.full((n, side, side, ink.shape[-1]), 255, np.uint8)
    top, left = (side - ink.shape[1]) // 2, (side - ink.shape[2]) // 2
    out[:, top : top + ink.shape[1], left : left + ink.shape[2]] = ink
    return out


def pack_atlas(tiles: np.ndarray, columns: int = ATLAS_COLUMNS) -> np.ndarray:
    """One (rows * t, columns * t, C) image holding tile i at row i // columns, column i % columns."""
    n, t, _, c = tiles.shape
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    padded = np.full((rows * columns, t, t, c), 255, np.uint8)
    padded[:n] = tiles
    grid = padded.reshape(rows, columns, t, t, c).transpose(0, 2, 1, 3, 4)
    return np.ascontiguousarray(grid.reshape(rows * t, columns * t, c))


def visible_indices(
    xy: np.ndarray,
    view: QRectF,
    pixels_per_unit: tuple[float, float],
    shown: np.ndarray | None = None,
    training: int = 0,
) -> tuple[np.ndarray, str]:
    """The points inside `view` (of the classes `shown`, a mask) when their thumbnails would
    stand apart, else none and why; the note counts what is drawn, `training` points too."""
    if len(xy) == 0:
        return np.zeros(0, np.int64), ""
    x0, x1 = sorted((view.left(), view.right()))
    y0, y1 = sorted((view.top(), view.bottom()))
    inside = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
    if shown is not None and len(shown) == len(inside):
        inside &= shown
    index = np.flatnonzero(inside)
    sx, sy = pixels_per_unit
    view_pixels = max((x1 - x0) * sx * (y1 - y0) * sy, 1.0)
    cover = len(index) * SHOWN_SIDE * SHOWN_SIDE / view_pixels
    if len(index) > MAX_SHOWN or cover > MAX_COVER:
        count = (
            f"{len(index)} points"
            if not training
            else (f"{len(index)} test and {training} training points")
        )
        return np.zeros(0, np.int64), f"zoom in to see the images ({count} in view)"
    return index, ""


class ThumbnailLayer(QGraphicsObject):
    """Paints the visible points' tiles from one atlas at SHOWN_SIDE pixels on screen."""

    status_changed = Signal(str)  # "" when drawing (or off), else why not ("zoom in …")

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsObject.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self._atlas: QImage | None = None
        self._tile = TILE
        self._columns = 1
        self._xy = np.zeros((0, 2), np.float32)
        self._visible: Callable[[], np.ndarray] | None = None  # a mask of shown classes
        self._frames: Callable[[], tuple[np.ndarray, list[QColor]] | None] | None = None
        self._training: Callable[[], int] | None = None  # training points drawn in view
        self.drawn = np.zeros(0, np.int64)  # the points painted last time
        self.status = ""
        self.setZValue(5)  # above the points, below the marker and the overlays

    # --- what the owner sets -----------------------------------------------------------------
    def set_atlas(self, atlas: np.ndarray | None, tile: int, count: int) -> None:
        """The packed tiles (from `pack_atlas`) of `count` points, or None to draw nothing."""
        if atlas is None:
            self._atlas = None
        else:
            h, w, c = atlas.shape
            fmt = QImage.Format.Format_RGB888 if c == 3 else QImage.Format.Format_Grayscale8
            self._atlas = QImage(atlas.data, w, h, w * c, fmt).copy()
            self._columns = max(1, w // tile)
        self._tile = tile
        self._count = count
        self.update()

    def set_positions(self, xy: np.ndarray) -> None:
        self.prepareGeometryChange()
        self._xy = np.asarray(xy, np.float32)
        self.update()

    def set_class_filter(self, visible: Callable[[], np.ndarray] | None) -> None:
        """A function giving a boolean mask of the points whose class is shown."""
        self._visible = visible
        self.update()

    def set_training_count(self, count: Callable[[], int] | None) -> None:
        """A function giving how many training points are drawn in view (for the note)."""
        self._training = count
        self.update()

    def view_changed(self) -> None:
        """The view moved: the layer covers the new view rectangle."""
        self.prepareGeometryChange()
        self.update()

    def set_frames(self, frames: Callable[[], tuple[np.ndarray, list[QColor]] | None]) -> None:
        """A function giving each point's class and the class colours, for the frames (None:
        grey frames, as when the points are coloured by a value)."""
        self._frames = frames
        self.update()

    @property
    def has_atlas(self) -> bool:
        return self._atlas is not None

    # --- QGraphicsItem -------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        view = self.getViewBox()
        if view is None:
            return QRectF()
        return view.viewRect()

    def getViewBox(self) -> pg.ViewBox | None:
        parent = self.parentItem()
        while parent is not None and not isinstance(parent, pg.ViewBox):
            parent = parent.parentItem()
        return parent

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        view = self.getViewBox()
        atlas = self._atlas
        if view is None or atlas is None or len(self._xy) != self._count:
            self._set_status("")
            self.drawn = np.zeros(0, np.int64)
            return
        rect = view.viewRect()
        transform = painter.transform()
        scale = (abs(transform.m11()) or 1.0, abs(transform.m22()) or 1.0)
        shown = self._visible() if self._visible is not None else None
        training = self._training() if self._training is not None else 0
        index, why = visible_indices(self._xy, rect, scale, shown, training)
        self.drawn = index
        self._set_status(why)
        if len(index) == 0:
            return
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        grey = QPen(QColor(120, 120, 120, 160), 1)
        painter.setPen(grey)
        frames = self._frames() if self._frames is not None else None
        pens = None
        if frames is not None:
            groups, colours = frames
            pens = [QPen(colour, 2) for colour in colours]
        t, half = self._tile, SHOWN_SIDE / 2
        for i in index:
            if pens is not None:
                painter.setPen(pens[int(groups[i]) % len(pens)])
            centre = transform.map(QPointF(float(self._xy[i, 0]), float(self._xy[i, 1])))
            target = QRectF(centre.x() - half, centre.y() - half, SHOWN_SIDE, SHOWN_SIDE)
            source = QRectF((i % self._columns) * t, (i // self._columns) * t, t, t)
            painter.drawImage(target, atlas, source)
            painter.drawRect(target)
        painter.restore()

    def index_at(self, scene_pos: QPointF) -> int | None:
        """The point whose thumbnail (as last painted) covers `scene_pos`: the last drawn, on
        top, wins; None where no thumbnail is. A thumbnail is 30 pixels a side, far more than
        the point beneath it, so the whole image answers a hover or a click."""
        view = self.getViewBox()
        if view is None or not len(self.drawn) or not self.isVisible():
            return None
        centres = self._xy[self.drawn]
        to_scene = self.sceneTransform()
        # The points' scene positions: one affine map for all of them (the view has no shear).
        sx, sy = to_scene.m11(), to_scene.m22()
        x = centres[:, 0] * sx + to_scene.dx()
        y = centres[:, 1] * sy + to_scene.dy()
        half = SHOWN_SIDE / 2
        inside = (np.abs(x - scene_pos.x()) <= half) & (np.abs(y - scene_pos.y()) <= half)
        hits = np.flatnonzero(inside)
        return int(self.drawn[hits[-1]]) if len(hits) else None

    def _set_status(self, why: str) -> None:
        if why != self.status:
            self.status = why
            self.status_changed.emit(why)


ATLAS_BYTES = 128 * 2**20  # the atlas's memory ceiling: tiles shrink to fit (1M points: 11 px)
DECODE_CHUNK = 512


def tile_side(count: int, channels: int) -> int:
    """The largest tile side up to TILE whose atlas of `count` tiles fits ATLAS_BYTES."""
    fit = int(np.sqrt(ATLAS_BYTES / max(count * channels, 1)))
    return int(max(4, min(TILE, fit)))


def atlas_job(
    images: Callable[[], tuple[np.ndarray | None, str]], model: object, points: object
) -> Callable[[object], tuple[np.ndarray, int, int, str]]:
    """A worker job: every point's image (the data's, else its decoded mean) packed in one atlas."""

    def job(token: object) -> tuple[np.ndarray, int, int, str]:
        pictures, _why = images()
        source = "images"
        n = len(points)
        channels = model.image_spec.channels
        tile = tile_side(n, channels)
        tiles = []
        if pictures is None:  # no data images: the decoded means stand in
            source = "decoded means"
            condition = None
            if model.conditional:
                condition = (
                    points.probs if points.probs is not None else model.condition(points.labels)
                )
        for start in range(0, n, DECODE_CHUNK):
            token.check()
            stop = min(start + DECODE_CHUNK, n)
            if pictures is not None:
                chunk = np.asarray(pictures[start:stop])
                chunk = chunk / np.float32(255) if chunk.dtype == np.uint8 else chunk
                chunk = chunk[..., None] if chunk.ndim == 3 else chunk
            else:
                cond = None if condition is None else np.asarray(condition[start:stop], np.float32)
                chunk = model.decode(np.asarray(points.mu[start:stop], np.float32), cond)
            tiles.append(atlas_tiles(chunk, tile))
        packed = pack_atlas(np.concatenate(tiles)) if tiles else None
        return packed, (tiles[0].shape[1] if tiles else tile), n, source

    return job


THUMBNAILS_TIP = (
    "Draw each point as its own image once the view is zoomed in far enough that they stand apart"
)


class ThumbnailTools(QObject):
    """View > Images on the map: the toggle, the atlas (built in a worker) and the layer."""

    def __init__(self, view: pg.ViewBox, state: ExplorerState, parent: QObject) -> None:
        super().__init__(parent)
        self.state = state
        self.layer = ThumbnailLayer()
        self.layer.hide()
        view.addItem(self.layer, ignoreBounds=True)
        self.note = pg.TextItem(
            "", color=(60, 60, 60), fill=pg.mkBrush(255, 255, 255, 210), anchor=(0, 1)
        )
        # Fixed in the view's bottom-left corner (not in data coordinates): the legend holds
        # the top right, and a narrow view would put a top-left note under it.
        self.note.setParentItem(view)
        self._view = view
        self._place_note()
        view.sigResized.connect(self._place_note)
        self.note.setZValue(150)
        self.note.hide()
        self._images: Callable[[], tuple[np.ndarray | None, str]] = lambda: (None, "")
        self._atlas_for: object = None  # the points the atlas was built for
        self.source = ""
        self.action = QAction("&Images on the map", self)
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence("Ctrl+Shift+M"))
        self.action.setToolTip(THUMBNAILS_TIP)
        self.action.setStatusTip(THUMBNAILS_TIP)
        self.action.toggled.connect(self._on_toggled)
        self.job = LatestJob("latentlab-thumbnails", self)
        self.job.returned.connect(self._on_atlas)
        self.job.errored.connect(self._on_failed)
        self.layer.status_changed.connect(self._show_note)
        view.sigRangeChanged.connect(self._on_range)
        state.events.model.connect(self._on_model)
        state.events.projection.connect(self._on_projection)

    def set_images_source(self, images: Callable[[], tuple[np.ndarray | None, str]]) -> None:
        """Where the points' images come from (None and why where there are none)."""
        self._images = images
        self._atlas_for = None
        if self.action.isChecked():
            self._build()

    def images_arrived(self) -> None:
        """The data's images are known now: rebuild an atlas made of decoded means."""
        if self.source != "images":
            self._atlas_for = None
            if self.action.isChecked():
                self._build()

    def set_class_filter(self, visible: Callable[[], np.ndarray]) -> None:
        self.layer.set_class_filter(visible)

    @Slot(bool)
    def _on_toggled(self, on: bool) -> None:
        self.layer.setVisible(on)
        if on:
            self._build()
        else:
            self._show_note("")

    def _build(self) -> None:
        state = self.state
        if not state.loaded or state.points is None:
            return
        if self._atlas_for is state.points and self.layer.has_atlas:
            return
        self._atlas_for = state.points
        self._show_note("packing the images…")
        self.job.submit(atlas_job(self._images, state.model, state.points), state.points)

    @Slot(object, object)
    def _on_atlas(self, points: object, result: tuple[np.ndarray, int, int, str]) -> None:
        if points is not self.state.points:
            return
        atlas, tile, count, self.source = result
        self.layer.set_atlas(atlas, tile, count)
        self.layer.set_positions(self.state.points_2d())
        self._show_note(self.layer.status)

    @Slot(object, object)
    def _on_failed(self, _points: object, exc: BaseException) -> None:
        self._atlas_for = None
        self._show_note(f"no images on the map: {exc}")

    def _on_model(self, _model: object = None) -> None:
        self.layer.set_atlas(None, TILE, 0)
        self._atlas_for = None
        self.source = ""
        has_points = self.state.points is not None
        self.action.setEnabled(has_points)
        if has_points and self.action.isChecked():
            self._build()

    def _on_projection(self, _projection: object = None) -> None:
        if self.state.points is not None:
            self.layer.set_positions(self.state.points_2d())

    def _on_range(self, *_args: object) -> None:
        self.layer.view_changed()

    def _place_note(self, *_args: object) -> None:
        """Bottom left, wrapped to the view's width where it is narrow."""
        item, room = self.note.textItem, max(self._view.width() - 16, 60.0)
        item.setTextWidth(-1)
        if item.boundingRect().width() > room:
            self.note.setTextWidth(room)
        self.note.setPos(6, self._view.height() - 4)

    @Slot(str)
    def _show_note(self, text: str) -> None:
        self.note.setText(text)
        self._place_note()
        self.note.setVisible(bool(text) and self.action.isChecked())

    def shutdown(self) -> None:
        self.job.shutdown()
