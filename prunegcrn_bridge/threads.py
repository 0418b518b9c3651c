"""One torch thread per unit of work, wherever the unit runs.

A floating-point sum over several threads is added up in an order that depends on the thread
count, so a unit trained in the main process (all cores) and the same unit in a worker (one
thread) differ in the last bits, and training amplifies that into different accuracies. Every
unit of a study therefore runs under :func:`one_thread`: same seed, same numbers, whatever
``--jobs`` and however often the study was resumed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["one_thread"]


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the block with one torch intra-op thread; restore the count afterwards.

    Examples
    --------
    >>> import torch
    >>> with one_thread():
    ...     torch.get_num_threads()
    1
    """
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)
