"""ImageNet-1k class names, read offline from torchvision's weights metadata (no download)."""
from __future__ import annotations

from .errors import ModelBuildError

NUM_IMAGENET_CLASSES = 1000
# Anchors that catch a reordered or different label list before it reaches a package.
KNOWN_LABELS = {0: "tench", 281: "tabby", 285: "Egyptian cat", 293: "cheetah", 967: "espresso"}


def imagenet_labels() -> list[str]:
    from torchvision.models import EfficientNet_B0_Weights

    labels = list(EfficientNet_B0_Weights.IMAGENET1K_V1.meta["categories"])
    if len(labels) != NUM_IMAGENET_CLASSES:
        raise ModelBuildError(f"expected {NUM_IMAGENET_CLASSES} ImageNet labels from torchvision, "
                              f"got {len(labels)}: check the torchvision version")
    for index, name in KNOWN_LABELS.items():
        if labels[index] != name:
            raise ModelBuildError(f"ImageNet label {index} is {labels[index]!r}, expected "
                                  f"{name!r}: check the torchvision version")
    return labels
