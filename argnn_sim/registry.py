"""Named registries that load their entries on first use (the bottom of the house).

A :class:`Registry` maps names to objects. A built-in entry is written as
``"module:attribute"`` and imported the first time it is asked for, so a low module
(the configuration) can look up what a higher one (a task kind) provides without
importing it; a plug-in adds an object with :meth:`Registry.add`. This is the pattern
of setuptools' entry points and fsspec's ``known_implementations``.

:data:`TASK_KINDS` is the registry of task kinds (``[task] kind``,
:class:`argnn_sim.tasks.TaskKind`).

>>> r = Registry("colour", {"red": "operator:neg"})
>>> r.names(), r.get("red")(2)
(('red',), -2)
>>> r.get("blue")
Traceback (most recent call last):
...
KeyError: "colour 'blue' is not known; choose one of 'red'"
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["Registry", "TASK_KINDS", "lazy_attributes"]


class Registry:
    """Names to objects, built-in ones loaded lazily from ``"module:attribute"``.

    Parameters
    ----------
    what : str
        What an entry is, for messages (``"task.kind"``).
    builtin : mapping, optional
        Name to ``"module:attribute"`` (or to the object itself).
    group : str, optional
        An entry-point group whose entries are registered too (other packages' plug-ins,
        found in every process, workers included).
    """

    def __init__(self, what: str, builtin: Mapping[str, Any] | None = None, *,
                 group: str | None = None) -> None:
        self.what = what
        self._entries: dict[str, Any] = dict(builtin or {})
        self._group = group

    def _discover(self) -> None:
        """Add the entry points of the group (once; a name already taken keeps its entry)."""
        if self._group is None:
            return
        from importlib.metadata import entry_points

        group, self._group = self._group, None
        for ep in entry_points(group=group):
            self._entries.setdefault(ep.name, ep.value)

    def names(self) -> tuple[str, ...]:
        """The registered names, built-ins first, in registration order.

        Returns
        -------
        tuple of str
        """
        self._discover()
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        self._discover()
        return name in self._entries

    def get(self, name: str) -> Any:
        """The object registered as ``name`` (imported on first use).

        Parameters
        ----------
        name : a registered name.

        Returns
        -------
        object

        Raises
        ------
        KeyError
            Naming the registered names.
        """
        self._discover()
        try:
            entry = self._entries[name]
        except KeyError:
            known = ", ".join(repr(n) for n in self._entries)
            raise KeyError(f"{self.what} {name!r} is not known; choose one of {known}") from None
        if isinstance(entry, str):
            module, _, attr = entry.partition(":")
            entry = getattr(importlib.import_module(module), attr)
            self._entries[name] = entry
        return entry

    def add(self, name: str, obj: Any, *, replace: bool = False) -> Any:
        """Register ``obj`` as ``name``.

        Parameters
        ----------
        name : the name it is asked for by.
        obj : the object.
        replace : allow replacing an entry of that name.

        Returns
        -------
        object
            ``obj``, so that ``add`` can end a definition.

        Raises
        ------
        ValueError
            ``name`` is taken and ``replace`` is false.
        """
        if name in self._entries and not replace:
            raise ValueError(f"{self.what} {name!r} is already registered")
        self._entries[name] = obj
        return obj

    def remove(self, name: str) -> None:
        """Forget ``name`` (a plug-in's entry, e.g. at the end of a test).

        Parameters
        ----------
        name : a registered name.
        """
        self._entries.pop(name, None)


def lazy_attributes(package: str, exports: Mapping[str, Sequence[str]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports the submodule of ``package`` defining ``name``
    the first time ``name`` is asked for: a package whose names need heavy imports (torch)
    stays light until one is used.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping
        Submodule (relative to ``package``) to the names it defines.

    Returns
    -------
    callable
        To assign to the package's ``__getattr__``.

    Examples
    --------
    >>> get = lazy_attributes("os", {"path": ["join"]})
    >>> get("join")("a", "b")
    'a/b'
    """
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name in where:
            return getattr(importlib.import_module(f".{where[name]}", package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


#: the task kinds ``[task] kind`` takes (:class:`argnn_sim.tasks.TaskKind`)
TASK_KINDS = Registry("task.kind", {"truth": "argnn_sim.tasks:TRUTH",
                                    "series": "argnn_sim.series_kind:SERIES"},
                      group="argnn.tasks")
