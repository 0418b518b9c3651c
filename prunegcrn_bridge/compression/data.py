"""Datasets of the compression study, read from a local raw folder.

Three data sets, each read from the raw files the original distributions ship, through
PyTorch Geometric's own readers (pure Python):

========== ================================================ ==========================
name       raw files under ``<root>/``                       task
========== ================================================ ==========================
Cora       ``Cora/raw/ind.cora.{x,y,tx,ty,allx,ally,graph,   node classification,
           test.index}`` (Planetoid)                          link prediction
PROTEINS   ``PROTEINS/raw/PROTEINS_{A,graph_indicator,       graph classification
           graph_labels,node_labels}.txt`` (TU Dortmund)
BBBP       ``BBBP/raw/BBBP.csv`` (MoleculeNet; needs rdkit)  graph classification
========== ================================================ ==========================

Nothing is ever downloaded. The raw folder is only read: PyG's processed files go to a
cache folder (``cache=``, the ``ARGNN_CACHE`` environment variable, or
``~/.cache/argnn-sim``), in a subfolder named after a hash of the raw files, so a changed
raw file is never served from a stale cache. The raw root comes from ``root=`` or the
``ARGNN_DATA`` environment variable.

Splits: :func:`cora_split` (the public Planetoid split, or a seeded random split of the
same sizes), :func:`kfold_indices` (stratified folds for PROTEINS),
:func:`random_split_indices` and :func:`scaffold_split_indices` (Bemis-Murcko scaffolds,
largest groups to training, the usual MoleculeNet protocol) for BBBP.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import warnings
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import DataError

__all__ = [
    "DATASETS",
    "data_root",
    "cache_root",
    "load_cora",
    "load_proteins",
    "load_bbbp",
    "cora_split",
    "kfold_indices",
    "random_split_indices",
    "scaffold_split_indices",
    "BBBP_FEATURE_SIZES",
]

#: raw file names each data set needs, relative to ``<root>/<folder>/raw``
DATASETS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "cora": ("Cora", tuple(f"ind.cora.{s}" for s in
                           ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")),
             "the Planetoid files ind.cora.* (github.com/kimiyoung/planetoid, data/)"),
    "proteins": ("PROTEINS", tuple(f"PROTEINS_{s}.txt" for s in
                                   ("A", "graph_indicator", "graph_labels", "node_labels")),
                 "the TU Dortmund PROTEINS text files (PROTEINS_A.txt, ...)"),
    "bbbp": ("BBBP", ("BBBP.csv",),
             "the MoleculeNet BBBP.csv (columns num,name,p_np,smiles)"),
}

#: number of categories of each of the 9 atom features PyG's ``from_smiles`` writes
BBBP_FEATURE_SIZES = (119, 9, 11, 12, 9, 5, 8, 2, 2)


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The raw data root: ``root`` if given, else ``$ARGNN_DATA``."""
    if root is None:
        env = os.environ.get("ARGNN_DATA")
        if not env:
            raise DataError("no data root given: pass --data-root DIR (or root=) or set "
                            "ARGNN_DATA to the folder holding Cora/, PROTEINS/ and BBBP/")
        root = env
    p = Path(root).expanduser()
    if not p.is_dir():
        raise DataError(f"data root {p} is not a folder: pass the folder that holds "
                        "Cora/, PROTEINS/ and BBBP/ (each with a raw/ subfolder)")
    return p


def cache_root(cache: str | os.PathLike[str] | None = None) -> Path:
    """Where processed data sets are cached: ``cache``, ``$ARGNN_CACHE`` or ~/.cache."""
    if cache is None:
        cache = os.environ.get("ARGNN_CACHE") or Path.home() / ".cache" / "argnn-sim"
    return Path(cache).expanduser()


def _raw_files(name: str, root: Path) -> tuple[str, list[Path]]:
    folder, files, what = DATASETS[name]
    raw = root / folder / "raw"
    paths = [raw / f for f in files]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise DataError(f"{name}: raw file {missing[0]} not found ({len(missing)} of "
                        f"{len(paths)} missing); {raw} should hold {what}")
    return folder, paths


def _stage(name: str, root: Path, cache: Path) -> Path:
    """A cache folder ``<cache>/<name>-<hash>/<folder>/raw`` of links to the raw files."""
    folder, paths = _raw_files(name, root)
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    base = cache / f"{name}-{h.hexdigest()[:12]}"
    raw = base / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for p in paths:
        link = raw / p.name
        if not link.exists():
            try:
                link.symlink_to(p.resolve())
            except OSError:  # no symlinks (some file systems): copy instead
                link.write_bytes(p.read_bytes())
    return base


