"""Images users bring, read as a stream of uint8 chunks (n, H, W, C) at the size a model reads.

``open_source`` looks at a path and returns an `ImageSource`: a folder with one sub-folder per
class (torchvision's ImageFolder convention), a flat folder of images, an ``.npz`` or ``.npy``
array, or an MNIST-style IDX images file (its labels file found beside it). Opening reads only
what describes the data: a folder's file list and its first image's header, an array's header,
the labels. Pixels are read by ``chunks``, a chunk at a time, so a 200,000-image folder or a
multi-GB array never has to fit in memory; ``len``, the shapes and the labels are known first,
so a caller can check everything before encoding anything.

Every problem is a ``DataError`` whose one line starts with the file it is about. Nothing is
unpickled, only regular files are opened (a FIFO or a device never stalls a read), and Pillow
reads only the formats listed in ``IMAGE_SUFFIXES`` (never, say, EPS, which runs Ghostscript).
Pillow is imported only when an image file is read.
"""

from __future__ import annotations

import os
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from math import prod
from pathlib import Path
from typing import Any, BinaryIO, Protocol, runtime_checkable

import numpy as np

from latentlab.core.data import idx
from latentlab.core.data.attributes import read_attributes
from latentlab.core.errors import DataError
from latentlab.core.jobs import Cancel, check_cancelled
from latentlab.core.safe_read import FileRefused, open_regular, read_exact
from latentlab.core.text import first_line, shown_path

__all__ = ["IMAGE_SUFFIXES", "ImageSource", "open_source", "read_attributes"]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
_PIL_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP", "TIFF")
_NOT_AN_IMAGE = "not an image Pillow can read as PNG, JPEG, BMP, GIF, WebP or TIFF"
_GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "F"})
_FOLDER_KIND = "image folder (one sub-folder per class)"
_FLAT_KIND = "flat image folder"
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_READ_ERRORS = (FileRefused, OSError, EOFError, zipfile.BadZipFile, zlib.error)


@runtime_checkable
class ImageSource(Protocol):
    """A data set on disk, described up front and read in chunks."""

    path: Path
    name: str  # the folder's or file's name
    kind: str  # "image folder (one sub-folder per class)", "flat image folder", "npz", "npy", "idx"
    image_shape: tuple[int, int, int]  # (H, W, C) of the chunks (after resizing, channels)
    source_shape: tuple[int, int, int]  # (H, W, C) as found on disk (a folder: its first image)
    class_names: tuple[str, ...]  # () for unlabelled data
    labels: np.ndarray | None  # (N,) int64 indices into class_names; None when unlabelled
    notes: tuple[str, ...]  # what a summary should mention (entries skipped, the labels file)

    def __len__(self) -> int: ...

    def chunks(self, size: int, cancel: Cancel = None) -> Iterator[np.ndarray]:
        """uint8 (n, H, W, C) chunks in order, n <= size; checks ``cancel`` before each."""
        ...


# --- fitting images to what the model reads -------------------------------------------------


@dataclass(frozen=True)
class _Fit:
    """The (H, W, C) a model reads, and whether images of another size may be scaled to it."""

    shape: tuple[int, int, int]
    resize: bool
    model_size: bool  # the size is the model's (given), not the first image's

    def mismatch(self, shown: str, found: tuple[int, ...], first: str, plural: bool) -> DataError:
        h, w = self.shape[:2]
        reads = f"the model reads {h} x {w}" if self.model_size else f"{first} is {h} x {w}"
        what = "images are" if plural else "image is"
        return DataError(
            f"{shown}: {what} {found[0]} x {found[1]}, {reads}; pass --resize to scale"
        )

    def sized(self, image: np.ndarray, shown: str, first: str) -> np.ndarray:
        """One (h, w, C) image at the model's size: scaled when allowed, else refused."""
        if image.shape[:2] == self.shape[:2]:
            return image
        if not self.resize:
            raise self.mismatch(shown, image.shape, first, plural=False)
        return _resize(image, self.shape[:2])


