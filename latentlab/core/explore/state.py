"""The explorer's state: one home for the latent point, the class, the selection and the views.

Every value a user can change lives here once, and every change announces itself (`events`), so
a view updates because the state changed, not because a slot remembered to refresh it; a test or
a script drives the explorer without a window. The state knows models only as `LatentModel`s.

Slider policy lives here too: each slider direction spans the encoded data and at least
+-MIN_SLIDER_RANGE (the prior's 99.95 %), and every latent the state takes is kept inside that
box, so a slider always shows the value that is decoded.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .dimensions import decode_strips, kl_along
from .document import Document
from .events import Event
from .latent_model import LatentModel, decode_one
from .points import EncodedPoints
from .projection import LinearBasis, NonlinearProjection, Projection, dims_basis, pca_basis

MIN_SLIDER_RANGE = 3.5  # sliders span at least [-3.5, 3.5]: 99.95 % of the N(0, 1) prior
SLIDER_KINDS = ("dims", "pca")


def clamp_to_box(basis: LinearBasis, r: float, z: np.ndarray) -> np.ndarray:
    """`z` with each coordinate along `basis` clipped to [-r, r] (a copy when inside already)."""
    coords = basis.project(z)
    if np.abs(coords).max(initial=0.0) <= r:
        return np.array(z, np.float32, copy=True)
    return basis.latent(np.clip(coords, -r, r))


class ExplorerEvents:
    """What can change. Each event's callbacks get the new value (or nothing)."""

    def __init__(self) -> None:
        self.model = Event("model")  # a new document is shown; everything below was reset
        self.document = Event("document")  # the same model was saved (path, unsaved flag)
        self.z = Event("z")  # (d,) float32: the latent point
        self.class_index = Event("class_index")  # int: the class fed to a conditional decoder
        self.selection = Event("selection")  # int | None: the encoded point shown, if any
        self.projection = Event("projection")  # Projection: the scatter's two axes (or a map)
        self.slider_basis = Event("slider_basis")  # LinearBasis: the sliders' directions
        self.changed = Event("changed")  # after any change of what is shown (one per action)


