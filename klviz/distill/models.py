"""Models for the distillation trainer, built by name from :data:`MODELS`.

- ``linear``: multinomial logistic regression (the MNIST-1D baseline).
- ``mlp``: two hidden ReLU layers (the MNIST-1D student).
- ``cnn1d``: the three-layer 1-D CNN of the MNIST-1D paper {cite}`greydanus2024scaling` (teacher).
- ``cnn2d``: a small 2-D CNN for the 8x8 digits.
- ``resnet8``/``resnet20``/``resnet32``/``resnet56``/``resnet110`` and ``resnet8x4``/``resnet32x4``:
  the CIFAR ResNets {cite}`he2016deep` of the CRD code base {cite}`tian2020contrastive` that
  DKD {cite}`zhao2022decoupled` and DKL/IKL {cite}`cui2023decoupled` report on: depth ``6n + 2``,
  BasicBlocks, widths 16/16/32/64 or, for the ``x4`` variants, 32/64/128/256.

None of the small models uses BatchNorm or dropout, so they behave the same in ``train()`` and
``eval()`` mode and give the same result under DDP as in one process.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

__all__ = ["MODELS", "build_model", "num_parameters"]


class MLP(nn.Module):
    """``Linear -> ReLU -> Linear -> ReLU -> Linear`` on the flattened input."""

    def __init__(self, input_shape: tuple[int, ...], num_classes: int, hidden: int = 100) -> None:
        super().__init__()
        d = math.prod(input_shape)
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(d, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Linear(nn.Module):
    """Logistic regression: one affine map of the flattened input."""

    def __init__(self, input_shape: tuple[int, ...], num_classes: int, **_: object) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class CNN1d(nn.Module):
    """Three strided 1-D convolutions (kernel 5, 3, 3; stride 2) and a linear read-out."""

    def __init__(self, input_shape: tuple[int, ...], num_classes: int, channels: int = 25, **_: object) -> None:
        super().__init__()
        if len(input_shape) != 2:
            raise ValueError(f"cnn1d needs inputs of shape (channels, length), got {input_shape}; use mlp instead")
        c_in, length = input_shape
        self.features = nn.Sequential(
            nn.Conv1d(c_in, channels, 5, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv1d(channels, channels, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv1d(channels, channels, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
        )
        with torch.no_grad():
            n = self.features(torch.zeros(1, c_in, length)).shape[1]
        self.head = nn.Linear(n, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class CNN2d(nn.Module):
    """Two 3x3 convolutions, a 2x2 max-pool and a linear read-out (for 8x8 digits)."""

    def __init__(self, input_shape: tuple[int, ...], num_classes: int, channels: int = 32, **_: object) -> None:
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(f"cnn2d needs inputs of shape (channels, height, width), got {input_shape}")
        c_in, h, w = input_shape
        self.features = nn.Sequential(
            nn.Conv2d(c_in, channels, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels, 2 * channels, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.head = nn.Linear(2 * channels * (h // 2) * (w // 2), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity (or 1x1 conv-BN) shortcut."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class CifarResNet(nn.Module):
    """CIFAR ResNet of depth ``6n + 2``: stem, three stages of ``n`` BasicBlocks, global pooling."""

    def __init__(self, depth: int, widths: tuple[int, int, int, int], input_shape: tuple[int, ...], num_classes: int) -> None:
        super().__init__()
        if (depth - 2) % 6:
            raise ValueError(f"depth={depth}: a CIFAR ResNet with BasicBlocks has depth 6n + 2")
        n = (depth - 2) // 6
        c_in = input_shape[0]
        self.conv1 = nn.Conv2d(c_in, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        layers, inplanes = [], widths[0]
        for i, planes in enumerate(widths[1:]):
            for j in range(n):
                layers.append(BasicBlock(inplanes, planes, stride=2 if (i > 0 and j == 0) else 1))
                inplanes = planes
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inplanes, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layers(self.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


def _resnet(depth: int, widths: tuple[int, int, int, int]) -> Callable[..., nn.Module]:
    def build(input_shape: tuple[int, ...], num_classes: int, **_: object) -> nn.Module:
        return CifarResNet(depth, widths, input_shape, num_classes)

    build.__doc__ = f"CIFAR ResNet-{depth}, widths {widths}."
    return build


#: name -> constructor(input_shape, num_classes, **options)
MODELS: dict[str, Callable[..., nn.Module]] = {
    "linear": Linear,
    "mlp": MLP,
    "cnn1d": CNN1d,
    "cnn2d": CNN2d,
    **{f"resnet{d}": _resnet(d, (16, 16, 32, 64)) for d in (8, 20, 32, 56, 110)},
    "resnet8x4": _resnet(8, (32, 64, 128, 256)),
    "resnet32x4": _resnet(32, (32, 64, 128, 256)),
}


def build_model(name: str, *, input_shape: tuple[int, ...], num_classes: int, **options: object) -> nn.Module:
    """Build model ``name`` for inputs of ``input_shape`` (without the batch axis) and ``num_classes``.

    ``options`` go to the constructor (``hidden=`` for ``mlp``, ``channels=`` for the CNNs).
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    return MODELS[name](tuple(input_shape), int(num_classes), **options)


def num_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
