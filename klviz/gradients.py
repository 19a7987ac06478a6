r"""Gradients of the distillation losses with respect to the logits, for the figures and checks
of ``ch-kl-practice``, ``ch-dkl`` and ``ch-gkl``.

- :func:`kd_gradient` / :func:`kd_gradient_norms` -- the closed-form gradient of the
  distillation KL with respect to the student logits, with or without the :math:`T^2` factor
  (Hinton et al. 2015), and its size against the temperature.
- :func:`kl_gradient_components` -- both halves of the KL gradient, teacher side and student
  side, by autograd (Cui et al. 2023, Theorem 1).
- :func:`student_gradients` -- the student's gradient under KL, DKL, IKL and GKL with a
  detached teacher (Cui et al. 2023; 2025).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from klviz import _checks as checks
from klviz import info
from klviz.examples import (
    DKL_STUDENT_LOGITS,
    DKL_TEACHER_LOGITS,
    GKL_CLASS_MEAN,
    KD_STUDENT_LOGITS,
    TEN_CLASS_LOGITS,
)
from klviz.logits import logit_pair

__all__ = [
    "DEFAULT_KD_TEMPERATURES",
    "kd_gradient",
    "kd_gradient_norms",
    "kl_gradient_components",
    "student_gradients",
]

#: Temperatures of the gradient-size curves of ``ch-kl-practice`` (log-spaced, 0.5 to 100).
DEFAULT_KD_TEMPERATURES: np.ndarray = np.geomspace(0.5, 100.0, 60)


def kd_gradient(
    teacher_logits: Sequence[float] | np.ndarray,
    student_logits: Sequence[float] | np.ndarray,
    temperature: float,
    *,
    t_squared: bool = True,
) -> np.ndarray:
    r"""Gradient of the distillation KL with respect to the student logits :math:`z_s`.

    With :math:`p = \operatorname{softmax}(z_t/T)` and :math:`q = \operatorname{softmax}(z_s/T)`,

    .. math:: \nabla_{z_s} D_{\mathrm{KL}}(p\|q) = \frac{q - p}{T},
              \qquad \nabla_{z_s}\, T^2 D_{\mathrm{KL}}(p\|q) = T\,(q - p).

    ``t_squared=True`` gives the second (the KD loss of Hinton et al. 2015).  Logits may have a
    leading batch axis; the classes are the last axis.  Chapter ``ch-kl-practice``.
    """
    t = checks.temperature(temperature)
    zt = np.asarray(teacher_logits, dtype=float)
    zs = np.asarray(student_logits, dtype=float)
    if zt.shape != zs.shape:
        raise ValueError(f"teacher_logits and student_logits need the same shape; got {zt.shape} and {zs.shape}")
    diff = info.softmax(zs, temperature=t) - info.softmax(zt, temperature=t)
    return t * diff if t_squared else diff / t


def kd_gradient_norms(
    teacher_logits: Sequence[float] | np.ndarray = TEN_CLASS_LOGITS,
    student_logits: Sequence[float] | np.ndarray = KD_STUDENT_LOGITS,
    temperatures: Sequence[float] | np.ndarray = DEFAULT_KD_TEMPERATURES,
) -> dict[str, np.ndarray]:
    r"""Euclidean norms of :func:`kd_gradient` at each temperature, with and without :math:`T^2`.

    Returns ``{"T", "with_t2", "without_t2", "limit_with_t2", "limit_without_t2"}``; the limits
    are the high-temperature asymptotes :math:`\|\bar z_s - \bar z_t\|/C` and
    :math:`\|\bar z_s - \bar z_t\|/(C T^2)` with :math:`\bar z` the logits minus their mean
    (Hinton et al. 2015, section 2.1).  Chapter ``ch-kl-practice``.
    """
    zt, zs = logit_pair(teacher_logits, student_logits)
    ts = checks.vector(temperatures, "temperatures", positive=True, hint="softmax temperatures, e.g. 1 or 4")
    # softmax over the class axis of the (n_T, C) array of scaled logits
    diff = info.softmax(zs[None, :] / ts[:, None]) - info.softmax(zt[None, :] / ts[:, None])
    base = np.linalg.norm(diff, axis=-1)
    centred = (zs - zs.mean()) - (zt - zt.mean())
    lim = np.linalg.norm(centred) / zs.size
    return {
        "T": ts,
        "with_t2": ts * base,
        "without_t2": base / ts,
        "limit_with_t2": np.full_like(ts, lim),
        "limit_without_t2": lim / ts**2,
    }


def kl_gradient_components(
    teacher_logits: Sequence[float] | np.ndarray,
    student_logits: Sequence[float] | np.ndarray,
    *,
    temperature: float = 1.0,
    scale_by_t2: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Gradients of :math:`T^2\,D_{\mathrm{KL}}(s_m\|s_n)` with respect to both logit vectors.

    With :math:`s_m = \operatorname{softmax}(o_m/T)`, :math:`s_n = \operatorname{softmax}(o_n/T)`
    and :math:`d = (o_m - o_n)/T`,

    .. math::
        \frac{\partial\, T^2 D_{\mathrm{KL}}}{\partial o_m} = T\, s_m \odot (d - s_m^\top d),
        \qquad
        \frac{\partial\, T^2 D_{\mathrm{KL}}}{\partial o_n} = T\,(s_n - s_m).

    The first is what the wMSE term of DKL carries, the second what the soft-label
    cross-entropy carries (Cui et al., 2023, Theorem 1; chapter ``ch-dkl``).  Computed by
    torch autograd through :func:`klviz.info.kl_divergence_from_logits` in float64, so it is
    an independent check of the closed forms above.  ``scale_by_t2=False`` drops the
    :math:`T^2` of Hinton et al. (2015).  Returns ``(grad_teacher, grad_student)`` as numpy.
    """
    import torch  # noqa: PLC0415 - the numpy-only functions above do not need torch

    t = checks.temperature(temperature)
    o_m = torch.tensor(np.asarray(teacher_logits, dtype=float), dtype=torch.float64, requires_grad=True)
    o_n = torch.tensor(np.asarray(student_logits, dtype=float), dtype=torch.float64, requires_grad=True)
    if o_m.shape != o_n.shape:
        raise ValueError(
            f"teacher_logits and student_logits must have the same shape, got {tuple(o_m.shape)} "
            f"and {tuple(o_n.shape)}"
        )
    kl = info.kl_divergence_from_logits(o_m, o_n, temperature=t).sum()
    if scale_by_t2:
        kl = kl * t**2
    g_m, g_n = torch.autograd.grad(kl, (o_m, o_n))
    return g_m.numpy(), g_n.numpy()


