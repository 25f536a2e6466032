"""Datasets by name: where their files are looked for, how they are verified, loaded and fetched.

Search order for a dataset's folder: an explicit folder (``data_dir`` or ``$LATENTLAB_DATA_DIR``;
its ``<name>`` subfolder first if there is one), the user cache
(``platformdirs.user_cache_dir("latentlab")/datasets/<name>``), the dataset's system folders, and
only when the caller allows it, a download into the cache. A folder is used when it holds all
the files needed, each either gzipped (``.gz``) or raw, with the right SHA-256 of the
decompressed content. Each file is read, decompressed and hashed once per load.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from platformdirs import user_cache_dir

from latentlab.core.data.download import (
    Cancel,
    DownloadCancelled,
    DownloadError,
    DownloadOptions,
    Progress,
    download_file,
    is_cancelled,
    unwritable_error,
)
from latentlab.core.data.idx import read_bytes, read_content, read_images, read_labels
from latentlab.core.data.image_set import ImageSet
from latentlab.core.errors import DataError
from latentlab.core.text import first_line, shown_path

__all__ = [
    "DATASETS",
    "DATA_DIR_ENV",
    "MIRRORS_ENV",
    "ROLES",
    "TEST_ROLES",
    "Dataset",
    "DatasetSpec",
    "FileCheck",
    "FileSpec",
    "cache_dir",
    "default_class_names",
    "fetch",
    "get_spec",
    "load_dataset",
    "load_test_images",
    "load_test_split",
    "locate",
    "register_dataset",
    "search_dirs",
    "verify",
]

log = logging.getLogger(__name__)

DATA_DIR_ENV = "LATENTLAB_DATA_DIR"
MIRRORS_ENV = "LATENTLAB_MIRRORS"  # mirror base URLs separated by spaces or commas
ROLES = ("train_images", "train_labels", "test_images", "test_labels")
TEST_ROLES = ("test_images", "test_labels")


@dataclass(frozen=True)
class FileSpec:
    """One file of a dataset: its raw name (``.gz`` accepted too) and its content's SHA-256."""

    filename: str
    sha256: str  # of the decompressed content, so gzipped and raw copies verify alike

    @property
    def names(self) -> tuple[str, str]:
        """Accepted names in the order they are tried: raw first (no need to decompress)."""
        return (self.filename, self.filename + ".gz")


@dataclass(frozen=True)
class DatasetSpec:
    """Everything needed to find, verify and download a dataset; the files are keyed by ROLES."""

    name: str
    title: str
    class_names: tuple[str, ...]
    files: dict[str, FileSpec]
    mirrors: tuple[str, ...] = ()
    system_dirs: tuple[str, ...] = ()

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


@dataclass
class Dataset:
    """A loaded dataset: uint8 images (N, 28, 28) and uint8 labels (N,) per split."""

    name: str
    class_names: tuple[str, ...]
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source_dir: Path

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def split(self, which: str) -> ImageSet:
        """The "train" or "test" split as an `ImageSet` (N, 28, 28, 1)."""
        if which not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', not {which!r}")
        images = self.train_images if which == "train" else self.test_images
        labels = self.train_labels if which == "train" else self.test_labels
        return ImageSet(f"{self.name} {which}", images, labels, self.class_names)


@dataclass(frozen=True)
class FileCheck:
    """The verdict on one file, for ``latentlab data verify``; ``path`` is None when missing."""

    role: str
    filename: str
    path: Path | None
    ok: bool
    message: str


def _files(**sums: str) -> dict[str, FileSpec]:
    names = {
        "train_images": "train-images-idx3-ubyte",
        "train_labels": "train-labels-idx1-ubyte",
        "test_images": "t10k-images-idx3-ubyte",
        "test_labels": "t10k-labels-idx1-ubyte",
    }
    return {role: FileSpec(names[role], sums[role]) for role in ROLES}


MNIST = DatasetSpec(
    name="mnist",
    title="MNIST",
    class_names=tuple(str(i) for i in range(10)),
    files=_files(
        train_images="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        train_labels="65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        test_images="0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        test_labels="ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
)

FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    title="Fashion-MNIST",
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    files=_files(
        train_images="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        train_labels="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        test_images="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        test_labels="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ),
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    system_dirs=("/usr/share/datasets/fashion-mnist",),  # Debian: dataset-fashion-mnist
)

DATASETS: dict[str, DatasetSpec] = {MNIST.name: MNIST, FASHION_MNIST.name: FASHION_MNIST}