def _load(name: str, make: Any, root: Path, cache: Path) -> Any:
    base = _stage(name, root, cache)
    folder, files, what = DATASETS[name]
    try:
        # PyG prints "Processing..." on stdout and warns about its own internals
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            return make(base)
    except DataError:
        raise
    except Exception as e:  # a damaged file surfaces as any parser error
        raise DataError(f"{name}: could not read the raw files in {root / folder / 'raw'} "
                        f"({type(e).__name__}: {e}); the folder should hold {what}. "
                        f"Replace the damaged file and delete the cache {base}") from e


def load_cora(root: str | os.PathLike[str] | None = None, *,
              cache: str | os.PathLike[str] | None = None) -> Any:
    """Cora as one PyG ``Data`` (2708 nodes, 1433 features, 7 classes, public split masks).

    Features are row-normalised, as in Kipf & Welling. The pickled raw files are read by
    a restricted unpickler (:mod:`.planetoid`): a hostile file is a :class:`DataError`,
    never code that runs. ``cache`` is accepted for symmetry and unused (reading takes
    well under a second).
    """
    from torch_geometric.transforms import NormalizeFeatures

    from .planetoid import read_planetoid

    _folder, paths = _raw_files("cora", data_root(root))
    data = NormalizeFeatures()(read_planetoid(paths[0].parent, "cora"))
    if data.num_nodes != 2708 or data.x.shape[1] != 1433:
        raise DataError(f"cora: read {data.num_nodes} nodes x {data.x.shape[1]} features "
                        "from the raw files, expected 2708 x 1433; are they the Planetoid "
                        "Cora files?")
    return data


def load_proteins(root: str | os.PathLike[str] | None = None, *,
                  cache: str | os.PathLike[str] | None = None) -> Any:
    """PROTEINS as a PyG ``TUDataset`` (1113 graphs, 3 one-hot node labels, 2 classes)."""
    from torch_geometric.datasets import TUDataset

    r, c = data_root(root), cache_root(cache)
    ds = _load("proteins", lambda base: TUDataset(str(base), "PROTEINS"), r, c)
    if len(ds) != 1113:
        raise DataError(f"proteins: read {len(ds)} graphs, expected 1113; are the raw files "
                        "the TU Dortmund PROTEINS set?")
    return ds


class _OneHotAtoms:
    """Turn the 9 integer atom features of ``from_smiles`` into one float one-hot vector."""

    def __init__(self) -> None:
        self.offsets = torch.tensor(np.cumsum((0,) + BBBP_FEATURE_SIZES[:-1]))
        self.size = int(sum(BBBP_FEATURE_SIZES))

    def __call__(self, data: Any) -> Any:
        data = data.clone()
        idx = data.x.long() + self.offsets
        x = torch.zeros(data.x.shape[0], self.size)
        x.scatter_(1, idx, 1.0)
        data.x = x
        data.y = data.y.view(-1).long()
        return data


def load_bbbp(root: str | os.PathLike[str] | None = None, *,
              cache: str | os.PathLike[str] | None = None) -> Any:
    """BBBP as a PyG ``MoleculeNet`` data set (2039 parsable molecules, 2 classes).

    Atom features are one-hot (``sum(BBBP_FEATURE_SIZES)`` = 177 columns); ``y`` is the
    class index; ``smiles`` is kept for the scaffold split. Needs rdkit.
    """
    try:
        from rdkit import RDLogger
    except ImportError as e:
        raise DataError("bbbp: reading SMILES needs rdkit; pip install rdkit") from e
    from torch_geometric.datasets import MoleculeNet

    RDLogger.DisableLog("rdApp.*")  # 11 SMILES of BBBP.csv do not parse; they are skipped
    r, c = data_root(root), cache_root(cache)

    def make(base: Path) -> Any:
        # MoleculeNet keeps BBBP under <root>/bbbp; stage the same links there
        (base / "bbbp").mkdir(exist_ok=True)
        if not (base / "bbbp" / "raw").exists():
            (base / "bbbp" / "raw").symlink_to((base / "BBBP" / "raw").resolve())
        return MoleculeNet(str(base), "BBBP", transform=_OneHotAtoms())

    ds = _load("bbbp", make, r, c)
    if not 1900 <= len(ds) <= 2050:
        raise DataError(f"bbbp: read {len(ds)} molecules, expected about 2039; is "
                        f"{r / 'BBBP' / 'raw' / 'BBBP.csv'} the MoleculeNet file?")
    return ds


