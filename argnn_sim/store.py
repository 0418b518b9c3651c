"""One resumable results folder: what every long command (sweeps, studies, comparisons)
writes its finished work through.

A :class:`Store` claims a folder for one kind of output (the marker of
:mod:`argnn_sim.outputs`), guards its settings (a folder holding other settings is refused),
holds a lock while a command works in it, lists the finished units and reads them back,
writes each unit atomically the moment it finishes, and runs the missing units on any
executor with a progress bar (:meth:`Store.run`).

What it does when things go wrong:

* **Two processes on one folder.** The lock file ``.lock`` holds the pid and host of the
  command working there; a second command is refused at once with one line. A lock whose
  process is gone (same host, pid not running) is stale and taken over.
* **Damaged unit files.** A unit file that is truncated, not JSON, or written by another
  version of the store is named in one line on stderr, moved aside to ``quarantine/``
  (never deleted) and run again; the other units are kept. A damaged settings file is
  refused with the fix.
* **A full disk, a read-only folder.** A write that fails is one error naming the path and
  the errno; the unit file being written is never left half-written (temporary file, fsync,
  rename), and every unit written before is kept, so the same command resumes once there is
  room.
* **Ctrl-C.** Worker processes ignore SIGINT and are stopped by the command, at once
  (:func:`argnn_sim.executors.make_executor`); every finished unit is already on disk.
"""

from __future__ import annotations

import concurrent.futures as cf
import errno
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import ArgnnError, resume_hint
from .outputs import check_output, claim_output, write_atomic

__all__ = ["Store", "StoreError", "FolderBusy", "STORE_VERSION", "storage_error", "unit_value"]

#: the version of the unit files a store writes (a unit of another version is quarantined)
STORE_VERSION = 1
_VERSION_KEY = "store_version"
#: a unit that is not a JSON object (a list of rows, say) is kept under this key of an object
#: that carries the version, so that a unit of another store version is always recognized
_VALUE_KEY = "store_value"


def unit_value(rec: Any) -> Any:
    """A unit file's content as its writer gave it to :meth:`Store.put` (for readers outside
    a :class:`Store`, such as ``argnn plot``): a wrapped value unwrapped, the version mark
    dropped; files written before values were wrapped are returned as they are."""
    if isinstance(rec, dict) and _VERSION_KEY in rec:
        if _VALUE_KEY in rec and len(rec) == 2:
            return rec[_VALUE_KEY]
        return {k: v for k, v in rec.items() if k != _VERSION_KEY}
    return rec


LOCK = ".lock"


class StoreError(ArgnnError):
    """A results folder cannot be used as asked (other settings, a damaged settings file, a
    write that failed)."""


class FolderBusy(StoreError):
    """Another command is working in the folder."""


def storage_error(exc: OSError, path: str | os.PathLike[str]) -> StoreError:
    """One error naming the path and the errno of a failed write, and what to do.

    >>> import errno
    >>> str(storage_error(OSError(errno.ENOSPC, "No space left on device"), "out/runs/a.json"))
    "cannot write 'out/runs/a.json': [Errno 28 ENOSPC] No space left on device; finished work is kept: free space and run the same command again to resume"
    """
    code = exc.errno if exc.errno is not None else 0
    name = errno.errorcode.get(code, "?")
    fix = {errno.EROFS: "make the folder writable", errno.EACCES: "make the folder writable",
           errno.EPERM: "make the folder writable"}.get(code, "free space")
    return StoreError(f"cannot write {str(path)!r}: [Errno {code} {name}] "
                      f"{exc.strerror or exc}; finished work is kept: {fix} and run the same "
                      "command again to resume")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


