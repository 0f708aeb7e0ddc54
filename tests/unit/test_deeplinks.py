from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.deeplinks import follow_payload, followed_tag_key
from bot.domain.tags import tag_key


def test_french_tags_stay_readable_and_accents_fold() -> None:
    assert follow_payload("#Dépression") == "follow_depression"
    assert follow_payload("santé_mentale") == "follow_sante_mentale"
    assert follow_payload("IA") == follow_payload("ia") == "follow_ia"


def test_other_scripts_are_base64_and_decode_back() -> None:
    payload = follow_payload("🧠cerveau")
    assert payload is not None and payload.startswith("follow-")
    assert followed_tag_key(payload) == "🧠cerveau"
    assert follow_payload("x" * 58) is None  # follow_ + 58 > 64: no button rather than a wrong tag


def test_other_payloads_are_not_follow_links() -> None:
    assert followed_tag_key("welcome") is None
    assert followed_tag_key("follow_Pas-Valide") is None


@given(st.text(min_size=1, max_size=40))
def test_payloads_are_valid_deep_links_that_round_trip(tag: str) -> None:
    payload = follow_payload(tag)
    if payload is None:
        return
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload)
    assert followed_tag_key(payload) == tag_key(tag)
