"""Commands registered by other modules appear in the CLI with options from their config."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass

import pytest

from klviz.distill import cli, commands
from klviz.distill.config import at_least_one, option


@dataclass
class _Toy:
    run_dir: str = option("runs/toy", help="where results go", metavar="DIR")
    steps: int = option(3, help="how many steps", metavar="N", check=at_least_one)


@pytest.fixture
def toy_plugin(monkeypatch):
    seen = []
    module = types.ModuleType("klviz_toy_plugin")

    def run(cfg: _Toy) -> None:
        seen.append(cfg)

    run.__module__ = module.__name__
    module.run = commands.command("toy", config=_Toy, help="a toy", description="A toy command.")(run)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(commands, "PLUGINS", (module.__name__,))
    yield seen
    commands.COMMANDS.pop("toy", None)


def test_plugin_command_gets_options_from_its_config(toy_plugin, capsys):
    assert cli.main(["toy", "--steps", "7"]) == 0
    assert toy_plugin == [_Toy(steps=7)]
    with pytest.raises(SystemExit):
        cli.main(["toy", "--help"])
    out = capsys.readouterr().out
    assert "--steps N" in out and "(default: 3)" in out


def test_plugin_command_is_listed(toy_plugin):
    assert "toy" in cli.build_parser().format_usage()


def test_builtin_names_and_non_dataclasses_are_refused():
    with pytest.raises(ValueError, match="built in"):
        commands.command("teacher", config=_Toy, help="x", description="x")
    with pytest.raises(TypeError, match="dataclass"):
        commands.command("other", config=int, help="x", description="x")
