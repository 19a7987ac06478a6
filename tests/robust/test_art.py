"""Cross-check against an independent library: the Adversarial Robustness Toolbox's PGD."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from klviz.robust import Attack, perturb

art = pytest.importorskip("art")


@pytest.mark.parametrize("norm,eps,eta", [("linf", 0.1, 0.02), ("l2", 0.5, 0.1)])
def test_pgd_robust_accuracy_agrees_with_art(trained, digits, norm, eps, eta):
    from art.attacks.evasion import ProjectedGradientDescent
    from art.estimators.classification import PyTorchClassifier

    x, y = digits[2], digits[3]
    clf = PyTorchClassifier(model=trained, loss=torch.nn.CrossEntropyLoss(), input_shape=(1, 8, 8), nb_classes=10,
                            clip_values=(0.0, 1.0), device_type="cpu")
    atk = ProjectedGradientDescent(clf, norm=np.inf if norm == "linf" else 2, eps=eps, eps_step=eta, max_iter=20,
                                   num_random_init=0, batch_size=512, verbose=False)
    xa_art = torch.from_numpy(atk.generate(x=x.numpy(), y=y.numpy()))
    with torch.no_grad():
        art_acc = float((trained(xa_art).argmax(1) == y).float().mean())
    _, m = perturb(trained, x, y, Attack(eps, norm, steps=20, step_size=eta, random_start=False, early_stop=False))
    ours = float((m < 0).float().mean())
    # ours keeps each example's best iterate, ART returns the last: ours can only be lower
    assert ours <= art_acc + 1e-12
    assert art_acc - ours <= 0.02, (ours, art_acc)
    assert 0.05 < ours < 0.95  # a radius where the comparison says something
