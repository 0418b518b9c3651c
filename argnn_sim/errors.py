"""The project's error types, and the one way every command reports them.

Every problem a user can cause (a bad value, a missing file, an output folder that argnn may
not touch, more memory than the machine has) is an :class:`ArgnnError`: its message names
the problem and the fix. Every command line (``argnn ...``, the scripts in ``scenarios/``)
runs through :func:`run_cli`, which turns such an error into one line on stderr and exit
status 2, so that a user never sees a traceback for bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import NoReturn

__all__ = ["ArgnnError", "OutputError", "ResourceError", "DataError", "run_cli", "on_bad_input",
           "OneLineParser", "workers", "show_progress", "EXIT_BAD_INPUT", "resume_hint",
           "interrupted_message", "install_signals", "leave"]

EXIT_BAD_INPUT = 2
# Called when a command stops on bad input (argnn_sim.outputs registers the removal of
# folders it made for the command that hold no result yet).
_ON_BAD_INPUT: list[Callable[[], object]] = []


def on_bad_input(hook: Callable[[], object]) -> None:
    """Run ``hook`` whenever :func:`run_cli` stops a command on bad input."""
    if hook not in _ON_BAD_INPUT:
        _ON_BAD_INPUT.append(hook)


class ArgnnError(ValueError):
    """Base of every error a user's input can cause; the message says what to do."""


class OutputError(ArgnnError):
    """An output path argnn may not write to, or may not replace."""


class ResourceError(ArgnnError):
    """A run that would need more memory or time than is reasonable on this machine."""


class DataError(ArgnnError):
    """A data file is missing, damaged or not of the expected layout."""


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {' '.join(message.split())}\n")


