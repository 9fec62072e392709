"""The model card (/model/) shows the share of the served version's answers that visitors
confirmed, with its count, once it has 30 verdicts ({% live_accuracy %}, live_accuracy.py)."""
from __future__ import annotations

import re

import pytest

from feedback.live_accuracy import CARD_MIN_VERDICTS

pytestmark = pytest.mark.django_db


def card_line(client) -> str:
    response = client.get("/model/")
    assert response.status_code == 200
    found = re.search(r'<p id="live-accuracy">(.*?)</p>', response.content.decode(), re.S)
    assert found, "the card has no live-accuracy line"
    return " ".join(found.group(1).split())


def test_the_confirmed_share_appears_at_thirty_verdicts(client, installed_model, history):
    served = {"model": installed_model.name, "version": installed_model.version}
    assert CARD_MIN_VERDICTS == 30
    # The history's verdicts on catnet count for catnet's card, not this one.
    assert card_line(client) == ("0 verdicts from visitors so far on this version's answers: "
                                 "the share they confirm is shown from 30 on.")
    history.answer("lion", **served, verdict={"correct": False, "species": "tiger"})
    for _ in range(27):
        history.answer("lion", **served, verdict={"correct": True})
    history.answer("lion", **served)  # an answer without a verdict
    history.answer(None, **served, verdict={"correct": True})
    line = card_line(client)
    assert line.startswith("29 verdicts from visitors so far") and "confirmed" not in line

    history.answer("tiger", **served, verdict={"correct": True})
    # 29 of 30 right: 96.7 %, Wilson 95 % interval 83.3 % to 99.4 %.
    assert card_line(client) == (
        "Visitors confirmed <strong>96.7%</strong> of the answers they gave a verdict on: 29 of "
        "30 verdicts (95&nbsp;% interval 83.3% to 99.4%).")
