"""The trained network's pieces: ImageNet's logits kept, the split into frozen and trainable
parts, and the loss over a set of allowed labels."""
from __future__ import annotations

import math

import pytest
import torch

from catmodel.modelbuild.build import INPUT_SPEC
from catmodel.modelbuild.efficientnet_lite import load_pretrained
from catmodel.modelbuild.training.network import TransferNet, allowed_set_loss
from catmodel.modelbuild.verification import random_images


@pytest.fixture(scope="module")
def backbone():
    return load_pretrained()


@pytest.mark.parametrize("fine_tune_blocks", [0, 2])
def test_imagenet_logits_come_first_and_unchanged(backbone, fine_tune_blocks):
    torch.manual_seed(0)
    net = TransferNet(backbone, new_labels=3, fine_tune_blocks=fine_tune_blocks)
    batch = torch.from_numpy(random_images(1, INPUT_SPEC))
    with torch.inference_mode():
        logits = net(batch)
        assert logits.shape == (1, 1003)
        assert torch.equal(logits, net.trainable(net.frozen(batch)))
        assert torch.allclose(logits[:, :1000], backbone(batch), atol=1e-5)
    trainable = {name for name, p in net.named_parameters() if p.requires_grad}
    assert {"new_head.weight", "new_head.bias"} <= trainable
    assert not any(name.startswith("backbone._fc") for name in trainable)
    blocks = {name.split(".")[2] for name in trainable if name.startswith("backbone._blocks")}
    assert blocks == ({"14", "15"} if fine_tune_blocks else set())
    assert not net.training


def test_allowed_set_loss_by_hand():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.2]]))
    allowed = torch.tensor([[False, True, True]])
    assert allowed_set_loss(logits, allowed).item() == pytest.approx(-math.log(0.5))
    assert allowed_set_loss(logits, torch.tensor([[True, False, False]])).item() == \
        pytest.approx(-math.log(0.5))
