"""The naive pipeline, as the origin walkthrough's service scored images: decode the whole photo
with Pillow, torchvision transforms, PyTorch eager inference. Same weights as the ONNX model
(catmodel.modelbuild builds the torch module), same resize/crop/normalisation numbers.

Needs the model-building requirements (torch, torchvision); only the benchmark imports it.
"""
from __future__ import annotations

import io
import time

import torch
from PIL import Image
from torchvision import transforms

from catmodel.modelbuild.build import INPUT_SPEC
from catmodel.modelbuild.efficientnet_lite import load_pretrained


class NaivePipeline:
    def __init__(self):
        self.model = load_pretrained()
        # ToTensor scales pixels to 0-1, so the manifest's 0-255 mean and std are divided too.
        self.transform = transforms.Compose([
            transforms.Resize(INPUT_SPEC["resize"]),
            transforms.CenterCrop(INPUT_SPEC["size"]),
            transforms.ToTensor(),
            transforms.Normalize([m / 255 for m in INPUT_SPEC["mean"]],
                                 [s / 255 for s in INPUT_SPEC["std"]]),
        ])

    def classify(self, data: bytes) -> tuple[int, dict]:
        """(best ImageNet index, milliseconds of decode, preprocess, inference, total)."""
        start = time.perf_counter()
        image = Image.open(io.BytesIO(data)).convert("RGB")  # full size: every pixel decoded
        decoded = time.perf_counter()
        batch = self.transform(image).unsqueeze(0)
        preprocessed = time.perf_counter()
        with torch.no_grad():
            logits = self.model(batch)
        end = time.perf_counter()
        best = int(torch.softmax(logits, dim=1).argmax())
        return best, {
            "decode": (decoded - start) * 1000,
            "preprocess": (preprocessed - decoded) * 1000,
            "inference": (end - preprocessed) * 1000,
            "total": (end - start) * 1000,
        }