def workers(text: str) -> int:
    """An ``argparse`` type for ``--jobs``: a whole number of worker processes >= 1."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{n}: give at least 1 worker")
    return n


def show_progress(flag: bool | None) -> bool:
    """A command's ``--progress`` / ``--no-progress``; when neither was given, a bar only if
    stderr is a terminal (a log file gets no bar)."""
    return sys.stderr.isatty() if flag is None else bool(flag)


def run_cli(fn: Callable[[], int], prog: str = "argnn") -> int:
    """Run a command's body; every foreseeable failure becomes one line and an exit status.

    Parameters
    ----------
    fn : the command (returns its exit status).
    prog : the name the message starts with.

    Returns
    -------
    int
        ``fn``'s status; 2 for bad input (an :class:`ArgnnError`, a missing file, an OS error
        on a user's path, not enough memory); 130 when interrupted; 1 for an internal error
        (a bug: one line, and ``ARGNN_TRACEBACK=1`` shows the traceback).

    Examples
    --------
    >>> def bad() -> int:
    ...     raise ArgnnError("x = 1 is out of range")
    >>> run_cli(bad)
    2
    """
    import signal
    import threading

    main = threading.current_thread() is threading.main_thread()
    before = signal.getsignal(signal.SIGINT) if main else None
    install_signals()
    _IN_COMMAND[0] = True
    interrupted = False
    try:
        return int(fn())
    except ArgnnError as exc:
        for hook in _ON_BAD_INPUT:  # e.g. remove a folder made for this command, still empty
            hook()
        return _say(prog, f"error: {exc}", EXIT_BAD_INPUT)
    except FileNotFoundError as exc:
        return _say(prog, f"error: {_os_message(exc)}", EXIT_BAD_INPUT)
    except BrokenPipeError:
        # stdout went away (``argnn run --json | head``): not an error of the run.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 0
    except MemoryError:
        return _say(prog, "error: not enough memory for this run; make the network or the "
                          "schedule smaller", EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        interrupted = True
        return _say(prog, interrupted_message(), 130)
    except OSError as exc:
        return _say(prog, f"error: {_os_message(exc)}", EXIT_BAD_INPUT)
    except Exception as exc:  # noqa: BLE001 - a bug: one line, the traceback on request
        if os.environ.get("ARGNN_TRACEBACK"):
            raise
        return _say(prog, f"internal error: {type(exc).__name__}: {exc} (this is a bug; "
                          "rerun with ARGNN_TRACEBACK=1 for the traceback and report it)", 1)
    finally:
        _IN_COMMAND[0] = False
        if before is not None and not interrupted:  # a caller's own Ctrl-C handling comes back
            signal.signal(signal.SIGINT, before)


_RESUME: list[tuple[str, str]] = []  # (folder, command) of the long command running


def resume_hint(folder: str | os.PathLike[str], command: str | None = None) -> None:
    """Say which folder a long command keeps its finished work in, and the command that
    resumes it (default: this command line), for the line a Ctrl-C prints."""
    if command is None and any(f == str(folder) for f, _ in _RESUME):
        return  # the command line already said how it resumes
    if command is None:
        head = sys.argv[0] if sys.argv and sys.argv[0] else "argnn"
        if head.endswith("__main__.py") or os.path.basename(head) == "argnn":
            head = "argnn"
        elif head.endswith(".py"):
            head = f"python {head}"
        command = " ".join([head] + sys.argv[1:])
    _RESUME.append((str(folder), command))


def interrupted_message() -> str:
    """The one line a command stopped by Ctrl-C prints."""
    if not _RESUME:
        return "interrupted; nothing was lost (no long command had started)"
    folder, cmd = _RESUME[-1]
    return (f"interrupted; every finished unit is kept in {folder}; resume with: {cmd}")


_IN_COMMAND = [False]  # whether run_cli is running a command's body (else: still importing)


def install_signals() -> None:
    """Ctrl-C as every command treats it. Before a command's body runs (while its modules
    import) it ends the process at once with one line; during the body the first Ctrl-C
    raises KeyboardInterrupt (the command stops its workers and says what it kept) and a
    second one ends the process at once, without a traceback. SIGXFSZ (a file-size limit) is
    ignored, so a write past it fails with EFBIG and is reported like a full disk instead of
    killing the process with a core dump. Entry points call this first thing; it is
    idempotent and does nothing outside the main thread."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return

    def again(signum: int, frame: object) -> None:
        try:
            os.write(2, b"argnn: interrupted again; stopped at once (finished work is kept)\n")
        finally:
            os._exit(130)

    def first(signum: int, frame: object) -> None:
        if not _IN_COMMAND[0]:
            try:
                os.write(2, b"argnn: interrupted before any work started; nothing was lost\n")
            finally:
                os._exit(130)
        signal.signal(signal.SIGINT, again)
        raise KeyboardInterrupt

    current = signal.getsignal(signal.SIGINT)
    mp = sys.modules.get("multiprocessing.process")
    # a worker process (its parent known, or still inheriting its state while its start
    # re-runs the parent's entry script): its parent stops it, so Ctrl-C is ignored from
    # here on and it never prints a line of its own
    if mp is not None and (mp.parent_process() is not None
                           or getattr(mp.current_process(), "_inheriting", False)):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    elif current is signal.default_int_handler or getattr(current, "__name__", "") == "first":
        signal.signal(signal.SIGINT, first)
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def leave(status: int) -> int:
    """A command's exit: after a Ctrl-C (status 130) the process ends at once, without
    waiting for the interpreter's shutdown (which joins worker threads and could hang, and
    restores Ctrl-C's default so a second one would kill it); every file argnn wrote is
    already complete on disk. Otherwise ``status`` is returned."""
    if status == 130:
        mp = sys.modules.get("multiprocessing.util")
        if mp is not None:  # release the pools' semaphores, as the shutdown would have
            try:
                mp._exit_function()  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - leaving anyway
                pass
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(130)
    return status


def _os_message(exc: OSError) -> str:
    import errno

    what = exc.strerror or str(exc)
    code = f"[Errno {exc.errno} {errno.errorcode.get(exc.errno, '?')}] " if exc.errno else ""
    text = f"{code}{what}: {str(exc.filename)!r}" if exc.filename is not None else \
        (f"{code}{what}" if code else str(exc) or what)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        text += "; finished work is kept: free space and run the same command again"
    elif exc.errno in (errno.EROFS,):
        text += "; finished work is kept: make the folder writable and run the command again"
    return text


def _say(prog: str, text: str, status: int) -> int:
    line = " ".join(str(text).split())  # one line, whatever the message held
    try:
        print(f"{prog}: {line}", file=sys.stderr)
    except (OSError, ValueError):
        pass
    return status