def register_dataset(spec: DatasetSpec) -> None:
    """Add (or replace) a dataset; its files must cover ROLES and carry SHA-256 hex digests."""
    if set(spec.files) != set(ROLES):
        raise ValueError(f"dataset {spec.name!r}: files must be exactly {ROLES}")
    for role, fspec in spec.files.items():
        if not re.fullmatch(r"[0-9a-f]{64}", fspec.sha256):
            raise ValueError(f"dataset {spec.name!r}: {role} sha256 is not 64 lowercase hex digits")
    if not 1 <= spec.num_classes <= 256:
        raise ValueError(f"dataset {spec.name!r}: needs 1 to 256 class names (labels are uint8)")
    DATASETS[spec.name] = spec


def default_class_names(dataset: str, num_classes: int) -> tuple[str, ...]:
    """The known dataset's class names, else "0", "1", ... (a file written without names).

    So a Fashion-MNIST model whose file names no classes still shows "Trouser", not "1".
    """
    spec = DATASETS.get(dataset.strip().lower().replace("_", "-"))
    if spec is not None and spec.num_classes == num_classes:
        return spec.class_names
    return tuple(str(i) for i in range(num_classes))


def get_spec(name: str) -> DatasetSpec:
    """The spec for ``name`` (case and ``_``/``-`` do not matter)."""
    key = name.strip().lower().replace("_", "-")
    if key in DATASETS:
        return DATASETS[key]
    known = ", ".join(sorted(DATASETS))
    raise DataError(f"Unknown dataset {name!r}; known datasets: {known}")


def cache_dir(name: str) -> Path:
    """Where downloads of ``name`` go: the user's cache folder for latentlab."""
    return Path(user_cache_dir("latentlab", appauthor=False)) / "datasets" / get_spec(name).name


def _explicit_dir(data_dir: str | os.PathLike | None) -> tuple[Path, str] | None:
    if data_dir is not None:
        return Path(data_dir).expanduser(), "--data-dir"
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    return (Path(env).expanduser(), DATA_DIR_ENV) if env else None


def _candidates(
    spec: DatasetSpec, data_dir: str | os.PathLike | None, *, explicit_only: bool = False
) -> list[tuple[Path, str]]:
    """(folder, where it came from) in search order, without duplicates."""
    found: list[tuple[Path, str]] = []
    explicit = _explicit_dir(data_dir)
    if explicit:
        folder, origin = explicit
        # One LATENTLAB_DATA_DIR can serve several datasets from <dir>/<name> subfolders.
        if (folder / spec.name).is_dir():
            found.append((folder / spec.name, origin))
        found.append((folder, origin))
    if not (explicit_only and explicit):
        found.append((cache_dir(spec.name), "user cache"))
        found.extend((Path(d), "system folder") for d in spec.system_dirs)
    unique: dict[str, tuple[Path, str]] = {}
    for folder, origin in found:
        unique.setdefault(os.path.normcase(os.path.abspath(folder)), (folder, origin))
    return list(unique.values())


