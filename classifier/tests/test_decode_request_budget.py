"""decode_memory.DecodeBudget: decodes that count together (the photos of one request to the
model service) share one budget, charged before any pixel is decoded."""
from __future__ import annotations

import pytest

from catmodel.inference import DecodeBudget, DecodeBudgetSpent, TooManyPixels, decode_image
from testsupport import images


def test_the_decodes_are_charged_until_the_budget_is_spent():
    photo = images.encode(images.coffee(), "PNG")  # 600 x 400 RGB, 4 bytes a pixel: 960,000 bytes
    budget = DecodeBudget(limit_bytes=2 * 960_000)
    decode_image(photo, budget=budget)
    decode_image(photo, budget=budget)
    assert budget.spent == 2 * 960_000
    with pytest.raises(DecodeBudgetSpent) as spent:
        decode_image(photo, budget=budget)
    assert isinstance(spent.value, TooManyPixels)  # the same code and status for clients
    assert spent.value.code == "too_many_pixels" and spent.value.status == 413
    assert "together" in spent.value.message and "fewer photos" in spent.value.message
    assert budget.spent == 2 * 960_000  # the refused decode costs nothing


def test_without_a_budget_nothing_is_charged():
    photo = images.encode(images.coffee(), "PNG")
    for _ in range(3):
        decode_image(photo)
