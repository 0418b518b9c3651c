"""The public data sets the project reads, fetched from their origins with checksums.

Every file is copied byte for byte from a public GitHub repository at a fixed commit; its
sha256 sum is checked after the download, and a file whose sum differs is refused (nothing
is written). A data root holds the files in the layout every loader reads
(``SZ_TAXI/SZ_taxi.npz``, ``Cora/raw/ind.cora.x``, ...): ``--root``, else ``$ARGNN_DATA``,
else ``$XDG_CACHE_HOME/argnn-sim/data`` (``~/.cache/argnn-sim/data``). Nothing is ever
downloaded except by :func:`fetch` (``argnn data get``); tests and loaders only read.

``$ARGNN_DATA_MIRROR`` replaces ``https://raw.githubusercontent.com`` (a mirror with the
same ``owner/repo/commit/path`` layout, e.g. a local server in the tests).

>>> sorted(DATASETS)
['bbbp', 'cora', 'pems04', 'pems08', 'proteins', 'sz_taxi']
>>> DATASETS["sz_taxi"].files[0].url
'https://raw.githubusercontent.com/Bounger2/ST-CGCN/9ffcc0ad7e024c3c1dbcabdb05c1853059d399bd/data/SZ_taxi/SZ_taxi.npz'
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .errors import DataError

__all__ = ["DataFile", "Dataset", "DATASETS", "data_root", "fetch", "status"]

GITHUB = "https://raw.githubusercontent.com"


@dataclass(frozen=True)
class DataFile:
    """One file: where it goes under the data root, its origin and its sha256 sum."""

    path: str
    repo: str
    commit: str
    source: str
    sha256: str

    @property
    def url(self) -> str:
        """The file's URL (``$ARGNN_DATA_MIRROR`` in place of GitHub's raw host)."""
        base = os.environ.get("ARGNN_DATA_MIRROR", GITHUB).rstrip("/")
        return f"{base}/{self.repo}/{self.commit}/{self.source}"


@dataclass(frozen=True)
class Dataset:
    """A data set: its files and one line on what it is."""

    name: str
    about: str
    files: tuple[DataFile, ...]


def _files(folder: str, repo: str, commit: str, source: str,
           sums: dict[str, str]) -> tuple[DataFile, ...]:
    return tuple(DataFile(f"{folder}/{name}", repo, commit,
                          f"{source}/{name}" if source else name, sha)
                 for name, sha in sums.items())


_CORA = "af6abf468a772cc055bec88c52e4d6f51b7c37e3"
_PROTEINS = "fecdd01e4d95bf5d917909a92ed5f4bbdfc1fe67"
_ASTGCN = "d5d40645fa45471f2b473fc49a29ec3f0a993c6d"

#: the data sets, by the name ``argnn data get`` takes
DATASETS: dict[str, Dataset] = {d.name: d for d in (
    Dataset("sz_taxi", "Shenzhen taxi road speeds (T-GCN): 2976 steps x 156 roads, road graph",
            _files("SZ_TAXI", "Bounger2/ST-CGCN", "9ffcc0ad7e024c3c1dbcabdb05c1853059d399bd",
                   "data/SZ_taxi", {
                       "SZ_taxi.npz": "b6f2008136f7223bf94adb6484da42b4f1235366eeff91dac38cb075ca916301",
                       "SZ_taxi.csv": "4e40e865b29d73df8404f6cc4c1a0c5ba55aa575aef97a4e9ce4fcd30aad16d6"})),
    Dataset("pems04", "PeMSD4 road graph (307 sensors; the readings are not public here)",
            _files("PEMS04", "Davidham3/ASTGCN", _ASTGCN, "data/PEMS04", {
                "distance.csv": "68ffaa80447eb34428a9999dc28363c61406ec0fd714686d0582d2386ac6f5f7"})),
    Dataset("pems08", "PeMSD8 road graph (170 sensors; the readings are not public here)",
            _files("PEMS08", "Davidham3/ASTGCN", _ASTGCN, "data/PEMS08", {
                "distance.csv": "859d68e7583ed4e6016588eaaca494d3ece286dae361614c5c1833017f87eaa7"})),
    Dataset("cora", "Cora citation graph (Planetoid's raw files)",
            _files("Cora/raw", "kimiyoung/planetoid", _CORA, "data", {
                "ind.cora.x": "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
                "ind.cora.y": "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
                "ind.cora.tx": "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
                "ind.cora.ty": "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
                "ind.cora.allx": "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
                "ind.cora.ally": "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
                "ind.cora.graph": "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
                "ind.cora.test.index":
                    "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875"})),
    Dataset("proteins", "PROTEINS graph classification (TU Dortmund files, the paper's copy)",
            _files("PROTEINS/raw", "khedri-kh-l/Compression-of-Graph-Neural-Networks",
                   _PROTEINS, "Compression-quantization/QAT/Proteins/Int4/datasets/PROTEINS/raw", {
                       "PROTEINS_A.txt":
                           "4c4b33e272fc95cac6d27ed6d5d12b9a852c8610e91fff59f8f0dbdd5a20df67",
                       "PROTEINS_graph_indicator.txt":
                           "8d4ff1e852a5c28561e9bffb44cf9490bc552b13a3b6156dd12dc7f44e9afc4a",
                       "PROTEINS_graph_labels.txt":
                           "c0ef9810c440775252872318d0c8adc385588e14bc4c47a2c34aa96ee3c7cdcd",
                       "PROTEINS_node_attributes.txt":
                           "54eef829abb37e458a5fbf3a3c581e48e5810e220463c2cd951856b9ceb08f07",
                       "PROTEINS_node_labels.txt":
                           "f758e8ad3d6e3c026b50833d75f6f90735b94eb3345e4243707f495ca8afea8d",
                       "README.txt":
                           "e9c4ed2c9a4059ddfdc2eb7330ebecfc6c8d42dabd5ce2ee67f28aed0db49da7"})),
    Dataset("bbbp", "BBBP blood-brain barrier penetration (MoleculeNet layout)",
            _files("BBBP/raw", "Projectwithhima/Drug_Discovery_BBBP",
                   "4a04357e6c74e31350d825940a6f88cfc1b55108", "", {
                       "BBBP.csv": "3dec6354d1082d0a22d619d8a1c41683a958e1094476beb9a35186bf630c45b9"})),
)}


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """Where the data sets live: ``root``, else ``$ARGNN_DATA``, else the user cache
    (``$XDG_CACHE_HOME/argnn-sim/data``, default ``~/.cache/argnn-sim/data``).

    Parameters
    ----------
    root : path-like, optional
        The folder given (``--root``).

    Returns
    -------
    Path
    """
    if root is not None:
        return Path(root)
    if os.environ.get("ARGNN_DATA"):
        return Path(os.environ["ARGNN_DATA"])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "argnn-sim" / "data"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _dataset(name: str) -> Dataset:
    if name not in DATASETS:
        import difflib

        guess = difflib.get_close_matches(name.lower(), list(DATASETS), n=1)
        raise DataError(f"no data set {name!r}" + (f" (did you mean {guess[0]!r}?)" if guess
                                                   else "")
                        + f"; choose one of {', '.join(DATASETS)} (argnn data list)")
    return DATASETS[name]


def status(name: str, root: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Each file of a data set under the root: ``ok`` (its checksum holds), ``missing`` or
    ``different`` (a file of that name with other contents).

    Parameters
    ----------
    name : str
        A data set of :data:`DATASETS`.
    root : path-like, optional
        The data root (:func:`data_root`).

    Returns
    -------
    dict
        File path (relative to the root) to its state.
    """
    base = data_root(root)
    out = {}
    for f in _dataset(name).files:
        p = base / f.path
        out[f.path] = ("missing" if not p.is_file() else
                       "ok" if _sha256(p) == f.sha256 else "different")
    return out


