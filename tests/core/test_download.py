"""Downloads against a local HTTP server on 127.0.0.1: retries, mirrors, cancel, atomicity."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from latentlab.core.data import datasets
from latentlab.core.data.datasets import fetch, load_dataset
from latentlab.core.data.download import (
    DownloadCancelled,
    DownloadError,
    DownloadOptions,
    DownloadProgress,
    download_file,
)
from latentlab.core.errors import DataError

RNG = np.random.default_rng(5)
CONTENT = RNG.integers(0, 256, 50_000, dtype=np.uint8).tobytes()  # stands in for an IDX file
GOOD = gzip.compress(CONTENT, mtime=0)
SHA = hashlib.sha256(CONTENT).hexdigest()
NO_WAIT = DownloadOptions(backoff=lambda attempt: 0.0, timeout=5.0)

Behaviour = Callable[[BaseHTTPRequestHandler], None]


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server: Server = self.server.owner  # type: ignore[attr-defined]
        server.hits[self.path] += 1
        behaviour = server.routes.get(self.path)
        if behaviour is None:
            self.send_error(404)
        else:
            behaviour(self)

    def log_message(self, format: str, *args) -> None:  # keep the test output clean
        pass


def send(handler: BaseHTTPRequestHandler, body: bytes, *, length: int | None = None) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", str(len(body) if length is None else length))
    handler.end_headers()
    handler.wfile.write(body)


def serve(body: bytes) -> Behaviour:
    return lambda h: send(h, body)


def status(code: int) -> Behaviour:
    return lambda h: h.send_error(code)


def truncated(body: bytes) -> Behaviour:
    """Promise every byte, send half, close the connection (HTTP/1.0 closes after a reply)."""
    return lambda h: send(h, body[: len(body) // 2], length=len(body))


def flaky(failures: int, body: bytes) -> Behaviour:
    """HTTP 503 for the first ``failures`` requests, then the body."""
    count = Counter()

    def behave(h: BaseHTTPRequestHandler) -> None:
        count["n"] += 1
        if count["n"] <= failures:
            h.send_error(503)
        else:
            send(h, body)

    return behave


class Server:
    """Routes (path -> behaviour) on a ThreadingHTTPServer; ``hits`` counts requests per path."""

    def __init__(self) -> None:
        self.routes: dict[str, Behaviour] = {}
        self.hits: Counter[str] = Counter()
        self.release = threading.Event()  # wakes handlers that hang
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        self.routes.setdefault(path, status(404))
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def add(self, path: str, behaviour: Behaviour) -> str:
        self.routes[path] = behaviour
        return self.url(path)

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def server(monkeypatch):
    # A developer's proxy settings must not catch requests to the local server.
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    srv = Server()
    yield srv
    srv.close()


def get(urls: list[str], dest: Path, **kwargs) -> Path:
    kwargs.setdefault("backoff", lambda attempt: 0.0)
    kwargs.setdefault("timeout", 5.0)
    return download_file(urls, dest, sha256_raw=SHA, **kwargs)


def leftovers(folder: Path, keep: str | None = None) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != keep)


# --- download_file --------------------------------------------------------------------------


def test_good_download_lands_verified_with_progress(server: Server, tmp_path: Path) -> None:
    url = server.add("/m/file.gz", serve(GOOD))
    reports: list[DownloadProgress] = []
    dest = get([url], tmp_path / "file.gz", progress=reports.append, chunk_size=4096)
    assert dest.read_bytes() == GOOD
    assert leftovers(tmp_path) == ["file.gz"]
    done = [r.done for r in reports]
    assert done[0] == 0 and done[-1] == len(GOOD)
    assert all(a < b for a, b in itertools.pairwise(done)), "done must increase"
    assert len(reports) > 3
    assert {(r.filename, r.total) for r in reports} == {("file.gz", len(GOOD))}


def test_raw_content_is_accepted_too(server: Server, tmp_path: Path) -> None:
    url = server.add("/m/file.gz", serve(CONTENT))
    assert get([url], tmp_path / "file.gz").read_bytes() == CONTENT


def test_corrupt_file_is_rejected_and_the_next_mirror_tried(server: Server, tmp_path: Path) -> None:
    bad = server.add("/bad/file.gz", serve(gzip.compress(CONTENT[:-1] + b"!")))
    good = server.add("/good/file.gz", serve(GOOD))
    dest = get([bad, good], tmp_path / "file.gz", retries=3)
    assert dest.read_bytes() == GOOD
    assert server.hits["/bad/file.gz"] == 1, "a checksum mismatch is not retried on one mirror"
    assert leftovers(tmp_path) == ["file.gz"]


def test_corrupt_download_never_gets_the_final_name(server: Server, tmp_path: Path) -> None:
    bad = server.add("/bad/file.gz", serve(gzip.compress(b"other content")))
    dest = tmp_path / "file.gz"
    with pytest.raises(DownloadError, match="checksum mismatch"):
        get([bad], dest)
    assert leftovers(tmp_path) == []


def test_failed_download_keeps_the_previous_file_untouched(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "file.gz"
    dest.write_bytes(b"previous")
    bad = server.add("/bad/file.gz", serve(b"\x1f\x8b not gzip at all"))
    with pytest.raises(DownloadError, match="bad content: not valid gzip data"):
        get([bad], dest)
    assert dest.read_bytes() == b"previous"
    assert leftovers(tmp_path) == ["file.gz"]


def test_http_500_is_retried_with_backoff_then_next_mirror(server: Server, tmp_path: Path) -> None:
    broken = server.add("/broken/file.gz", status(500))
    good = server.add("/good/file.gz", serve(GOOD))
    waits: list[int] = []

    def backoff(attempt: int) -> float:
        waits.append(attempt)
        return 0.0

    get([broken, good], tmp_path / "file.gz", retries=3, backoff=backoff)
    assert server.hits["/broken/file.gz"] == 3
    assert server.hits["/good/file.gz"] == 1
    assert waits == [1, 2]


def test_a_transient_error_recovers_on_the_same_mirror(server: Server, tmp_path: Path) -> None:
    url = server.add("/m/file.gz", flaky(2, GOOD))
    assert get([url], tmp_path / "file.gz", retries=3).read_bytes() == GOOD
    assert server.hits["/m/file.gz"] == 3


def test_404_is_not_retried(server: Server, tmp_path: Path) -> None:
    missing = server.url("/missing/file.gz")
    good = server.add("/good/file.gz", serve(GOOD))
    get([missing, good], tmp_path / "file.gz", retries=3)
    assert server.hits["/missing/file.gz"] == 1


def test_truncated_transfer_is_rejected(server: Server, tmp_path: Path) -> None:
    url = server.add("/cut/file.gz", truncated(GOOD))
    with pytest.raises(DownloadError) as info:
        get([url], tmp_path / "file.gz", retries=2)
    assert f"{url}: transfer cut short: got {len(GOOD) // 2} of {len(GOOD)} bytes (2 attempts)" in (
        str(info.value)
    )
    assert server.hits["/cut/file.gz"] == 2
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("kind", ["event", "callable"])
def test_cancel_mid_download_leaves_nothing(server: Server, tmp_path: Path, kind: str) -> None:
    url = server.add("/m/file.gz", serve(GOOD))
    event = threading.Event()
    reports: list[int] = []

    def progress(p: DownloadProgress) -> None:
        reports.append(p.done)
        if p.done >= 8192:
            event.set()

    cancel = event if kind == "event" else event.is_set
    with pytest.raises(DownloadCancelled, match="cancelled"):
        get([url], tmp_path / "file.gz", progress=progress, cancel=cancel, chunk_size=4096)
    assert max(reports) == 8192, "stopped at the first check after the hook fired"
    assert leftovers(tmp_path) == []
    assert issubclass(DownloadCancelled, DataError)


def test_cancel_before_start_makes_no_request(server: Server, tmp_path: Path) -> None:
    url = server.add("/m/file.gz", serve(GOOD))
    with pytest.raises(DownloadCancelled):
        get([url], tmp_path / "file.gz", cancel=lambda: True)
    assert server.hits["/m/file.gz"] == 0


def test_timeout_is_applied(server: Server, tmp_path: Path) -> None:
    url = server.add("/slow/file.gz", lambda h: server.release.wait(10))
    with pytest.raises(DownloadError, match=r"timed out after 0\.2 s"):
        get([url], tmp_path / "file.gz", retries=1, timeout=0.2)
    assert leftovers(tmp_path) == []


def test_all_fail_error_lists_each_url_and_why(server: Server, tmp_path: Path) -> None:
    urls = [
        server.add("/a/file.gz", status(500)),
        server.add("/b/file.gz", serve(gzip.compress(b"wrong"))),
        server.url("/c/file.gz"),
        server.add("/d/file.gz", truncated(GOOD)),
        "ftp-ish://nowhere/file.gz",
    ]
    with pytest.raises(DownloadError) as info:
        get(urls, tmp_path / "file.gz", retries=2)
    lines = str(info.value).splitlines()
    assert lines[0] == "Could not download file.gz (5 URLs tried)"
    assert lines[1] == f"  {urls[0]}: HTTP 500 Internal Server Error (2 attempts)"
    assert lines[2].startswith(f"  {urls[1]}: checksum mismatch (SHA-256 of content ")
    assert lines[3] == f"  {urls[2]}: HTTP 404 Not Found"
    assert lines[4].startswith(f"  {urls[3]}: transfer cut short")
    assert lines[5].startswith(f"  {urls[4]}: cannot connect (unknown url type")
    assert [url for url, _ in info.value.attempts] == urls
    assert leftovers(tmp_path) == []


def test_unwritable_destination_is_a_clear_data_error(server: Server, tmp_path: Path) -> None:
    url = server.add("/m/file.gz", serve(GOOD))
    (tmp_path / "blocker").write_text("a file, not a folder")
    with pytest.raises(DataError, match=r"^Cannot write to the dataset folder .*blocker"):
        get([url], tmp_path / "blocker" / "file.gz")
    assert server.hits["/m/file.gz"] == 0


# --- datasets: fetch and load_dataset(download=True) ---------------------------------------


def mirror_of(server: Server, tiny, prefix: str = "/mirror/") -> str:
    for role in datasets.ROLES:
        path = tiny.path(role)
        server.add(prefix + path.name, serve(path.read_bytes()))
    return server.url(prefix)


def test_load_dataset_downloads_into_the_cache_once(server: Server, tiny_dataset) -> None:
    mirror = mirror_of(server, tiny_dataset)
    seen: set[str] = set()
    ds = load_dataset(
        "tiny",
        download=True,
        mirrors=[mirror],
        options=NO_WAIT,
        progress=lambda p: seen.add(p.filename),
    )
    cache = datasets.cache_dir("tiny")
    assert ds.source_dir == cache
    assert sorted(seen) == sorted(p.name for p in cache.iterdir())
    assert len(seen) == 4
    np.testing.assert_array_equal(ds.train_images, tiny_dataset.arrays["train_images"])
    hits = sum(server.hits.values())
    assert load_dataset("tiny", download=True, mirrors=[mirror]).source_dir == cache
    assert sum(server.hits.values()) == hits, "the second load is served by the cache"


def test_fetch_uses_the_mirrors_env_and_replaces_only_bad_files(
    server: Server, tiny_dataset, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv(
        "LATENTLAB_MIRRORS", "http://127.0.0.1:1/nothing, " + mirror_of(server, tiny_dataset)
    )
    target = tmp_path / "target"
    target.mkdir()
    (target / "train-labels-idx1-ubyte.gz").write_bytes(
        tiny_dataset.path("train_labels").read_bytes()
    )
    (target / "t10k-labels-idx1-ubyte").write_bytes(b"bad raw copy")
    assert fetch("tiny", target, options=NO_WAIT) == target
    assert server.hits["/mirror/train-labels-idx1-ubyte.gz"] == 0, "a good file is kept"
    assert server.hits["/mirror/t10k-labels-idx1-ubyte.gz"] == 1
    assert not (target / "t10k-labels-idx1-ubyte").exists(), "the known-bad copy is gone"
    assert all(c.ok for c in datasets.verify("tiny", target))


def test_offline_error_lists_folders_urls_and_the_manual_route(
    server: Server, tiny_dataset, tmp_path: Path
) -> None:
    urls = [server.url("/gone/"), server.add("/down/train-images-idx3-ubyte.gz", status(503))]
    mirrors = [urls[0], urls[1].rsplit("/", 1)[0] + "/"]
    with pytest.raises(DataError) as info:
        load_dataset("tiny", tmp_path / "none", download=True, mirrors=mirrors, options=NO_WAIT)
    message = str(info.value)
    assert message.splitlines()[0] == "Tiny data not found, and the download failed"
    assert f"{tmp_path / 'none'} [--data-dir]: folder does not exist" in message
    assert f"{urls[0]}train-images-idx3-ubyte.gz: HTTP 404 Not Found" in message
    assert f"{urls[1]}: HTTP 503 Service Unavailable (3 attempts)" in message
    assert "put them in one folder and pass --data-dir FOLDER" in message
    assert not any(datasets.cache_dir("tiny").iterdir())


def test_default_safety_net_mirror_fails_fast_and_offline(tiny_dataset) -> None:
    """The autouse fixture points downloads at a missing file:// mirror: no test goes online."""
    with pytest.raises(DataError, match="nonexistent-latentlab-test-mirror"):
        load_dataset("tiny", download=True)


def test_cancel_stops_a_dataset_download(server: Server, tiny_dataset) -> None:
    mirror = mirror_of(server, tiny_dataset)
    with pytest.raises(DownloadCancelled):
        load_dataset("tiny", download=True, mirrors=[mirror], cancel=lambda: True)
    assert sum(server.hits.values()) == 0
    assert not any(datasets.cache_dir("tiny").iterdir())