def search_dirs(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for ``name``, in order, for messages and the GUI (cache included)."""
    return [folder for folder, _ in _candidates(get_spec(name), data_dir)]


# --- checking folders ---------------------------------------------------------------------


@dataclass
class _FileResult:
    path: Path | None  # the file that verified, else the first one found, else None
    data: bytes | bytearray | None  # decompressed content when it verified
    problems: list[str] = field(default_factory=list)
    bad_paths: list[Path] = field(default_factory=list)


def _mismatch(path: Path, spec: DatasetSpec, fspec: FileSpec, actual: str) -> str:
    return (
        f"{shown_path(path)}: content does not match {spec.title} {fspec.filename} "
        f"(SHA-256 {actual[:12]}..., expected {fspec.sha256[:12]}...)"
    )


def _present(path: Path) -> bool:
    """Anything but a folder under the file's name: a FIFO or a device is then refused by name
    (idx.read_bytes opens only regular files) instead of being reported missing."""
    return path.exists() and not path.is_dir()


def _check_file(folder: Path, spec: DatasetSpec, fspec: FileSpec, *, verify: bool) -> _FileResult:
    """Read the first accepted name of ``fspec`` in ``folder`` whose content verifies."""
    paths = [folder / n for n in fspec.names if _present(folder / n)]
    result = _FileResult(paths[0] if paths else None, None)
    for path in paths:
        try:
            data, actual = read_content(path) if verify else (read_bytes(path), "")
        except DataError as exc:
            result.problems.append(first_line(exc))
            result.bad_paths.append(path)
            continue
        if verify and actual != fspec.sha256:
            result.problems.append(_mismatch(path, spec, fspec, actual))
            result.bad_paths.append(path)
            continue
        result.path, result.data = path, data
        break
    return result


@dataclass
class _Tried:
    folder: Path
    origin: str
    reason: str
    content_problem: str | None = None  # first line for errors caused by a bad file


def _display(name: str) -> str:
    return f"{name}(.gz)"


def _scan(
    spec: DatasetSpec,
    candidates: Sequence[tuple[Path, str]],
    roles: Sequence[str],
    *,
    verify: bool = True,
) -> tuple[Path, dict[str, tuple[Path, bytes | bytearray]]] | list[_Tried]:
    """The first folder holding every file of ``roles`` (verified), or what was wrong with each."""
    tried: list[_Tried] = []
    for folder, origin in candidates:
        if not folder.is_dir():
            reason = "not a folder" if folder.exists() else "folder does not exist"
            tried.append(_Tried(folder, origin, reason))
            continue
        missing = [
            spec.files[r].filename
            for r in roles
            if not any(_present(folder / n) for n in spec.files[r].names)
        ]
        if missing:
            what = (
                "none of the files"
                if len(missing) == len(roles)
                else "missing " + ", ".join(map(_display, missing))
            )
            tried.append(_Tried(folder, origin, what))
            continue
        contents: dict[str, tuple[Path, bytes | bytearray]] = {}
        problems: list[str] = []
        for role in roles:
            result = _check_file(folder, spec, spec.files[role], verify=verify)
            if result.data is None:
                problems.extend(result.problems)
            else:
                assert result.path is not None
                contents[role] = (result.path, result.data)
        if not problems:
            return folder, contents
        log.warning("skipping %s: %s", folder, "; ".join(problems))
        tried.append(_Tried(folder, origin, "; ".join(problems), problems[0]))
    return tried


def _manual_help(spec: DatasetSpec, roles: Sequence[str]) -> str:
    names = "  ".join(spec.files[r].filename + ".gz" for r in roles)
    source = f" (from {spec.mirrors[0]})" if spec.mirrors else ""
    count = {1: "this file", 2: "these two files", 4: "these four files"}.get(
        len(roles), "these files"
    )
    return (
        f"To supply the data by hand, download {count}{source}, gzipped or unpacked:\n"
        f"  {names}\n"
        f"put them in one folder and pass --data-dir FOLDER or set {DATA_DIR_ENV}=FOLDER."
    )


def _not_found(
    spec: DatasetSpec,
    roles: Sequence[str],
    tried: Sequence[_Tried],
    *,
    download: DownloadError | None = None,
    download_allowed: bool = False,
) -> DataError:
    """A DataError saying what was tried, why each failed, and how to supply the files."""
    bad = next((t.content_problem for t in tried if t.content_problem), None)
    if bad:
        first = bad
    elif download is not None:
        first = f"{spec.title} data not found, and the download failed"
    else:
        folders = "1 folder" if len(tried) == 1 else f"{len(tried)} folders"
        first = f"{spec.title} data not found (looked in {folders})"
    lines = [first, "Looked in:"]
    lines += [f"  {t.folder} [{t.origin}]: {t.reason}" for t in tried]
    if download is not None:
        lines.append(str(download))
    elif not download_allowed and spec.mirrors:
        lines.append(
            f"Downloading is off here: `latentlab data fetch --dataset {spec.name}` fetches "
            "the files (needs internet access); in the app, File > Preferences… has the switch."
        )
    lines.append(_manual_help(spec, roles))
    return DataError("\n".join(lines))


def _parse_split(
    spec: DatasetSpec, contents: dict[str, tuple[Path, bytes | bytearray]], split: str
) -> tuple[np.ndarray, np.ndarray]:
    image_path, image_data = contents[f"{split}_images"]
    label_path, label_data = contents[f"{split}_labels"]
    images = read_images(image_data, name=str(image_path))
    labels = read_labels(label_data, num_classes=spec.num_classes, name=str(label_path))
    if len(images) != len(labels):
        raise DataError(
            f"{image_path.name} has {len(images)} images but {label_path.name} has "
            f"{len(labels)} labels\n"
            f"Both are in {image_path.parent}; the two files must come from the same release."
        )
    return images, labels


# --- public API ---------------------------------------------------------------------------


def locate(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """The first folder (in ``search_dirs`` order) holding all four verified files."""
    spec = get_spec(name)
    found = _scan(spec, _candidates(spec, data_dir), ROLES)
    if isinstance(found, list):
        raise _not_found(spec, ROLES, found)
    return found[0]


def load_dataset(
    name: str,
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = False,
    progress: Progress = None,
    cancel: Cancel = None,
    mirrors: Sequence[str] | None = None,
    options: DownloadOptions | None = None,
) -> Dataset:
    """Find, verify and read a dataset; download it into the cache if allowed and needed."""
    spec = get_spec(name)
    found = _scan(spec, _candidates(spec, data_dir), ROLES)
    if isinstance(found, list):
        if not download:
            raise _not_found(spec, ROLES, found)
        try:
            folder = fetch(
                spec.name, None, progress=progress, cancel=cancel, mirrors=mirrors, options=options
            )
        except DownloadCancelled:
            raise
        except DownloadError as exc:
            raise _not_found(spec, ROLES, found, download=exc) from None
        # fetch verified every file it kept or downloaded: just read them.
        found = _scan(spec, [(folder, "user cache")], ROLES, verify=False)
        if isinstance(found, list):  # the folder changed under us
            raise _not_found(spec, ROLES, found)
    folder, contents = found
    train_images, train_labels = _parse_split(spec, contents, "train")
    test_images, test_labels = _parse_split(spec, contents, "test")
    return Dataset(
        name=spec.name,
        class_names=spec.class_names,
        train_images=train_images,
        train_labels=train_labels,
        test_images=test_images,
        test_labels=test_labels,
        source_dir=folder,
    )


def load_test_split(
    name: str, data_dir: str | os.PathLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Only the test images and labels (a folder with just those two files is enough)."""
    spec = get_spec(name)
    found = _scan(spec, _candidates(spec, data_dir), TEST_ROLES)
    if isinstance(found, list):
        raise _not_found(spec, TEST_ROLES, found)
    return _parse_split(spec, found[1], "test")


def load_test_images(name: str, data_dir: str | os.PathLike | None = None) -> ImageSet:
    """The test split as an `ImageSet`: what the explorer shows beside the encoded points."""
    images, labels = load_test_split(name, data_dir)
    return ImageSet(f"{name} test", images, labels, get_spec(name).class_names)


def verify(name: str, data_dir: str | os.PathLike | None = None) -> list[FileCheck]:
    """Check each file of ``name``: in ``data_dir`` only when given, else in the search folders.

    Reports on the first folder where all files verify, else the first one holding any file.
    """
    spec = get_spec(name)
    candidates = _candidates(spec, data_dir, explicit_only=True)
    first_partial: list[FileCheck] | None = None
    for folder, _ in candidates:
        if not folder.is_dir():
            continue
        checks = []
        for role in ROLES:
            fspec = spec.files[role]
            result = _check_file(folder, spec, fspec, verify=True)
            if result.path is None:
                message = (
                    f"missing: no {fspec.filename} or {fspec.filename}.gz in {shown_path(folder)}"
                )
            else:
                message = "ok" if result.data is not None else "; ".join(result.problems)
            checks.append(
                FileCheck(role, fspec.filename, result.path, result.data is not None, message)
            )
        if all(c.ok for c in checks):
            return checks
        if first_partial is None and any(c.path for c in checks):
            first_partial = checks
    if first_partial is not None:
        return first_partial
    where = ", ".join(str(folder) for folder, _ in candidates)
    return [
        FileCheck(r, spec.files[r].filename, None, False, f"not found in any of: {where}")
        for r in ROLES
    ]


def _mirror_list(spec: DatasetSpec, mirrors: Sequence[str] | str | None) -> list[str]:
    if isinstance(mirrors, str):
        mirrors = [mirrors]
    if mirrors is None:
        env = os.environ.get(MIRRORS_ENV, "")
        mirrors = [m for m in re.split(r"[\s,]+", env) if m] or list(spec.mirrors)
    return [m if m.endswith("/") else m + "/" for m in mirrors]


def fetch(
    name: str,
    data_dir: str | os.PathLike | None = None,
    *,
    progress: Progress = None,
    cancel: Cancel = None,
    mirrors: Sequence[str] | None = None,
    options: DownloadOptions | None = None,
) -> Path:
    """Download the files of ``name`` that are missing or bad into ``data_dir`` (else the cache).

    Mirrors: ``mirrors``, else ``$LATENTLAB_MIRRORS``, else the dataset's own. Files that
    already verify are kept. Returns the folder.
    """
    spec = get_spec(name)
    target = Path(data_dir).expanduser() if data_dir is not None else cache_dir(spec.name)
    bases = _mirror_list(spec, mirrors)
    if not bases:
        raise DataError(
            f"No download mirrors are known for {spec.title}\n{_manual_help(spec, ROLES)}"
        )
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise unwritable_error(target, exc) from None
    opts = options or DownloadOptions()
    for role in ROLES:
        fspec = spec.files[role]
        existing = _check_file(target, spec, fspec, verify=True)
        if existing.data is not None:
            continue
        if is_cancelled(cancel):
            raise DownloadCancelled(f"Download of {spec.title} cancelled")
        dest = target / (fspec.filename + ".gz")
        download_file(
            [base + dest.name for base in bases],
            dest,
            sha256_raw=fspec.sha256,
            progress=progress,
            cancel=cancel,
            retries=opts.retries,
            timeout=opts.timeout,
            backoff=opts.backoff,
            chunk_size=opts.chunk_size,
        )
        # A known-bad copy under the other accepted name would be re-checked on every load.
        for bad in existing.bad_paths:
            if bad != dest:
                with contextlib.suppress(OSError):
                    bad.unlink()
    return target
