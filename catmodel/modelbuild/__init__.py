"""Building the model package (model.onnx + manifest.json) from pretrained PyTorch weights.

Needs the model-building requirements (the build role: torch, torchvision, onnx); the
web site never imports this package. See ``docs/model-package.md`` for what a package holds.
"""