class Store:
    """A resumable folder of units (see the module docstring).

    Parameters
    ----------
    path : the folder.
    kind : what it holds (the marker's kind: ``sweep``, ``traffic-compare``, ...).
    settings : what the units depend on; stored in ``settings_file``, and a folder holding
        other settings is refused (None: no guard).
    settings_file : the settings' file name in the folder.
    units : the sub-folder of unit files.
    what : how messages name the folder (``"--out"``).
    existing : ``resume`` (continue a folder of this kind) or ``refuse``.
    force_hint : with ``refuse``, how to ask to continue (``"pass --resume"``).
    same : compares stored with new settings (default: equality of their JSON form); a
        function may accept settings written by an older version.
    holds : how messages name what the folder holds (default: ``"a <kind>"``).
    error : the error class a refused folder raises (default :class:`StoreError`).
    resume_command : the command that resumes this work, for the line Ctrl-C prints
        (default: the command line as given).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> with Store(root / "s", "demo", settings={"n": 2}) as st:
    ...     st.put("a", {"x": 1}); sorted(st.done())
    ['a']
    >>> with Store(root / "s", "demo", settings={"n": 2}) as st:
    ...     st.get("a")
    {'x': 1}
    >>> Store(root / "s", "demo", settings={"n": 3})
    Traceback (most recent call last):
    ...
    argnn_sim.store.StoreError: .../s holds a demo with other settings (n); choose another --out
    """

    def __init__(self, path: str | os.PathLike[str], kind: str, *,
                 settings: Mapping[str, Any] | None = None,
                 settings_file: str = "settings.json", units: str = "runs",
                 what: str = "--out", existing: str = "resume", force_hint: str = "",
                 same: Callable[[Any, Any], bool] | None = None, holds: str | None = None,
                 error: type[ArgnnError] | None = None,
                 resume_command: str | None = None) -> None:
        err = error or StoreError
        holds = holds or f"a {kind}"
        self.kind = kind
        self.what = what
        folder = check_output(path, kind, existing=existing,  # type: ignore[arg-type]
                              what=what, force_hint=force_hint)
        self.folder = folder
        self.units = folder / units
        self.settings_path = folder / settings_file
        new = json.loads(json.dumps(settings, default=str)) if settings is not None else None
        if new is not None and self.settings_path.exists():
            try:
                old = json.loads(self.settings_path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError):
                raise err(f"{str(self.settings_path)!r} is damaged, so {holds} there cannot "
                          f"be checked before resuming; choose another {what} (or move the "
                          "folder aside)") from None
            if not (same(old, new) if same is not None else old == new):
                differ = (sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
                          if isinstance(old, dict) else ["everything"])
                raise err(f"{folder} holds {holds} with other settings "
                          f"({', '.join(differ)}); choose another {what}")
        self._locked = False
        try:
            claim_output(folder, kind, existing="resume", what=what)
            self._lock()
            self.units.mkdir(parents=True, exist_ok=True)
            for tmp in self.units.glob(".*.tmp-*"):  # left by a killed run: never a unit
                tmp.unlink(missing_ok=True)
            if new is not None:
                self.write(self.settings_path.name, json.dumps(new, indent=1))
            resume_hint(folder, resume_command)
        except OSError as exc:
            self.close()
            raise storage_error(exc, exc.filename or folder) from None
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------------- lock
    def _lock(self) -> None:
        path = self.folder / LOCK
        me = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        for _ in range(3):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    held = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    held = None
                if isinstance(held, dict) and held.get("host") == me["host"] and \
                        isinstance(held.get("pid"), int) and _pid_alive(held["pid"]) and \
                        held["pid"] != me["pid"]:
                    raise FolderBusy(f"output folder {str(self.folder)!r} is in use by process "
                                     f"{held['pid']} on this host (since "
                                     f"{time.strftime('%H:%M:%S', time.localtime(held.get('since', 0)))}"
                                     "); wait for it to finish, or stop it, then run this "
                                     "again") from None
                if isinstance(held, dict) and held.get("host") not in (None, me["host"]):
                    raise FolderBusy(f"output folder {str(self.folder)!r} is in use by process "
                                     f"{held.get('pid')} on host {held.get('host')}; if that "
                                     f"process is gone, remove {str(path)!r} and run this "
                                     "again") from None
                path.unlink(missing_ok=True)  # stale: its process is gone
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(me, fh)
            self._locked = True
            return
        raise FolderBusy(f"output folder {str(self.folder)!r}: its lock {str(path)!r} keeps "
                         "changing hands; is another command starting there?")

    def close(self) -> None:
        """Release the folder (the lock); idempotent."""
        if self._locked:
            self._locked = False
            try:
                (self.folder / LOCK).unlink(missing_ok=True)
            except OSError:
                pass

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # a store dropped without close() still frees its folder
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    # ------------------------------------------------------------------------- units
    def path(self, key: str) -> Path:
        """The unit file of ``key``."""
        return self.units / f"{key}.json"

    def done(self) -> set[str]:
        """The keys of the unit files present (not yet checked for damage)."""
        return {p.stem for p in self.units.glob("*.json")} if self.units.is_dir() else set()

    def get(self, key: str, *, valid: Callable[[Any], bool] | None = None) -> Any:
        """The unit ``key``, or None when it is not there, or damaged (truncated, not JSON,
        another store version, or refused by ``valid``): a damaged file is moved to
        ``quarantine/`` with one line on stderr, so that the unit runs again."""
        p = self.path(key)
        if not p.is_file():
            return None
        why = None
        try:
            rec = json.loads(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            why = f"not JSON ({type(exc).__name__})"
        except OSError as exc:
            raise storage_error(exc, p) from None
        if why is None:
            if isinstance(rec, dict) and rec.get(_VERSION_KEY, STORE_VERSION) != STORE_VERSION:
                why = f"store version {rec.get(_VERSION_KEY)!r}, this is {STORE_VERSION}"
            else:
                rec = unit_value(rec)
                if valid is not None and not valid(rec):
                    why = "not a finished unit"
        if why is not None:
            self.quarantine(p, why)
            return None
        return rec

    def quarantine(self, path: Path, why: str) -> Path:
        """Move a damaged file aside to ``quarantine/`` (never delete it); one line on
        stderr."""
        q = self.folder / "quarantine"
        q.mkdir(exist_ok=True)
        dest = q / f"{path.name}.{time.strftime('%Y%m%d-%H%M%S')}"
        n = 1
        while dest.exists():
            n += 1
            dest = q / f"{path.name}.{time.strftime('%Y%m%d-%H%M%S')}-{n}"
        os.replace(path, dest)
        print(f"argnn: {path.relative_to(self.folder)} was damaged ({why}); moved to "
              f"{dest.relative_to(self.folder)}, it runs again", file=sys.stderr)
        return dest

    def put(self, key: str, record: Any) -> None:
        """Write unit ``key`` atomically (complete or absent)."""
        data = ({**record, _VERSION_KEY: STORE_VERSION} if isinstance(record, dict)
                else {_VERSION_KEY: STORE_VERSION, _VALUE_KEY: record})
        self.write(f"{self.units.name}/{key}.json", json.dumps(data))

    def write(self, name: str, text: str) -> Path:
        """Write a file of the folder atomically; a failed write is one :class:`StoreError`
        naming the path and the errno."""
        p = self.folder / name
        try:
            write_atomic(p, text)
        except OSError as exc:
            raise storage_error(exc, p) from None
        return p

    # ------------------------------------------------------------------------- running
    def run(self, jobs: Sequence[tuple[str, Callable[..., Any], tuple[Any, ...]]], *,
            workers: int = 1, scheduler: str | None = None, progress: bool = False,
            desc: str = "units", valid: Callable[[Any], bool] | None = None,
            redo: Callable[[Any], bool] | None = None,
            on_error: Callable[[str, BaseException], Any] | None = None) -> dict[str, Any]:
        """Run the ``(key, fn, args)`` jobs whose unit is not in the folder yet, writing each
        result the moment it arrives; return every job's unit by key.

        ``workers`` > 1 (or a ``scheduler``) runs them on
        :func:`argnn_sim.executors.make_executor`; otherwise in this process. ``on_error``: what
        to record when a job raises (default: the error stops the command; the units
        written so far stay); it is returned, not written. ``valid``: a unit it refuses is
        damaged (quarantined); ``redo``: a unit it picks is sound but runs again (a recorded
        failure). Ctrl-C stops the workers at once and keeps every finished unit.
        """
        out: dict[str, Any] = {}
        todo = []
        for key, fn, args in jobs:
            rec = self.get(key, valid=valid)
            if rec is None or (redo is not None and redo(rec)):
                todo.append((key, fn, args))
            else:
                out[key] = rec
        bar = _bar(progress, len(todo), desc)
        try:
            if (workers > 1 and len(todo) > 1) or scheduler not in (None, "inline"):
                from .executors import make_executor

                with make_executor(scheduler or "processes", workers) as ex:
                    futs = {ex.submit(fn, *args): key for key, fn, args in todo}
                    for fut in cf.as_completed(futs):
                        self._finish(futs[fut], fut, out, on_error)
                        bar.update(1)
            else:
                for key, fn, args in todo:
                    self._finish(key, _Done(fn, args), out, on_error)
                    bar.update(1)
        finally:
            bar.close()
        return out

    def _finish(self, key: str, fut: Any, out: dict[str, Any],
                on_error: Callable[[str, BaseException], Any] | None) -> None:
        try:
            rec = fut.result()
        except Exception as exc:  # noqa: BLE001 - recorded or raised, as the caller asks
            if on_error is None:
                raise
            out[key] = on_error(key, exc)
            return
        self.put(key, rec)
        out[key] = rec


class _Done:
    """A job run in this process, with the interface of a finished future."""

    def __init__(self, fn: Callable[..., Any], args: Iterable[Any]) -> None:
        self.fn, self.args = fn, tuple(args)

    def result(self) -> Any:
        return self.fn(*self.args)


def _bar(enabled: bool, total: int, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="unit", file=sys.stderr, disable=not enabled,
                mininterval=0.5)
