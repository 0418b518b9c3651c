"""The ``argnn`` command's entry point: Ctrl-C is set up before the heavy imports, so that
an interrupt at any moment ends the command with one line (:func:`~.errors.install_signals`)."""

from __future__ import annotations


def main() -> int:
    """Set up Ctrl-C, then run :func:`argnn_sim.cli.main`."""
    from .errors import install_signals, leave

    install_signals()
    from .cli import main as cli_main

    return leave(cli_main())