def _fit_for(
    source_shape: tuple[int, int, int],
    size: tuple[int, int] | None,
    channels: int | None,
    resize: bool,
) -> _Fit:
    h, w, c = source_shape
    out_c = channels if channels is not None else (1 if c == 1 else 3)
    hw = (int(size[0]), int(size[1])) if size is not None else (h, w)
    return _Fit((*hw, out_c), resize, size is not None)


def _check_first(fit: _Fit, found: tuple[int, int, int], shown: str, plural: bool) -> None:
    """Refuse at open when the first image (or the array) is not the model's size."""
    if found[:2] != fit.shape[:2] and not fit.resize:
        raise fit.mismatch(shown, found, shown, plural)


def _resize(image: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """(h, w, C) uint8 to (H, W, C) by Pillow's bilinear filter (it widens when shrinking, so
    a smaller image averages over the pixels it covers instead of skipping them)."""
    from PIL import Image

    c = image.shape[2]
    pil = Image.fromarray(np.ascontiguousarray(image[..., 0] if c == 1 else image))
    out = np.array(pil.resize((hw[1], hw[0]), Image.Resampling.BILINEAR))
    return out.reshape(hw[0], hw[1], c)


def _to_channels(block: np.ndarray, channels: int) -> np.ndarray:
    """(n, h, w, c) uint8 to ``channels``: alpha dropped, grey repeated, or RGB to luminance
    with Pillow's own integer formula (ITU-R 601-2), so arrays and image files agree exactly."""
    if block.shape[-1] == 4:
        block = block[..., :3]
    c = block.shape[-1]
    if c == channels:
        return block
    if c == 1:
        return np.repeat(block, 3, axis=-1)
    rgb = block.astype(np.uint32)
    grey = (rgb[..., 0] * 19595 + rgb[..., 1] * 38470 + rgb[..., 2] * 7471 + 0x8000) >> 16
    return grey.astype(np.uint8)[..., None]


# --- the sources ----------------------------------------------------------------------------


class _Source:
    """What every source shares; subclasses yield the chunks."""

    kind = ""

    def __init__(
        self,
        path: Path,
        fit: _Fit,
        source_shape: tuple[int, int, int],
        count: int,
        labels: tuple[np.ndarray, tuple[str, ...]] | None,
        notes: tuple[str, ...] = (),
    ) -> None:
        self.path = path
        self.name = path.name or path.resolve().name or str(path)
        self.image_shape = fit.shape
        self.source_shape = source_shape
        self.labels = None if labels is None else labels[0]
        self.class_names = () if labels is None else labels[1]
        self.notes = notes
        self._fit = fit
        self._count = count

    def __len__(self) -> int:
        return self._count

    def __repr__(self) -> str:
        return f"<{self.kind} {self.path}: {self._count} images, {self.image_shape}>"

    def chunks(self, size: int, cancel: Cancel = None) -> Iterator[np.ndarray]:
        """uint8 (n, H, W, C) chunks in order, n <= size; ``cancel`` is checked before each."""
        if size < 1:
            raise ValueError(f"chunk size must be at least 1, got {size}")
        blocks = self._blocks(int(size))
        try:
            while True:
                check_cancelled(cancel)
                block = next(blocks, None)
                if block is None:
                    return
                yield block
        finally:
            blocks.close()

    def _blocks(self, size: int) -> Iterator[np.ndarray]:
        raise NotImplementedError


class _FolderSource(_Source):
    """Image files read one by one, in the order listed."""

    def __init__(self, path: Path, files: list[str], kind: str, **kwargs: Any) -> None:
        super().__init__(path, count=len(files), **kwargs)
        self.kind = kind
        self._files = files

    def _blocks(self, size: int) -> Iterator[np.ndarray]:
        first = shown_path(self._files[0])
        channels = self.image_shape[2]
        for start in range(0, len(self._files), size):
            names = self._files[start : start + size]
            block = np.empty((len(names), *self.image_shape), dtype=np.uint8)
            for i, file in enumerate(names):
                block[i] = self._fit.sized(_read_image(file, channels), shown_path(file), first)
            yield block


class _ArraySource(_Source):
    """An array read in blocks of its own dtype and layout, made uint8 NHWC per chunk."""

    def __init__(
        self,
        path: Path,
        kind: str,
        raw: Callable[[int], Iterator[np.ndarray]],
        layout: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(path, **kwargs)
        self.kind = kind
        self._raw = raw
        self._layout = layout

    def _blocks(self, size: int) -> Iterator[np.ndarray]:
        shown = shown_path(self.path)
        start = 0
        for raw in self._raw(size):
            block = raw[..., None] if self._layout == "NHW" else raw
            if self._layout == "NCHW":
                block = block.transpose(0, 2, 3, 1)
            block = _to_channels(_as_uint8(block, shown, start), self.image_shape[2])
            if block.shape[1:3] != self.image_shape[:2]:
                block = np.stack([_resize(image, self.image_shape[:2]) for image in block])
            start += len(raw)
            yield np.ascontiguousarray(block) if block.flags.writeable else block.copy()


def _as_uint8(block: np.ndarray, shown: str, start: int) -> np.ndarray:
    """uint8 pixels from any numeric block; out-of-range values name the first image holding one."""
    if block.dtype == np.uint8:
        return block
    if block.dtype.kind == "b":
        return block.astype(np.uint8) * np.uint8(255)
    if block.dtype.kind in "iu":
        bad = (block < 0) | (block > 255)
        rule = "integer images must be 0..255"
    else:
        bad = ~((block >= 0) & (block <= 1))  # NaN is bad too
        rule = "float images must lie in [0, 1] (divide 0..255 data by 255)"
    if bad.any():
        i = int(np.flatnonzero(bad.reshape(len(block), -1).any(axis=1))[0])
        value = block[i][bad[i]].flat[0]
        raise DataError(f"{shown}: image {start + i} holds the value {value:g}; {rule}")
    if block.dtype.kind in "iu":
        return block.astype(np.uint8)
    return np.rint(block * np.float32(255)).astype(np.uint8)


# --- image files ----------------------------------------------------------------------------


def _open_file(path: str | os.PathLike, shown: str, missing: str = "file not found") -> BinaryIO:
    try:
        return open_regular(path, folder_problem="is a folder, not a file")
    except FileRefused as exc:
        raise DataError(f"{shown}: {exc.problem}") from None
    except FileNotFoundError:
        raise DataError(f"{shown}: {missing}") from None
    except OSError as exc:
        raise DataError(f"{shown}: cannot read the file ({exc.strerror or exc})") from None


def _image_error(shown: str, exc: Exception) -> DataError:
    from PIL import UnidentifiedImageError

    if isinstance(exc, UnidentifiedImageError):  # its text names the file object, not the path
        return DataError(f"{shown}: {_NOT_AN_IMAGE}")
    return DataError(f"{shown}: cannot read the image ({type(exc).__name__}: {first_line(exc)})")


def _channels_of(mode: str) -> int:
    return 1 if mode in _GREY_MODES or mode.startswith("I;16") else 3


def _peek_image(path: str) -> tuple[int, int, int]:
    """(H, W, C) from an image file's header, without decoding its pixels."""
    from PIL import Image

    shown = shown_path(path)
    with _open_file(path, shown) as f:
        try:
            with Image.open(f, formats=_PIL_FORMATS) as image:
                width, height = image.size
                return height, width, _channels_of(image.mode)
        except Exception as exc:  # Pillow's decoders raise many types for damaged files
            raise _image_error(shown, exc) from None


def _read_image(path: str, channels: int) -> np.ndarray:
    """One image file as (h, w, channels) uint8, at its own size."""
    from PIL import Image

    shown = shown_path(path)
    with _open_file(path, shown, "file not found (removed after the folder was listed?)") as f:
        try:
            with Image.open(f, formats=_PIL_FORMATS) as image:
                pil = image
                if pil.mode.startswith("I;16"):  # 16-bit grey: keep the high byte, not a clip
                    pil = Image.fromarray((np.asarray(pil) >> 8).astype(np.uint8))
                elif pil.mode == "P" and "transparency" in pil.info:
                    pil = pil.convert("RGBA")
                pixels = np.array(pil.convert("L" if channels == 1 else "RGB"))
        except Exception as exc:  # Pillow's decoders raise many types for damaged files
            raise _image_error(shown, exc) from None
    return pixels[..., None] if channels == 1 else pixels


# --- folders --------------------------------------------------------------------------------


def _scan(folder: str, *, follow: bool) -> tuple[list[str], list[os.DirEntry], int]:
    """(image files, sub-folders, image-named entries that are not regular files), by name.

    Hidden entries (a leading dot: macOS ``._`` files, ``.ipynb_checkpoints``) are skipped.
    Only names and file types are looked at; no file is opened.
    """
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        raise DataError(
            f"{shown_path(folder)}: cannot list the folder ({exc.strerror or exc})"
        ) from None
    files: list[str] = []
    folders: list[os.DirEntry] = []
    odd = 0
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir(follow_symlinks=follow):
                folders.append(entry)
            elif os.path.splitext(entry.name)[1].lower() in IMAGE_SUFFIXES:
                if entry.is_file():
                    files.append(entry.path)
                else:  # a FIFO, a device or a broken link under an image's name
                    odd += 1
        except OSError:
            odd += 1
    return files, folders, odd


def _walk(folder: str) -> tuple[list[str], int]:
    """Every image under ``folder``, folder by folder in name order; links to folders are not
    followed (a link to a parent would loop)."""
    files: list[str] = []
    odd = 0
    stack = [folder]
    while stack:
        found, below, skipped = _scan(stack.pop(), follow=False)
        files += found
        odd += skipped
        stack += [entry.path for entry in reversed(below)]
    return files, odd


def _no_images(root: Path, shown: str, had_folders: bool) -> DataError:
    where = "in the folder or its sub-folders" if had_folders else "in the folder"
    suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
    message = f"{shown}: no images found {where} (looked for {suffixes})"
    idx_file = next(iter(sorted(root.glob("*images*idx*"))), None)
    if idx_file is not None:
        message += f"; for IDX data give the images file itself ({shown_path(idx_file)})"
    return DataError(message)


def _list_folder(
    root: Path,
) -> tuple[list[str], tuple[np.ndarray, tuple[str, ...]] | None, str, tuple[str, ...]]:
    """(files, labels and class names or None, kind, notes) of an image folder."""
    shown = shown_path(root)
    top, folders, odd = _scan(os.fspath(root), follow=True)
    classes: list[tuple[str, list[str]]] = []
    for entry in folders:
        files, skipped = _walk(entry.path)
        classes.append((entry.name, files))
        odd += skipped
    notes = (f"skipped {odd} non-regular file(s) with image names",) if odd else ()
    labelled = [name for name, files in classes if files]
    if not labelled:
        if not top:
            raise _no_images(root, shown, bool(folders))
        return top, None, _FLAT_KIND, notes
    if top:
        raise DataError(
            f"{shown}: holds images ({Path(top[0]).name}) beside class sub-folders "
            f"({labelled[0]}); put every image in a class sub-folder, or use a folder of "
            "images only"
        )
    empty = next((name for name, files in classes if not files), None)
    if empty is not None:
        raise DataError(
            f"{shown}: class folder {empty!r} holds no images; add images or remove the folder"
        )
    names = tuple(name for name, _ in classes)
    counts = [len(files) for _, files in classes]
    labels = np.repeat(np.arange(len(names), dtype=np.int64), counts)
    return [f for _, files in classes for f in files], (labels, names), _FOLDER_KIND, notes


def _open_folder(root: Path, size, channels, resize) -> _FolderSource:
    files, labels, kind, notes = _list_folder(root)
    found = _peek_image(files[0])
    fit = _fit_for(found, size, channels, resize)
    _check_first(fit, found, shown_path(files[0]), plural=False)
    return _FolderSource(root, files, kind, fit=fit, source_shape=found, labels=labels, notes=notes)


# --- arrays: .npy, .npz, IDX ----------------------------------------------------------------


@dataclass(frozen=True)
class _Header:
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran: bool


def _npy_header(f: BinaryIO, shown: str) -> _Header:
    """The header of a .npy stream (``f`` is left at the data); nothing is unpickled."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(f)
        else:
            raise ValueError(f"format version {version[0]}.{version[1]} is not supported")
    except ValueError as exc:
        raise DataError(f"{shown}: not a valid .npy array ({first_line(exc)})") from None
    return _Header(tuple(int(s) for s in shape), dtype, bool(fortran))


def _check_dtype(dtype: np.dtype, shown: str, what: str = "images", kinds: str = "biuf") -> None:
    if dtype.hasobject:
        raise DataError(
            f"{shown}: holds Python objects, which latentlab never unpickles; "
            f"save the {what} as a plain numeric array"
        )
    if dtype.kind not in kinds or dtype.names is not None:
        raise DataError(f"{shown}: {what} must be numbers, found dtype {dtype}")


def _layout(shape: tuple[int, ...], shown: str) -> tuple[str, tuple[int, int, int]]:
    """("NHW" | "NHWC" | "NCHW", (H, W, C) on disk) of an image array's shape."""
    if len(shape) == 3:
        layout, hwc = "NHW", (shape[1], shape[2], 1)
    elif len(shape) == 4 and shape[3] in (1, 3, 4):
        layout, hwc = "NHWC", (shape[1], shape[2], shape[3])
    elif len(shape) == 4 and shape[1] in (1, 3, 4):  # channels first, as PyTorch keeps them
        layout, hwc = "NCHW", (shape[2], shape[3], shape[1])
    else:
        hint = "; reshape flat rows to (N, H, W) first" if len(shape) == 2 else ""
        raise DataError(
            f"{shown}: images must be (N, H, W) or (N, H, W, C) with C 1 or 3, "
            f"found shape {shape}{hint}"
        )
    if shape[0] == 0:
        raise DataError(f"{shown}: holds no images (shape {shape})")
    if min(hwc[:2]) == 0:
        raise DataError(f"{shown}: images have no pixels (shape {shape})")
    return layout, hwc


def _stream(opener: Callable[[], AbstractContextManager[BinaryIO]], header: _Header, shown: str):
    """A function of the chunk size yielding (n, ...) blocks of a .npy stream, read as needed."""

    def blocks(size: int) -> Iterator[np.ndarray]:
        n_total, item = header.shape[0], prod(header.shape[1:]) * header.dtype.itemsize
        try:
            with opener() as f:
                if header.fortran:  # column-major: no image is contiguous, read it once
                    whole = np.lib.format.read_array(f, allow_pickle=False)
                    for start in range(0, n_total, size):
                        yield whole[start : start + size]
                    return
                _npy_header(f, shown)
                for start in range(0, n_total, size):
                    n = min(size, n_total - start)
                    data = read_exact(f, n * item)
                    yield np.frombuffer(data, header.dtype).reshape(n, *header.shape[1:])
        except FileRefused as exc:
            raise DataError(f"{shown}: {exc.problem}") from None
        except (*_READ_ERRORS, ValueError, RuntimeError, NotImplementedError) as exc:
            raise DataError(f"{shown}: cannot read the array ({first_line(exc)})") from None

    return blocks


def _check_length(header: _Header, available: int, start: int, shown: str) -> None:
    needed = start + prod(header.shape) * header.dtype.itemsize
    if available < needed:
        raise DataError(
            f"{shown}: truncated: the header says {header.shape} {header.dtype} "
            f"({needed:,} bytes), the file has {available:,}"
        )


def _open_npy(path: Path, size, channels, resize) -> _ArraySource:
    shown = shown_path(path)
    with _open_file(path, shown) as f:
        header = _npy_header(f, shown)
        _check_length(header, os.fstat(f.fileno()).st_size, f.tell(), shown)
    _check_dtype(header.dtype, shown)
    layout, found = _layout(header.shape, shown)
    fit = _fit_for(found, size, channels, resize)
    _check_first(fit, found, shown, plural=True)
    raw = _stream(lambda: _open_file(path, shown), header, shown)
    return _ArraySource(
        path, "npy", raw, layout, fit=fit, source_shape=found, count=header.shape[0], labels=None
    )


@contextmanager
def _member(path: Path, member: str, shown: str) -> Iterator[BinaryIO]:
    with (
        _open_file(path, shown) as raw,
        zipfile.ZipFile(raw) as archive,
        archive.open(member) as f,
    ):
        yield f  # type: ignore[misc]


def _npz_members(path: Path, shown: str) -> dict[str, tuple[_Header, int, int]]:
    """{name: (header, bytes in the member, header length)} of every array in an .npz."""
    found = {}
    try:
        with _open_file(path, shown) as raw, zipfile.ZipFile(raw) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                key = info.filename[: -len(".npy")]
                with archive.open(info) as f:
                    header = _npy_header(f, f"{shown} [{key}]")
                    found[key] = (header, info.file_size, f.tell())
    except DataError:
        raise
    except (*_READ_ERRORS, RuntimeError, NotImplementedError) as exc:
        raise DataError(f"{shown}: not a readable .npz file ({first_line(exc)})") from None
    return found


def _open_npz(path: Path, size, channels, resize) -> _ArraySource:
    shown = shown_path(path)
    members = _npz_members(path, shown)
    images = next((k for k in ("images", "x") if k in members), None)
    if images is None:
        held = ", ".join(sorted(members)) or "no arrays"
        raise DataError(f"{shown}: no 'images' (or 'x') array; the file holds {held}")
    header, length, start = members[images]
    _check_dtype(header.dtype, f"{shown} [{images}]")
    _check_length(header, length, start, f"{shown} [{images}]")
    layout, found = _layout(header.shape, f"{shown} [{images}]")
    labels = None
    key = next((k for k in ("labels", "y") if k in members), None)
    if key is not None:
        lab_header, lab_length, lab_start = members[key]
        lab_shown = f"{shown} [{key}]"
        _check_dtype(lab_header.dtype, lab_shown, "labels", "biufU")  # words name themselves
        if len(lab_header.shape) not in (1, 2) or prod(lab_header.shape[1:]) != 1:
            raise DataError(f"{lab_shown}: labels must be (N,), found shape {lab_header.shape}")
        _check_length(lab_header, lab_length, lab_start, lab_shown)
        blocks = _stream(lambda: _member(path, f"{key}.npy", shown), lab_header, lab_shown)
        values = next(blocks(max(lab_header.shape[0], 1)), np.zeros(0, lab_header.dtype))
        labels = _named_labels(values.reshape(-1), lab_shown, header.shape[0], shown)
    fit = _fit_for(found, size, channels, resize)
    _check_first(fit, found, shown, plural=True)
    raw = _stream(lambda: _member(path, f"{images}.npy", shown), header, shown)
    return _ArraySource(
        path, "npz", raw, layout, fit=fit, source_shape=found, count=header.shape[0], labels=labels
    )


def _named_labels(
    values: np.ndarray, shown: str, count: int, images: str
) -> tuple[np.ndarray, tuple[str, ...]]:
    """(indices, class names): classes named by their values, in sorted order."""
    if len(values) != count:
        raise DataError(f"{images}: {count} images but {shown} has {len(values)} labels")
    if values.dtype.kind == "f":
        if not np.all(np.isfinite(values) & (values == np.round(values))):
            raise DataError(f"{shown}: labels must be whole numbers, found {values.dtype} values")
        values = values.astype(np.int64)
    distinct, indices = np.unique(values, return_inverse=True)
    return indices.astype(np.int64).reshape(-1), tuple(str(v) for v in distinct.tolist())


def _idx_dims(path: Path, shown: str) -> tuple[int, ...]:
    """An IDX file's dimensions from its first bytes (decompressed when gzipped)."""
    with _open_file(path, shown) as f:
        head = f.read(64 * 1024)
    if head[:2] == idx.GZIP_MAGIC:
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 4 + 4 * 255)
        except zlib.error as exc:
            raise DataError(f"{shown}: not valid gzip data ({exc})") from None
    found = idx._header(head, os.fspath(path))
    if found is None:
        raise DataError(f"{shown}: too short to be an IDX file ({len(head)} bytes of header)")
    return found[0]


def _idx_labels_path(path: Path) -> tuple[Path | None, str]:
    """The labels file beside an images file (``t10k-images-idx3-ubyte`` ->
    ``t10k-labels-idx1-ubyte``, raw tried before ``.gz`` as for the known datasets)."""
    if "images" not in path.name:
        return None, ""
    base = path.name.removesuffix(".gz").replace("images", "labels")
    base = base.replace("idx3", "idx1").replace("idx4", "idx1")
    for name in (base, base + ".gz"):
        candidate = path.with_name(name)
        if candidate.exists() and not candidate.is_dir():
            return candidate, base
    return None, base


def _open_idx(path: Path, size, channels, resize) -> _ArraySource:
    shown = shown_path(path)
    dims = _idx_dims(path, shown)
    if len(dims) == 1:
        raise DataError(f"{shown}: an IDX labels file (1 dimension); give the images file")
    layout, found = _layout(dims, shown)
    labels_path, looked_for = _idx_labels_path(path)
    labels = None
    if labels_path is not None:
        values = idx.read_labels(labels_path, num_classes=256)
        labels = _named_labels(values, shown_path(labels_path), dims[0], shown)
        notes: tuple[str, ...] = (f"labels from {shown_path(labels_path.name)}",)
    elif looked_for:
        notes = (f"no labels file beside it (looked for {shown_path(looked_for)}(.gz))",)
    else:
        notes = ()
    fit = _fit_for(found, size, channels, resize)
    _check_first(fit, found, shown, plural=True)

    def raw(chunk: int) -> Iterator[np.ndarray]:
        whole = idx.read_idx(path)  # bounded by idx.MAX_IDX_BYTES; one copy, freed at the end
        if whole.shape != dims:
            raise DataError(f"{shown}: changed while being read (now {whole.shape})")
        for start in range(0, len(whole), chunk):
            yield whole[start : start + chunk]

    return _ArraySource(
        path,
        "idx",
        raw,
        layout,
        fit=fit,
        source_shape=found,
        count=dims[0],
        labels=labels,
        notes=notes,
    )


# --- the entry point ------------------------------------------------------------------------


def _sniff(path: Path, shown: str) -> Callable[..., _Source]:
    with _open_file(path, shown) as f:
        head = f.read(8)
    if head.startswith(_NPY_MAGIC):
        return _open_npy
    if head[:4] in _ZIP_MAGICS:
        return _open_npz
    if head[:2] == idx.GZIP_MAGIC or (len(head) >= 4 and head[:2] == b"\0\0"):
        return _open_idx
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise DataError(f"{shown}: a single image; give the folder that holds the images")
    raise DataError(
        f"{shown}: not a data file latentlab reads; give an image folder, an .npz or .npy "
        "array, or an MNIST-style IDX images file"
    )


def open_source(
    path: str | os.PathLike,
    *,
    size: tuple[int, int] | None = None,
    channels: int | None = None,
    resize: bool = False,
) -> ImageSource:
    """Describe the images at ``path`` without reading their pixels (see the module's text).

    ``size`` (H, W) and ``channels`` (1 or 3) are what the model reads; by default the data's
    own (a folder: its first image's). Channels are always converted; a size other than
    ``size`` is a ``DataError`` naming both sizes unless ``resize``. The kind is found from
    the content (a folder, or a file's first bytes), not from the file name.
    """
    path = Path(path)
    shown = shown_path(path)
    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    if size is not None and (len(size) != 2 or min(size) < 1):
        raise ValueError(f"size must be (height, width), both positive, got {size}")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise DataError(f"{shown}: not found") from None
    except OSError as exc:
        raise DataError(f"{shown}: cannot read ({exc.strerror or exc})") from None
    opener = _open_folder if stat.S_ISDIR(mode) else _sniff(path, shown)
    return opener(path, size, channels, resize)
