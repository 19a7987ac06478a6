"""The registry of distillation losses: each loss with its metadata, filled where it is defined.

A loss module decorates its public function::

    @register("dkd", target="required", hypers=(hyper("alpha", 1.0), ...),
              summary="...", convention={"t2": ..., "detached": ..., "matches": ...})
    def dkd_loss(student_logits, teacher_logits, target, *, alpha=1.0, ...): ...

and the trainer's CLI, the benchmarks, the tests and the docs read :data:`REGISTRY`: which
losses take a ground-truth ``target`` (:attr:`LossSpec.target`), their hyper-parameters with
defaults and help (:attr:`LossSpec.hypers`, :func:`all_hypers`) and the conventions table
(:func:`conventions_table`). A hyper-parameter name means one thing across losses: its type,
help and choices are written once, in :data:`HYPER_HELP`, and :func:`hyper` looks them up.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from torch import Tensor

from klviz import _checks

__all__ = [
    "Hyper", "LossSpec", "HYPER_HELP", "TARGET_KINDS", "CONVENTION_COLUMNS", "REGISTRY", "LOSSES",
    "hyper", "register", "get_spec", "get_loss", "loss_names", "all_hypers", "conventions_table",
]

TARGET_KINDS: tuple[str, ...] = ("required", "optional", "none")

#: the columns of the conventions table: key -> header
CONVENTION_COLUMNS: dict[str, str] = {
    "t2": "T² factor",
    "detached": "detached inside the loss",
    "matches": "matches",
}


@dataclass(frozen=True)
class Hyper:
    """One hyper-parameter of a loss: its keyword, the loss's default, the type a CLI parses."""

    name: str  #: keyword name in the loss function, e.g. "temperature"
    default: Any  #: the loss function's own default (None in :func:`all_hypers`)
    type: type  #: float, int or str (what the CLI parses)
    help: str  #: one line for --help and the docs
    choices: tuple | None = None  #: e.g. ("book", "official") for convention


#: name -> (type, help, choices): each hyper-parameter name is documented once
HYPER_HELP: dict[str, tuple[type, str, tuple | None]] = {
    "temperature": (float, "softmax temperature T > 0", None),
    "alpha": (float, "weight of the first term: TCKD (dkd), the wMSE (dkl/ikl/gkl; the cross-entropy "
                     "under convention='official')", None),
    "beta": (float, "weight of the second term: NCKD (dkd), the soft-label cross-entropy (dkl/ikl/gkl; "
                    "the wMSE under convention='official'); the teacher's share of the mixture, in [0, 1] (js)",
             None),
    "gamma": (float, "exponent > 0 of the wMSE weights (GKL's smoother weights; 1 = IKL)", None),
    "weight_temperature": (float, "temperature > 0 of the wMSE weights (default: temperature)", None),
    "skew": (float, "mixing weight alpha in [0, 1) of the skewed divergences (skl, srkl; DistiLLM)", None),
    "convention": (str, "'book' (the paper's formula) or 'official' (the published code's, "
                        "alpha/beta swapped)", ("book", "official")),
}


def hyper(name: str, default: Any) -> Hyper:
    """The :class:`Hyper` called ``name`` with a loss's own ``default`` (type/help from :data:`HYPER_HELP`)."""
    try:
        typ, text, choices = HYPER_HELP[name]
    except KeyError:
        raise ValueError(f"no help for hyper-parameter {name!r}: add it to HYPER_HELP in "
                         "klviz/losses/registry.py") from None
    return Hyper(name, default, typ, text, choices)


@dataclass(frozen=True)
class LossSpec:
    """A registered loss and its metadata."""

    name: str  #: "kd", "dkd", "dkl", "ikl", "gkl", "js", ...
    fn: Callable[..., Tensor]  #: (student_logits, teacher_logits, [target], *, **hypers, mask=, reduction=, ...)
    target: str  #: "required" | "optional" | "none": does fn take the ground-truth ``target``?
    hypers: tuple[Hyper, ...]  #: the hyper-parameters with the loss's defaults and help
    summary: str  #: one line: what the loss is (paper)
    convention: dict[str, str]  #: its row of the conventions table (keys of CONVENTION_COLUMNS)
    #: fn takes ``fused=``: True (default) is a hand-written value-and-gradient kernel,
    #: False its autograd form (double backward); an addition to the agreed API
    fused: bool = False

    @property
    def needs_target(self) -> bool:
        return self.target == "required"

    @property
    def accepts_target(self) -> bool:
        return self.target != "none"

    def hyper_names(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.hypers)