def student_gradients(
    gamma: float = 1.0,
    *,
    temperature: float = 4.0,
    teacher_logits: Sequence[float] = DKL_TEACHER_LOGITS,
    student_logits: Sequence[float] = DKL_STUDENT_LOGITS,
    class_mean: Sequence[float] = GKL_CLASS_MEAN,
    target: int = 0,
) -> dict[str, np.ndarray]:
    r"""The student's gradient, per class, under KL, DKL, IKL and GKL with a detached teacher.

    Computed by autograd (float64) through :mod:`klviz.losses` in the book convention with
    :math:`\alpha = \beta = 1` (Cui et al. 2023, *Decoupled Kullback-Leibler Divergence Loss*;
    Cui et al. 2025, GKL):

    - ``"KL (= DKL)"``: :func:`klviz.losses.kd_loss`, i.e. :math:`T(s_n - s_m)`; DKL gives
      the same student gradient (its wMSE half is dead when the teacher is detached);
    - ``"IKL, sample weights"``: :func:`klviz.losses.gkl_loss` with ``gamma=1`` (asymmetry
      broken; the wMSE adds :math:`-T\,W w_i (d_i - \bar d)`, :math:`d = (o_m - o_n)/T`);
    - ``"GKL, sample weights"``: ``gamma=gamma``, weights :math:`s_m^\gamma`;
    - ``"GKL, class weights"``: ``gamma=gamma`` with the class-mean row ``class_mean`` of
      label ``target`` as the weights (before the power).

    Chapter ``ch-gkl``.
    """
    import torch  # noqa: PLC0415 - the numpy-only functions above do not need torch

    from klviz import losses  # noqa: PLC0415 - losses imports torch

    temperature = checks.temperature(temperature)
    zt, zs = logit_pair(teacher_logits, student_logits)
    t = torch.tensor(zt[None], dtype=torch.float64)
    C = t.shape[-1]
    cm = torch.tensor(checks.probability_vector(class_mean, "class_mean"), dtype=torch.float64)
    if cm.shape != (C,):
        raise ValueError(f"class_mean must have {C} entries (one per class), got {tuple(cm.shape)}")
    target = checks.integer(target, "target", low=0, high=C - 1, hint="a class index")
    table = torch.full((C, C), 1.0 / C, dtype=torch.float64)
    table[target] = cm
    y = torch.tensor([target])

    def grad(fn) -> np.ndarray:
        s = torch.tensor(zs[None], dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(fn(s), s)
        return g[0].numpy()

    kw = dict(temperature=temperature, alpha=1.0, beta=1.0)
    return {
        "KL (= DKL)": grad(lambda s: losses.kd_loss(s, t, temperature=temperature)),
        "IKL, sample weights": grad(lambda s: losses.gkl_loss(s, t, gamma=1.0, **kw)),
        "GKL, sample weights": grad(lambda s: losses.gkl_loss(s, t, gamma=gamma, **kw)),
        "GKL, class weights": grad(lambda s: losses.gkl_loss(s, t, y, gamma=gamma, class_stats=table, **kw)),
    }
