"""argnn data: the public data sets fetched with their checksums, from a local HTTP server on
127.0.0.1 that stands in for GitHub (the tests never reach the internet)."""

from __future__ import annotations

import functools
import hashlib
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from argnn_sim.cli import main
from argnn_sim.datasets import DATASETS, status

from .conftest import DATA


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no request log on stderr
        pass


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A folder served at http://127.0.0.1:PORT, set as ``$ARGNN_DATA_MIRROR``."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("ARGNN_DATA_MIRROR", f"http://127.0.0.1:{server.server_address[1]}")
    yield folder
    server.shutdown()
    server.server_close()


def _serve(mirror: Path, name: str, content: dict[str, bytes] | None = None) -> None:
    """Put a data set's files where the mirror serves them: the real ones (from the data
    root) or ``content`` by file name."""
    for f in DATASETS[name].files:
        dest = mirror / f.repo / f.commit / f.source
        dest.parent.mkdir(parents=True, exist_ok=True)
        if content is not None:
            dest.write_bytes(content[Path(f.path).name])
        else:
            shutil.copyfile(DATA / f.path, dest)


def test_get_fetches_checks_and_keeps(mirror, tmp_path, capsys):
    if not (DATA / "SZ_TAXI" / "SZ_taxi.npz").is_file():
        pytest.skip(f"SZ-taxi is not in {DATA}: argnn data get sz_taxi --root {DATA}")
    _serve(mirror, "sz_taxi")
    root = tmp_path / "data"
    assert main(["data", "get", "sz_taxi", "--root", str(root)]) == 0
    assert "2 file(s) fetched and checked, 0 already there" in capsys.readouterr().out
    for f in DATASETS["sz_taxi"].files:
        assert hashlib.sha256((root / f.path).read_bytes()).hexdigest() == f.sha256
    assert set(status("sz_taxi", root).values()) == {"ok"}
    assert not list(root.rglob(".*part*"))  # no temporary file left
    assert main(["data", "get", "sz_taxi", "--root", str(root)]) == 0  # nothing fetched again
    assert "0 file(s) fetched and checked, 2 already there" in capsys.readouterr().out
    assert main(["data", "list", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "sz_taxi   present" in out and "cora      missing" in out


def test_a_download_with_another_checksum_is_refused_and_nothing_written(mirror, tmp_path,
                                                                          capsys):
    _serve(mirror, "pems04", {"distance.csv": b"from,to,cost\n0,1,2.0\n"})
    root = tmp_path / "data"
    assert main(["data", "get", "pems04", "--root", str(root)]) == 2
    err = capsys.readouterr().err
    assert "sha256" in err and "nothing was written" in err and len(err.splitlines()) == 1
    assert not root.exists()


def test_a_users_file_is_never_replaced(mirror, tmp_path, capsys):
    _serve(mirror, "pems08", {"distance.csv": b"whatever"})
    mine = tmp_path / "data" / "PEMS08" / "distance.csv"
    mine.parent.mkdir(parents=True)
    mine.write_text("my own edits\n")
    assert main(["data", "get", "pems08", "--root", str(tmp_path / "data")]) == 2
    assert "never replaced" in capsys.readouterr().err
    assert mine.read_text() == "my own edits\n"


def test_an_unreachable_origin_is_one_line(monkeypatch, tmp_path, capsys):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("ARGNN_DATA_MIRROR", f"http://127.0.0.1:{port}")
    assert main(["data", "get", "bbbp", "--root", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert "cannot fetch" in err and "BBBP.csv" in err and not (tmp_path / "d").exists()
    assert main(["data", "get", "nope"]) == 2
    assert main(["data", "get"]) == 2