REGISTRY: dict[str, LossSpec] = {}
_FNS: dict[str, Callable[..., Tensor]] = {}
#: name -> loss function, a read-only view kept in step with :data:`REGISTRY`
LOSSES: Mapping[str, Callable[..., Tensor]] = MappingProxyType(_FNS)


def register(name: str, *, target: str, hypers: tuple[Hyper, ...], summary: str,
             convention: dict[str, str], fused: bool = False
             ) -> Callable[[Callable[..., Tensor]], Callable[..., Tensor]]:
    """Decorator: register the decorated loss function under ``name`` (returned unchanged).

    Checks, once at import, that the metadata agrees with the function: every hyper-parameter
    is a keyword of ``fn`` with that default, a loss that takes a target has a ``target``
    parameter (without default if required), ``fused`` says whether it takes ``fused=``, and
    the convention row has every column.
    """
    _checks.choice(target, "target", TARGET_KINDS)

    def deco(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
        if name in REGISTRY:
            raise ValueError(f"loss {name!r} is registered twice")
        params = inspect.signature(fn).parameters
        for h in hypers:
            if h.name not in params or params[h.name].default != h.default:
                raise ValueError(f"{fn.__name__}: hyper-parameter {h.name}={h.default!r} does not match "
                                 "the function's keyword and default")
        has = "target" in params
        if has != (target != "none") or (has and (params["target"].default is inspect.Parameter.empty)
                                         != (target == "required")):
            raise ValueError(f"{fn.__name__}: target={target!r} does not match its signature")
        if ("fused" in params) != fused:
            raise ValueError(f"{fn.__name__}: fused={fused} does not match its signature")
        if set(convention) != set(CONVENTION_COLUMNS):
            raise ValueError(f"{fn.__name__}: convention needs the keys {sorted(CONVENTION_COLUMNS)}")
        REGISTRY[name] = LossSpec(name, fn, target, tuple(hypers), summary, dict(convention), fused)
        _FNS[name] = fn
        return fn

    return deco


def loss_names() -> list[str]:
    """The names accepted by :func:`get_loss`, in registration order."""
    return list(REGISTRY)


def get_spec(name: str) -> LossSpec:
    """The :class:`LossSpec` of ``name``; an unknown name raises ``ValueError`` listing the valid ones."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(loss_names())}") from None


def get_loss(name: str) -> Callable[..., Tensor]:
    """The loss function called ``name`` (``get_spec(name).fn``)."""
    return get_spec(name).fn


def all_hypers() -> dict[str, Hyper]:
    """Every hyper-parameter name used by a registered loss, with its type, help and choices.

    ``default`` is None: each loss applies its own default (see :attr:`LossSpec.hypers`), so a
    CLI flag left unset means "the loss's default".
    """
    out: dict[str, Hyper] = {}
    for spec in REGISTRY.values():
        for h in spec.hypers:
            out.setdefault(h.name, Hyper(h.name, None, h.type, h.help, h.choices))
    return out


def conventions_table(fmt: str = "markdown") -> str:
    """The conventions table (one row per registered loss), as ``"markdown"`` or ``"rst"``.

    ``o = logits / T``, ``p = softmax(teacher/T)``, ``q = softmax(student/T)``.
    """
    _checks.choice(fmt, "fmt", ("markdown", "rst"))
    head = ["loss"] + list(CONVENTION_COLUMNS.values())
    # the rows are written with markdown's `code`; reST spells it ``code``
    body = [[f"`{s.fn.__name__}`"] + [s.convention[k] for k in CONVENTION_COLUMNS] for s in REGISTRY.values()]
    if fmt == "rst":
        body = [[c.replace("`", "``") for c in row] for row in body]
    if fmt == "markdown":
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in body])
    widths = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]
    rule = "  ".join("=" * w for w in widths)

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()

    return "\n".join([rule, line(head), rule] + [line(r) for r in body] + [rule])
