"""The pinned set is what the tests run on, and it satisfies the readers' ranges.

CI builds `.venv` from scratch on every run (`make test` on a fresh clone), so these tests are
also the check that the pins install on a fresh machine.
"""

from __future__ import annotations

import os
import sys
import re
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def pins() -> dict[str, str]:
    out = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            out[canonicalize_name(name)] = version
    return out


def requirements() -> list[Requirement]:
    reqs = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            reqs.append(Requirement(line))
    return reqs


def test_every_requirement_is_pinned_within_its_range():
    p = pins()
    for req in requirements():
        name = canonicalize_name(req.name)
        assert name in p, f"{req.name} has no exact version in constraints.txt"
        assert Version(p[name]) in req.specifier, f"constraints.txt pins {req.name}=={p[name]}, outside {req.specifier}"


def test_torch_is_the_cpu_wheel_on_disk():
    assert pins()["torch"] == "2.13.0", "torch must stay at 2.13.0: a looser pin pulls a multi-GB CUDA build"
    assert any(r.name == "jupyter-book" and not r.specifier.contains("2.0.0") for r in requirements())


@pytest.mark.skipif(not os.environ.get("VIRTUAL_ENV") and ".venv" not in sys.prefix,
                    reason="only meaningful inside the project's .venv built by make")
def test_installed_versions_are_the_pinned_ones():
    wrong = []
    for name, version in pins().items():
        try:
            got = metadata.version(name)
        except metadata.PackageNotFoundError:
            wrong.append(f"{name}: not installed (pinned {version})")
            continue
        if re.sub(r"\+.*$", "", got) != version:
            wrong.append(f"{name}: {got} installed, {version} pinned")
    assert not wrong, "the environment differs from constraints.txt:\n" + "\n".join(wrong)