class ExplorerState:
    """The state behind one explorer window (or one script), for one model at a time."""

    def __init__(self) -> None:
        self.events = ExplorerEvents()
        self._document: Document | None = None
        self._z = np.zeros(0, np.float32)
        self._class = 0
        self._selected: int | None = None
        self._bases: dict[str, LinearBasis] = {}
        self._projection: Projection | None = None
        self._maps: dict[str, NonlinearProjection] = {}  # computed maps by kind ("umap", "tsne")
        self._lifted: tuple[np.ndarray, np.ndarray] | None = None  # (plane point, z lifted to)
        self._slider_kind = "dims"
        self._points_2d: np.ndarray | None = None
        self._ranges: dict[str, float] = {}
        self._kl: dict[str, np.ndarray] = {}

    # --- the model ---------------------------------------------------------------------------
    def open(self, document: Document) -> None:
        """Show `document`: the origin, class 0, no selection, default axes and sliders."""
        model, points = document.model, document.points
        d = model.latent_dim
        if d < 1:
            raise ValueError("a model needs at least one latent dimension")
        if points is not None and points.latent_dim != d:
            raise ValueError(f"the encoded points are {points.latent_dim}-D, the model {d}-D")
        self._document = document
        self._bases = {"dims": dims_basis(d)}
        if points is not None and len(points) > 1:
            self._bases["pca"] = pca_basis(points.mu)
        self._ranges = {kind: _slider_range(basis, points) for kind, basis in self._bases.items()}
        self._kl = {}
        self._slider_kind = "dims"
        self._z = np.zeros(d, np.float32)
        self._class = 0
        self._selected = None
        self._projection = self._default_projection()
        self._maps = {}
        self._lifted = None
        self._points_2d = None
        self.events.model.emit()
        self.events.changed.emit()

    def update_document(self, document: Document) -> None:
        """The same model under a new path or saved flag (after Save as…)."""
        if self._document is None or document.model is not self._document.model:
            raise ValueError("update_document keeps the model; use open() for another one")
        self._document = document
        self.events.document.emit()

    @property
    def document(self) -> Document | None:
        return self._document

    @property
    def model(self) -> LatentModel | None:
        return None if self._document is None else self._document.model

    @property
    def points(self) -> EncodedPoints | None:
        return None if self._document is None else self._document.points

    @property
    def loaded(self) -> bool:
        return self._document is not None

    @property
    def conditional(self) -> bool:
        return self.model is not None and self.model.conditional

    @property
    def class_names(self) -> tuple[str, ...]:
        return () if self.model is None else self.model.class_names

    @property
    def latent_dim(self) -> int:
        return len(self._z)

    # --- the point ---------------------------------------------------------------------------
    @property
    def z(self) -> np.ndarray:
        """The current latent point (a copy: change it through the methods below)."""
        return self._z.copy()

    @property
    def class_index(self) -> int:
        return self._class

    @property
    def selected(self) -> int | None:
        """The encoded point whose reconstruction is shown, or None for a free point."""
        return self._selected

    def set_z(self, z: np.ndarray) -> None:
        """Move to `z` (kept inside the sliders' box); any selection ends."""
        self._set(self._checked_z(z), self._class, None)

    def set_latent(self, index: int, value: float) -> None:
        """Set one raw latent dimension."""
        z = self._z.copy()
        z[index] = value
        self.set_z(z)

    def set_slider(self, index: int, value: float) -> None:
        """Move along slider direction `index` so that its coordinate is `value`."""
        self.set_z(self.slider_basis.with_coord(self._z, index, value))

    def move_along(self, direction, value: float, start: np.ndarray | None = None) -> None:
        """Move along a named direction (`directions.Direction`) so that its coordinate is
        `value`, changing z only along it: from `start` (where a slider drag began, so the
        box's clipping never accumulates) or else from the current point."""
        self.set_z(direction.at(self._z if start is None else start, value))

    def set_class(self, index: int) -> None:
        if not self.conditional:
            return
        if not 0 <= index < len(self.class_names):
            raise ValueError(f"class must be in 0..{len(self.class_names) - 1}, got {index}")
        self._set(self._z, int(index), None)

    def set_point(self, z: np.ndarray, class_index: int | None = None) -> None:
        """Move to `z` and (conditional models) class `class_index` in one change."""
        k = self._class if class_index is None or not self.conditional else int(class_index)
        self._set(self._checked_z(z), k, None)

    def select(self, index: int) -> None:
        """Go to encoded point `index`: its mean, and the class the model reads in it."""
        points = self._need_points()
        if not 0 <= index < len(points):
            raise IndexError(f"point {index} is outside 0..{len(points) - 1}")
        k = int(points.predicted[index]) if self.conditional else self._class
        self._set(self._checked_z(points.mu[index]), k, int(index))

    def reset(self) -> None:
        self.set_z(np.zeros_like(self._z))

    def randomize(self, rng: np.random.Generator) -> None:
        """A point drawn from the model's `sample_latents` for the current class where it has one
        (a class density), else from the prior N(0, I); kept inside the sliders' box."""
        draw = getattr(self.model, "sample_latents", None)
        if draw is not None:
            k = self._class if self.conditional else None
            self.set_z(np.asarray(draw(1, k, rng), np.float32)[0])
        else:
            self.set_z(rng.standard_normal(self.latent_dim).astype(np.float32))

    def move_to(self, x: float, y: float) -> None:
        """Move so that the point lands at (x, y) on the scatter, if its projection can lift.

        On a nonlinear map the point is then shown at (x, y), where the user put it (projecting
        the lifted latent back would land near there, not exactly).
        """
        point = np.array([x, y], np.float32)
        z = self.projection.lift(point, self._z)
        if z is None:
            return
        z = self._checked_z(z)
        if isinstance(self._projection, NonlinearProjection):
            self._lifted = (point, z)
        self._set(z, self._class, None)

    def _set(self, z: np.ndarray, class_index: int, selected: int | None) -> None:
        z_changed = not np.array_equal(z, self._z)
        class_changed = class_index != self._class
        selection_changed = selected != self._selected
        self._z, self._class, self._selected = z, class_index, selected
        if z_changed:
            self.events.z.emit(self._z.copy())
        if class_changed:
            self.events.class_index.emit(class_index)
        if selection_changed:
            self.events.selection.emit(selected)
        if z_changed or class_changed or selection_changed:
            self.events.changed.emit()

    def _checked_z(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.float32).reshape(-1)
        if z.shape != self._z.shape:
            raise ValueError(f"expected {self.latent_dim} latent values, got {z.size}")
        if not np.isfinite(z).all():
            raise ValueError("a latent point must be finite")
        return clamp_to_box(self.slider_basis, self.slider_range, z)

    def box_limit(self) -> Callable[[np.ndarray], np.ndarray]:
        """A function that keeps a latent inside the sliders' box as it is now (safe to call
        from a worker: it holds the basis and range, not the state)."""
        basis, r = self.slider_basis, self.slider_range
        return lambda z: clamp_to_box(basis, r, z)

    # --- what is shown -----------------------------------------------------------------------
    def condition(self) -> np.ndarray | None:
        """The decoder's class input for the current class (None for a plain model)."""
        return self.model.condition(self._class) if self.conditional else None

    def decode(self) -> np.ndarray:
        """The current point decoded: (H, W, C) float32 in [0, 1]."""
        return decode_one(self._need_model(), self._z, self.condition())

    def reconstruction(self, index: int) -> np.ndarray:
        """Encoded point `index` decoded from its mean (with the classifier's reading as class)."""
        points = self._need_points()
        condition = None
        if self.conditional:
            probs = points.probs
            condition = (
                probs[index]
                if probs is not None
                else self.model.condition(int(points.labels[index]))
            )
        return decode_one(self._need_model(), points.mu[index], condition)

    def image(self) -> np.ndarray:
        """What the image pane shows: the selection's reconstruction, else the current point."""
        return self.decode() if self._selected is None else self.reconstruction(self._selected)

    def classify(self, image: np.ndarray) -> tuple[int, float] | None:
        """The model's own reading of an image: (class, probability), or None without one."""
        model = self.model
        if model is None or not model.can_classify:
            return None
        probs = model.classify(np.asarray(image, np.float32)[None])[0]
        best = int(np.argmax(probs))
        return best, float(probs[best])

    # --- the scatter's axes -----------------------------------------------------------------
    @property
    def projection(self) -> Projection:
        """The scatter's map: a `LinearBasis` (dims, PCA) or a `NonlinearProjection`."""
        if self._projection is None:
            raise RuntimeError("no model is open")
        return self._projection

    def basis(self, kind: str) -> LinearBasis:
        """The full basis of a kind ("dims", or "pca" when there are points)."""
        if kind not in self._bases:
            raise ValueError(f"no {kind!r} directions for this model")
        return self._bases[kind]

    def available_kinds(self) -> tuple[str, ...]:
        return tuple(self._bases)

    def add_map(self, projection: NonlinearProjection) -> None:
        """Make a computed map of the encoded points available as projection `projection.kind`
        (replacing one of the same kind); `set_projection(kind)` then shows it."""
        points = self._need_points()
        if len(projection.latents) != len(points) or projection.latent_dim != self.latent_dim:
            raise ValueError("the map is not of this model's encoded points")
        if projection.kind in self._bases:
            raise ValueError(f"{projection.kind!r} is a linear view's name")
        self._maps[projection.kind] = projection

    def map_projection(self, kind: str) -> NonlinearProjection | None:
        """The computed map of that kind, if there is one."""
        return self._maps.get(kind)

    def set_projection(self, kind: str, i: int = 0, j: int = 1) -> None:
        """Show directions i and j of the `kind` basis on the scatter, or the map `kind`."""
        if self.latent_dim < 2:
            raise ValueError("a 1-D latent space cannot be shown on a plane")
        if kind in self._maps:
            self._projection = self._maps[kind]
        else:
            self._projection = self.basis(kind).plane(i, j)
        self._points_2d = None
        self._lifted = None
        self.events.projection.emit(self._projection)
        self.events.changed.emit()

    def points_2d(self) -> np.ndarray:
        """(N, 2) float32 positions of the encoded points on the current axes."""
        points = self._need_points()
        if self._points_2d is None:
            projection = self.projection
            if isinstance(projection, NonlinearProjection):
                self._points_2d = projection.coords
            else:
                self._points_2d = projection.project(points.mu)
        return self._points_2d

    def current_point(self) -> np.ndarray:
        """Where the point is on the scatter (on a map: where it was dragged to, if it was)."""
        lifted = self._lifted
        if lifted is not None and np.array_equal(lifted[1], self._z):
            return lifted[0].copy()
        return self.projection.project(self._z)

    def nearest_point(self, x: float, y: float) -> int:
        """Index of the encoded point nearest to (x, y) on the current axes."""
        d = self.points_2d() - np.array([x, y], dtype=np.float32)
        return int(np.argmin(np.einsum("ij,ij->i", d, d)))

    def _default_projection(self) -> LinearBasis:
        if self.latent_dim == 1:  # a line: z1 across, nothing up
            flat = np.array([[1.0], [0.0]], np.float32)
            return LinearBasis("dims", flat, np.zeros(1, np.float32), ("z1", "(none)"))
        if self.latent_dim == 2 or "pca" not in self._bases:
            return self._bases["dims"].plane(0, 1)
        return self._bases["pca"].plane(0, 1)

    # --- the sliders -------------------------------------------------------------------------
    @property
    def slider_basis(self) -> LinearBasis:
        return self._bases[self._slider_kind]

    @property
    def slider_range(self) -> float:
        """Half-width of every slider: the data's extent along the directions, at least 3.5."""
        return self._ranges.get(self._slider_kind, MIN_SLIDER_RANGE)

    def slider_values(self) -> np.ndarray:
        """The current point's coordinate along each slider direction."""
        return self.slider_basis.project(self._z)

    def slider_kl(self) -> np.ndarray | None:
        """Average KL of the encoded points along each slider direction (None without points)."""
        points = self.points
        if points is None:
            return None
        kind = self._slider_kind
        if kind not in self._kl:
            basis = self.slider_basis
            self._kl[kind] = kl_along(points.mu, points.logvar, basis.components)
        return self._kl[kind]

    def slider_strips(self) -> np.ndarray:
        """(K, V, H, W, C) images along every slider direction, from the current point."""
        return decode_strips(self._need_model(), self.slider_basis, self._z, self.condition())

    def set_slider_kind(self, kind: str) -> None:
        """Slide along the raw dimensions ("dims") or the principal components ("pca")."""
        if kind == self._slider_kind:
            return
        self.basis(kind)  # raises for a kind this model lacks
        self._slider_kind = kind
        self.events.slider_basis.emit(self.slider_basis)
        self._set(self._checked_z(self._z), self._class, self._selected)  # inside the new box

    # --- helpers -----------------------------------------------------------------------------
    def _need_model(self) -> LatentModel:
        if self.model is None:
            raise RuntimeError("no model is open")
        return self.model

    def _need_points(self) -> EncodedPoints:
        if self.points is None:
            raise RuntimeError("this model has no encoded points")
        return self.points


def _slider_range(basis: LinearBasis, points: EncodedPoints | None) -> float:
    """At least MIN_SLIDER_RANGE, and wide enough for every encoded point (rounded up to 0.5)."""
    if points is None or len(points) == 0:
        return MIN_SLIDER_RANGE
    extent = float(np.abs(basis.project(points.mu)).max())
    return max(MIN_SLIDER_RANGE, math.ceil(extent * 2) / 2)
