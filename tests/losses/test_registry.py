"""The registry (klviz.losses.registry): names, metadata, conventions table."""

from __future__ import annotations

import inspect

import pytest
import torch

from klviz import losses
from klviz.losses import (
    LOSSES,
    REGISTRY,
    Hyper,
    all_hypers,
    conventions_table,
    get_loss,
    get_spec,
    gkl_loss,
    kd_loss,
    loss_names,
)
from klviz.losses.registry import CONVENTION_COLUMNS, hyper, register

pytestmark = pytest.mark.usefixtures("torch_seed")


def test_registry():
    assert loss_names() == ["kd", "dkd", "dkl", "ikl", "gkl", "js", "skl", "srkl"]
    assert get_loss("gkl") is gkl_loss and LOSSES["kd"] is kd_loss
    assert list(LOSSES) == loss_names() and all(LOSSES[n] is REGISTRY[n].fn for n in REGISTRY)
    with pytest.raises(ValueError, match="unknown loss 'kl'; choose one of kd, dkd, dkl, ikl, gkl, js"):
        get_spec("kl")
    with pytest.raises(TypeError):
        LOSSES["new"] = kd_loss  # read-only: register a loss with @register


def test_target_kinds_match_the_signatures_and_the_behaviour():
    # the metadata the trainer and the CLI read: dkd needs the labels, ikl/gkl take them
    # (for class_stats), the others take none
    kinds = {name: spec.target for name, spec in REGISTRY.items()}
    assert kinds == {"kd": "none", "dkd": "required", "dkl": "none", "ikl": "optional", "gkl": "optional",
                     "js": "none", "skl": "none", "srkl": "none"}
    s, t, y = torch.randn(3, 5), torch.randn(3, 5), torch.tensor([0, 2, 4])
    for name, spec in REGISTRY.items():
        params = inspect.signature(spec.fn).parameters
        assert ("target" in params) == spec.accepts_target
        assert spec.needs_target == (spec.target == "required")
        out = spec.fn(s, t, target=y) if spec.accepts_target else spec.fn(s, t)
        assert torch.isfinite(out)
        if spec.needs_target:
            with pytest.raises(TypeError):
                spec.fn(s, t)  # the target is a required argument
    assert not hasattr(losses, "NEEDS_TARGET")


def test_hypers_are_the_functions_keywords_and_defaults():
    for spec in REGISTRY.values():
        params = inspect.signature(spec.fn).parameters
        assert spec.hyper_names() == tuple(h.name for h in spec.hypers)
        for h in spec.hypers:
            assert params[h.name].kind is inspect.Parameter.KEYWORD_ONLY
            assert params[h.name].default == h.default, (spec.name, h.name)
            assert h.type in (float, int, str) and h.help
            if h.choices is not None:
                assert h.default in h.choices
        # every numeric keyword that is not plumbing is registered as a hyper-parameter
        plumbing = {"student_logits", "teacher_logits", "target", "reduction", "mask", "chunk_size", "fused",
                    "class_stats"}
        assert set(params) - plumbing == set(spec.hyper_names()), spec.name
    merged = all_hypers()
    assert {"temperature", "alpha", "beta", "gamma", "weight_temperature", "convention", "skew"} == set(merged)
    assert all(h.default is None for h in merged.values())
    assert merged["convention"].choices == ("book", "official") and merged["gamma"].type is float
    assert get_spec("kd").hypers == (Hyper("temperature", 4.0, float, merged["temperature"].help),)


def test_register_rejects_metadata_that_disagrees_with_the_function():
    row = dict.fromkeys(CONVENTION_COLUMNS, "x")

    def fn(student_logits, teacher_logits, *, temperature: float = 2.0):
        return student_logits.sum()

    with pytest.raises(ValueError, match="temperature=1.0 does not match"):
        register("bad1", target="none", hypers=(hyper("temperature", 1.0),), summary="", convention=row)(fn)
    with pytest.raises(ValueError, match="target='required' does not match"):
        register("bad2", target="required", hypers=(), summary="", convention=row)(fn)
    with pytest.raises(ValueError, match="registered twice"):
        register("kd", target="none", hypers=(), summary="", convention=row)(fn)
    with pytest.raises(ValueError, match="target must be one of"):
        register("bad3", target="maybe", hypers=(), summary="", convention=row)
    with pytest.raises(ValueError, match="HYPER_HELP"):
        hyper("lambda_", 1.0)
    assert "bad1" not in REGISTRY and "bad2" not in REGISTRY


def test_conventions_table_has_one_row_per_loss():
    md = conventions_table()
    rows = md.splitlines()
    assert rows[0] == "| loss | " + " | ".join(CONVENTION_COLUMNS.values()) + " |"
    assert len(rows) == 2 + len(REGISTRY)
    for spec, row in zip(REGISTRY.values(), rows[2:]):
        assert row.startswith(f"| `{spec.fn.__name__}` |") and spec.convention["matches"] in row
    rst = conventions_table("rst")
    assert "``gkl_loss``" in rst and "``GKL_KD.py``" in rst
    assert rst in losses.__doc__  # the package docstring carries the table
    with pytest.raises(ValueError, match="fmt"):
        conventions_table("html")