def fetch(name: str, root: str | os.PathLike[str] | None = None, *,
          timeout: float = 60.0) -> list[Path]:
    """Download a data set's missing files into the data root, each checked against its
    sha256 sum before it is moved into place (a file that fails the check is not written).

    Parameters
    ----------
    name : str
        A data set of :data:`DATASETS`.
    root : path-like, optional
        The data root (:func:`data_root`).
    timeout : float
        Seconds to wait for the origin.

    Returns
    -------
    list of Path
        The files downloaded (files already there with the right sum are kept).

    Raises
    ------
    DataError
        An unknown name; a file of that name already there with other contents (never
        replaced); an origin that cannot be reached; a download whose sum differs.
    """
    base = data_root(root)
    ds = _dataset(name)
    state = status(name, base)
    taken = [p for p, s in state.items() if s == "different"]
    if taken:
        raise DataError(f"{base / taken[0]} exists with other contents than {name}'s file "
                        "(its sha256 differs); it is never replaced: move it away, or give "
                        "another --root")
    made = [p for p in {(base / f.path).parent for f in ds.files} | {base}
            if not p.exists()]
    got: list[Path] = []
    try:
        for f in ds.files:
            if state[f.path] == "ok":
                continue
            got.append(_download(f, base / f.path, timeout))
    except BaseException:
        for p in sorted(made, key=lambda q: len(q.parts), reverse=True):
            _remove_empty(p, base.parent)
        raise
    return got


def _remove_empty(folder: Path, stop: Path) -> None:
    """Remove ``folder`` and its parents below ``stop`` while they are empty (a download
    that failed leaves nothing)."""
    while folder != stop and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _download(f: DataFile, dest: Path, timeout: float) -> Path:
    """One file: downloaded beside its place, checked, then moved into place."""
    tmp = dest.with_name(f".{dest.name}.part-{os.getpid()}")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(f.url, timeout=timeout) as resp, open(tmp, "wb") as out:
            while block := resp.read(1 << 20):
                out.write(block)
        digest = _sha256(tmp)
        if digest != f.sha256:
            raise DataError(f"{f.url} gave a file whose sha256 is {digest}, not "
                            f"{f.sha256}: the origin changed or the download was damaged; "
                            "nothing was written")
        os.replace(tmp, dest)
    except (urllib.error.URLError, OSError) as exc:
        raise DataError(f"cannot fetch {f.url} ({type(exc).__name__}: "
                        f"{getattr(exc, 'reason', exc)}); check the connection, or copy "
                        f"the file to {dest} yourself") from None
    finally:
        tmp.unlink(missing_ok=True)
    return dest
