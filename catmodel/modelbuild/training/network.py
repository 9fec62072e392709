"""The trained network: EfficientNet-Lite0 with ImageNet's classifier kept and a new head beside it.

    logits = concat(ImageNet's 1000 logits, new head's logits)   # labels: ImageNet's, then
                                                                  # species:<slug> per label

Both read the same pooled features, and one softmax runs over all of them, so:
- a photo of a taught breed puts its mass on ``species:<slug>`` (the new head learns to outbid
  ImageNet's own cat classes for it),
- a photo that is not a cat keeps its mass on ImageNet's other classes: the site still says
  "not a cat" and "it looks like an espresso" (the ImageNet classifier is never trained).

The network is split into a frozen part (the stem and the first blocks: computed once per
augmented photo, by ONNX Runtime, see features.py) and a trainable part (the last
``fine_tune_blocks`` blocks and the head convolution when asked, always the new head).
"""
from __future__ import annotations

import torch
from torch import nn

from ..efficientnet_lite import HEAD_CHANNELS, EfficientNetLite0


class TransferNet(nn.Module):
    def __init__(self, backbone: EfficientNetLite0, new_labels: int, fine_tune_blocks: int = 0):
        super().__init__()
        blocks = len(backbone._blocks)
        if not 0 <= fine_tune_blocks <= blocks:
            raise ValueError(f"fine_tune_blocks must be 0..{blocks}, got {fine_tune_blocks}")
        self.backbone = backbone
        self.fine_tune_blocks = fine_tune_blocks
        self.split = blocks - fine_tune_blocks
        self.new_head = nn.Linear(HEAD_CHANNELS, new_labels)
        for parameter in backbone.parameters():
            parameter.requires_grad_(False)
        for parameter in self.trainable_backbone_parameters():
            parameter.requires_grad_(True)
        # Batch norm keeps ImageNet's statistics: a few dozen photos cannot estimate better ones.
        self.eval()

    def trainable_backbone_parameters(self) -> list[nn.Parameter]:
        if not self.fine_tune_blocks:
            return []
        modules = [*self.backbone._blocks[self.split:], self.backbone._conv_head,
                   self.backbone._bn1]
        return [p for module in modules for p in module.parameters()]

    def frozen(self, x: torch.Tensor) -> torch.Tensor:
        """Image -> what the trainable part reads (pooled features when nothing is fine-tuned)."""
        x = self.backbone.blocks(self.backbone.stem(x), 0, self.split)
        return x if self.fine_tune_blocks else self.backbone.pool(self.backbone.head(x))

    def trainable(self, x: torch.Tensor) -> torch.Tensor:
        """The frozen part's output -> logits."""
        if self.fine_tune_blocks:
            x = self.backbone.pool(self.backbone.head(self.backbone.blocks(x, self.split)))
        return torch.cat([self.backbone._fc(x), self.new_head(x)], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.trainable(self.frozen(x))


class FrozenPart(nn.Module):
    """The frozen part alone, for export to ONNX Runtime."""

    def __init__(self, net: TransferNet):
        super().__init__()
        self.net = net
        # In eval mode like the net: the exporter puts a module back into the mode it found
        # it in, recursively, and a training-mode wrapper would switch the net's batch norm to
        # batch statistics.
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.frozen(x)


def allowed_set_loss(logits: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    """Mean of -log(sum of the probabilities of each photo's allowed labels).

    ``allowed`` is a (N, labels) bool mask. A taught species allows its ``species:<slug>``
    label (and ImageNet labels the encyclopedia says name that same entry); ``not-a-cat``
    allows every ImageNet label that is not a cat, so it teaches the new head to stay low on
    such photos without forcing any one ImageNet answer."""
    kept = logits.masked_fill(~allowed, float("-inf"))
    return (torch.logsumexp(logits, dim=1) - torch.logsumexp(kept, dim=1)).mean()
