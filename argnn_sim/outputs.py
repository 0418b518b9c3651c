"""Output safety: argnn writes only into new folders, empty ones, or folders it wrote itself.

The rule, for every command and every function that writes a folder:

* A folder argnn writes carries a marker, ``.argnn.json``, naming what wrote it (its *kind*:
  ``run``, ``sweep``, ``scenario/<name>``, ``compare``, ``compress-study``, ...). Folders written
  before the marker existed are recognised by their own files (``summary.json`` of a run,
  ``grid.json`` of a sweep, ``manifest.json`` of a scenario).
* An output path that is a file, or a folder holding anything argnn did not write, is refused
  with one message naming a way forward; nothing is written there.
* A folder of another kind is refused.
* A folder of the same kind is continued where the command resumes (sweeps, scenarios, studies)
  and replaced only on request (``argnn run --force``), and then only when every file in it is
  one argnn writes there: a user's own file inside stops the replacement.
* The current folder, its parents, the home folder and ``/`` are never an output folder, and a
  run's name (which becomes ``results/<name>``) is a single path component.

Examples
--------
>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> _ = (root / "mine").mkdir(); _ = (root / "mine" / "notes.txt").write_text("hi")
>>> check_output(root / "mine", "run")
Traceback (most recent call last):
...
argnn_sim.errors.OutputError: output folder '.../mine' holds files argnn did not write (notes.txt); argnn never writes into or replaces such a folder: choose a new folder (or an empty one)
>>> claim_output(root / "new", "sweep").name, output_kind(root / "new")
('new', 'sweep')
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from .errors import ArgnnError, OutputError, on_bad_input

__all__ = ["MARKER", "RUN_FILES", "OutputError", "check_output", "claim_output", "mark_output",
           "output_kind", "free_folder", "write_atomic", "discard_unused", "load_json"]

MARKER = ".argnn.json"
# Everything argnn writes into a run folder (and into a scenario folder holding one run).
RUN_FILES = frozenset({
    MARKER, "summary.json", "prune_events.csv", "curve.csv", "edges.csv", "traces.npz",
    "eigenvalues.png", "graph.png", "curves.png", "manifest.json", "summary.md"})

Existing = Literal["refuse", "resume", "replace"]


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write ``text`` to ``path`` through a temporary file, fsync and rename: the file is
    complete or absent, never half-written. A failed write raises the ``OSError`` with its
    errno (``ENOSPC``, ``EFBIG``, ...).

    Parameters
    ----------
    path
        The file.
    text
        Its contents (``bytes`` are written as they are).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.json"
    >>> write_atomic(p, "{}"); p.read_text()
    '{}'
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        if exc.filename is None:  # a failed write() names no file: name the one meant
            exc.filename = str(path)
        raise
    finally:
        if tmp.exists():
            tmp.unlink()


def load_json(path: str | os.PathLike[str], what: str = "file") -> Any:
    """Parse a JSON file argnn wrote; a damaged one is one :class:`ArgnnError` naming it.

    Parameters
    ----------
    path
        The file.
    what
        What it is, for the message ("run summary").

    Returns
    -------
    object
    """
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ArgnnError(f"{what} {str(path)!r} is damaged (not JSON: {exc}); re-run the "
                         "command that wrote it") from None


def _read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def output_kind(folder: str | os.PathLike[str]) -> str | None:
    """What argnn wrote ``folder`` as, or ``None`` when argnn did not write it.

    Parameters
    ----------
    folder : a path.

    Returns
    -------
    str or None
        The marker's kind; for a folder from before markers, ``run``, ``sweep`` or
        ``scenario/<name>`` from its files.
    """
    f = Path(folder)
    if not f.is_dir():
        return None
    m = _read_json(f / MARKER)
    if isinstance(m, dict) and isinstance(m.get("kind"), str):
        return str(m["kind"])
    man = _read_json(f / "manifest.json")
    if isinstance(man, dict) and isinstance(man.get("kind"), str):
        return f"scenario/{man['kind']}"
    s = _read_json(f / "summary.json")
    if isinstance(s, dict) and {"scenario", "labels", "seed"} <= set(s):
        return "run"
    g = _read_json(f / "grid.json")
    if isinstance(g, dict) and {"axes", "base", "seeds"} <= set(g):
        return "sweep"
    # the bridge's folders from before markers: settings file + their unit folder
    for settings, sub, kind in (("study.json", "units", "compress-study"),
                                ("config.json", "units", "compare"),
                                ("compare.json", "runs", "traffic-compare")):
        if isinstance(_read_json(f / settings), dict) and (f / sub).is_dir():
            return kind
    return None


def _listing(names: Iterable[str], limit: int = 5) -> str:
    names = sorted(names)
    more = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _forbidden(p: Path) -> str | None:
    try:
        r = p.resolve()
        cwd = Path.cwd().resolve()
    except (OSError, RuntimeError):
        return None
    if r == Path(r.anchor):
        return "the root of the file system"
    if r == cwd or r in cwd.parents:
        return "the current folder" if r == cwd else "a parent of the current folder"
    home = os.path.expanduser("~")
    if home and home != "~" and r == Path(home).resolve():
        return "the home folder"
    return None


def check_output(path: str | os.PathLike[str], kind: str, *, existing: Existing = "refuse",
                 what: str = "output folder", force_hint: str = "") -> Path:
    """Check that ``kind`` output may go to ``path``; write nothing.

    Parameters
    ----------
    path : the folder the command will write.
    kind : what it writes there (``run``, ``sweep``, ``scenario/paper_fig3``, ...).
    existing : what to do with a folder that already holds ``kind`` output: ``refuse`` it,
        ``resume`` it (the caller continues it) or ``replace`` it (allowed only when every
        entry is a name in :data:`RUN_FILES`).
    what : how the message names the path (``"--out"``).
    force_hint : for ``refuse``, how to ask for a replacement (``"pass --force to replace
        it"``).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    OutputError
        One message naming the problem and a way forward.
    """
    p = Path(path)
    if str(path) == "" or str(path).strip() != str(path):
        raise OutputError(f"{what} {str(path)!r} is not a usable folder name; give a path such "
                          "as results/my-run")
    bad = _forbidden(p)
    if bad is not None:
        raise OutputError(f"{what} {str(p)!r} is {bad}; argnn writes only into a folder of its "
                          "own: give a new folder such as results/my-run")
    if p.is_symlink() and not p.exists():
        raise OutputError(f"{what} {str(p)!r} is a broken symbolic link; choose another folder")
    if p.exists() and not p.is_dir():
        raise OutputError(f"{what} {str(p)!r} is a file, not a folder; argnn never replaces a "
                          "file: choose a new folder")
    if not p.exists():
        parent = p.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if parent.exists() and not parent.is_dir():
            raise OutputError(f"{what} {str(p)!r} lies under {str(parent)!r}, which is a file; "
                              "choose another folder")
        if parent.exists() and not os.access(parent, os.W_OK | os.X_OK):
            raise OutputError(f"{what} {str(p)!r}: cannot create it, {str(parent)!r} is not "
                              "writable; choose a folder you can write to")
        return p
    names = [e.name for e in p.iterdir()]
    if not os.access(p, os.W_OK | os.X_OK):
        raise OutputError(f"{what} {str(p)!r} is not writable; choose a folder you can write to")
    if not names:
        return p
    found = output_kind(p)
    if found is None:
        raise OutputError(f"{what} {str(p)!r} holds files argnn did not write "
                          f"({_listing(names)}); argnn never writes into or replaces such a "
                          "folder: choose a new folder (or an empty one)")
    if found != kind:
        raise OutputError(f"{what} {str(p)!r} holds argnn output of another kind ({found}, not "
                          f"{kind}); choose another folder")
    if existing == "refuse":
        hint = f"{force_hint}, or choose another folder" if force_hint else \
            "choose another folder"
        raise OutputError(f"{what} {str(p)!r} already holds a {kind}; {hint}")
    if existing == "replace":
        foreign = [n for n in names if n not in RUN_FILES]
        if foreign:
            raise OutputError(f"{what} {str(p)!r} holds files argnn did not write "
                              f"({_listing(foreign)}) beside its {kind}; argnn replaces only "
                              "folders that hold nothing else: move them or choose another "
                              "folder")
    return p


def mark_output(folder: str | os.PathLike[str], kind: str, **info: Any) -> None:
    """Write the marker that says argnn wrote ``folder`` as ``kind``.

    Parameters
    ----------
    folder
        An existing folder.
    kind
        Its kind.
    **info
        Kept in the marker.
    """
    from . import __version__

    write_atomic(Path(folder) / MARKER,
                 json.dumps({"kind": kind, "version": __version__, **info}, indent=1,
                            default=str) + "\n")


def claim_output(path: str | os.PathLike[str], kind: str, *, existing: Existing = "resume",
                 what: str = "output folder", force_hint: str = "", **info: Any) -> Path:
    """:func:`check_output`, then create the folder and mark it (a resumable command's start).

    Parameters
    ----------
    path
        As :func:`check_output`.
    kind
        As :func:`check_output`.
    existing
        As :func:`check_output`.
    what
        As :func:`check_output`.
    force_hint
        As :func:`check_output`.
    **info
        Kept in the marker.

    Returns
    -------
    pathlib.Path
    """
    p = check_output(path, kind, existing=existing, what=what, force_hint=force_hint)
    if not p.exists():
        top = p
        while not top.parent.exists() and top.parent != top:
            top = top.parent
        _CREATED.append(top)  # the highest folder this call creates
    p.mkdir(parents=True, exist_ok=True)
    if not (p / MARKER).is_file():
        mark_output(p, kind, **info)
    return p


# Folders this process created through claim_output, and the files in them that are settings,
# not results: after bad input is found, such a folder is removed (nothing is left behind).
_CREATED: list[Path] = []
SETTINGS_FILES = frozenset({MARKER, "grid.json", "config.json", "study.json", "manifest.json"})


def discard_unused() -> list[Path]:
    """Remove the folders this process created that hold no result yet (only settings and
    empty folders); called when a command stops on bad input. Returns what was removed.

    Returns
    -------
    list of pathlib.Path
    """
    removed = []
    while _CREATED:
        p = _CREATED.pop()
        try:
            if p.is_dir() and all(f.is_dir() or f.name in SETTINGS_FILES for f in p.rglob("*")):
                shutil.rmtree(p)
                removed.append(p)
        except OSError:
            pass
    return removed


on_bad_input(discard_unused)


def free_folder(path: str | os.PathLike[str], kind: str) -> Path:
    """``path`` if argnn may write ``kind`` there without replacing anything, else the first
    free ``path-2``, ``path-3``, ... (the default output of ``argnn run``).

    Parameters
    ----------
    path
        The preferred folder.
    kind
        What will be written.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = claim_output(root / "default", "run")
    >>> _ = (root / "default" / "summary.json").write_text("{}")
    >>> free_folder(root / "default", "run").name
    'default-2'
    """
    p = Path(path)
    i = 1
    cand = p
    while cand.exists() and (not cand.is_dir() or any(cand.iterdir())):
        i += 1
        cand = p.with_name(f"{p.name}-{i}")
    return cand