def cora_split(data: Any, split: str = "public", *, seed: int = 0) -> Any:
    """Cora with train/val/test masks: ``public`` (140/500/1000) or ``random``.

    ``random`` draws, from ``seed``, 20 training nodes per class, 500 validation and 1000
    test nodes among the rest (the sizes of the public split, as PyG's
    ``Planetoid(split="random")``).
    """
    if split == "public":
        return data
    if split != "random":
        from ..errors import BridgeConfigError

        raise BridgeConfigError(f"unknown Cora split {split!r}; allowed: public, random")
    g = torch.Generator().manual_seed(seed)
    data = data.clone()
    n = data.num_nodes
    train = torch.zeros(n, dtype=torch.bool)
    for c in range(int(data.y.max()) + 1):
        idx = (data.y == c).nonzero().view(-1)
        train[idx[torch.randperm(len(idx), generator=g)[:20]]] = True
    rest = (~train).nonzero().view(-1)
    rest = rest[torch.randperm(len(rest), generator=g)]
    data.train_mask = train
    data.val_mask = torch.zeros(n, dtype=torch.bool)
    data.val_mask[rest[:500]] = True
    data.test_mask = torch.zeros(n, dtype=torch.bool)
    data.test_mask[rest[500:1500]] = True
    return data


def kfold_indices(labels: Sequence[int] | np.ndarray, folds: int = 10, *, seed: int = 0,
                  val_fraction: float = 0.1) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Stratified k-fold (train, val, test) indices; val is carved out of each train part.

    Each test fold holds about ``1/folds`` of every class; the validation set (for
    epoch selection) is a stratified ``val_fraction`` of the remaining graphs, so the test
    fold is never used to choose anything.
    """
    y = np.asarray(labels)
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(y), dtype=np.int64)
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        fold_of[idx] = np.arange(len(idx)) % folds
    out = []
    for k in range(folds):
        test = np.flatnonzero(fold_of == k)
        rest = np.flatnonzero(fold_of != k)
        val_parts = []
        for c in np.unique(y):
            idx = rng.permutation(rest[y[rest] == c])
            val_parts.append(idx[: int(round(val_fraction * len(idx)))])
        val = np.sort(np.concatenate(val_parts))
        train = np.setdiff1d(rest, val)
        out.append((train, val, test))
    return out


def random_split_indices(n: int, *, seed: int = 0, fractions: tuple[float, float, float] =
                         (0.8, 0.1, 0.1)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A seeded random (train, val, test) split of ``n`` items."""
    perm = np.random.default_rng(seed).permutation(n)
    a = int(round(fractions[0] * n))
    b = a + int(round(fractions[1] * n))
    return np.sort(perm[:a]), np.sort(perm[a:b]), np.sort(perm[b:])


def scaffold_split_indices(smiles: Sequence[str], *, fractions: tuple[float, float, float] =
                           (0.8, 0.1, 0.1)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deterministic Bemis-Murcko scaffold split (largest scaffold groups first to train).

    Molecules sharing a scaffold never straddle two parts, so the test set holds
    scaffolds unseen in training: the split the MoleculeNet literature reports ROC-AUC on.
    Groups go in order of size, ties broken by the *last-listed* first molecule first (the
    DeepChem convention). The tie-break matters on BBBP: its last ~1000 rows are all
    positive, and the opposite order would leave validation and test with one class only.
    """
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold

    groups: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(smiles):
        mol = Chem.MolFromSmiles(s)
        key = MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False) \
            if mol is not None else s
        groups[key].append(i)
    ordered = sorted(groups.values(), key=lambda g: (len(g), g[0]), reverse=True)
    n = len(smiles)
    train: list[int] = []
    val: list[int] = []
    test: list[int] = []
    for g in ordered:
        if len(train) + len(g) <= fractions[0] * n:
            train += g
        elif len(train) + len(val) + len(g) <= (fractions[0] + fractions[1]) * n:
            val += g
        else:
            test += g
    return np.array(sorted(train)), np.array(sorted(val)), np.array(sorted(test))
