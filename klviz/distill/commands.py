"""Sub-commands that other modules add to ``python -m klviz.distill``.

The classifier commands (``teacher``, ``student``, ``compare``) are written in
:mod:`klviz.distill.cli`. A chapter's trainer (adversarial training in ``ch-robust``, the
language-model distiller of ``ch-lm``, the VAE of ``ch-vi``) registers its own command where it
is defined, so the CLI never has to be edited to grow::

    from klviz.distill.commands import command

    @command("robust", config=RobustConfig, help="adversarial training on digits",
             description="Train a classifier with PGD-AT or TRADES; writes best.pt, last.pt, metrics.json.")
    def _run(cfg: RobustConfig) -> None:
        res = train_robust(cfg)
        print(...)

Every option of the command is generated from ``config``'s fields (see
:func:`klviz.distill.config.option`), exactly as for the classifier commands. The module that
holds the command is named in :data:`PLUGINS`, which the CLI imports when it builds its parser.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Command", "COMMANDS", "PLUGINS", "command", "load_plugins"]

#: modules that register commands with :func:`command` (imported by the CLI, in this order)
PLUGINS: tuple[str, ...] = ("klviz.robust.train", "klviz.vi.train", "klviz.lm.train")


@dataclass(frozen=True)
class Command:
    """A sub-command: its name, one-line help, description, config class and what it runs."""

    name: str
    config: type
    run: Callable[[Any], Any]
    help: str
    description: str
    #: rank-0-only printing is the runner's job; this flag says whether it accepts ``--hidden``/``--channels``
    model_options: bool = False


#: name -> command, filled by :func:`command` as the modules in :data:`PLUGINS` are imported
COMMANDS: dict[str, Command] = {}

_BUILTIN = ("teacher", "student", "compare")


def command(name: str, *, config: type, help: str, description: str,
            model_options: bool = False) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Register ``run(cfg)`` as ``python -m klviz.distill NAME`` with options from ``config``'s fields."""
    if not dataclasses.is_dataclass(config):
        raise TypeError(f"config must be a dataclass of option() fields, got {config!r}")
    if name in _BUILTIN:
        raise ValueError(f"command {name!r} is built in; choose another name")

    def register(run: Callable[[Any], Any]) -> Callable[[Any], Any]:
        old = COMMANDS.get(name)
        if old is not None and (old.run.__module__, old.run.__qualname__) != (run.__module__, run.__qualname__):
            raise ValueError(f"command {name!r} is registered twice ({old.run.__module__} and {run.__module__})")
        COMMANDS[name] = Command(name, config, run, help, description, model_options)
        return run

    return register


def load_plugins() -> dict[str, Command]:
    """Import the modules of :data:`PLUGINS` (registering their commands) and return :data:`COMMANDS`."""
    for module in PLUGINS:
        importlib.import_module(module)
    return COMMANDS
