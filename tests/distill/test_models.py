"""klviz.distill.models: shapes, parameter counts, registry errors."""

from __future__ import annotations

import pytest
import torch

from klviz.distill.models import MODELS, build_model, num_parameters

SHAPES = {"linear": (1, 40), "mlp": (1, 40), "cnn1d": (1, 40), "cnn2d": (1, 8, 8)}


@pytest.mark.parametrize("name", list(MODELS))
def test_forward_shape(name):
    shape = SHAPES.get(name, (3, 32, 32))
    torch.manual_seed(0)
    m = build_model(name, input_shape=shape, num_classes=7).eval()
    out = m(torch.randn(2, *shape))
    assert out.shape == (2, 7) and torch.isfinite(out).all()


def test_resnet_sizes_match_the_crd_code_base():
    # CRD (Tian et al. 2020), Table 1 of DKD: resnet32x4 7.43 M, resnet8x4 1.23 M parameters
    assert round(num_parameters(build_model("resnet32x4", input_shape=(3, 32, 32), num_classes=100)) / 1e6, 2) == 7.43
    assert round(num_parameters(build_model("resnet8x4", input_shape=(3, 32, 32), num_classes=100)) / 1e6, 2) == 1.23


def test_small_models_have_no_batchnorm_or_dropout():
    # so train() and eval() agree and DDP equals one process exactly in distribution
    for name, shape in SHAPES.items():
        m = build_model(name, input_shape=shape, num_classes=10)
        assert not any(isinstance(x, (torch.nn.modules.batchnorm._BatchNorm, torch.nn.Dropout)) for x in m.modules())


def test_mlp_width_option_and_errors():
    m = build_model("mlp", input_shape=(1, 40), num_classes=10, hidden=16)
    assert num_parameters(m) == 40 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10
    with pytest.raises(ValueError, match="unknown model 'vgg'.*resnet8x4"):
        build_model("vgg", input_shape=(1, 40), num_classes=10)
    with pytest.raises(ValueError, match="cnn1d needs inputs"):
        build_model("cnn1d", input_shape=(1, 8, 8), num_classes=10)
