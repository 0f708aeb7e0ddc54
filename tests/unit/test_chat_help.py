"""The author part of /help is shown to authors only; admins also see theirs; callback data parses strictly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.chat import author_callbacks as callbacks
from bot.chat.access import help_section
from bot.services.access import Access
from bot.store.models import AuthorRole


def test_readers_see_no_author_commands() -> None:
    assert help_section(Access(7, None), "fr") is None


def test_authors_see_theirs_and_admins_also_the_admin_ones() -> None:
    author = help_section(Access(7, AuthorRole.AUTHOR), "fr")
    admin = help_section(Access(8, AuthorRole.ADMIN), "en")
    assert author is not None and "/new" in author and "/grant" not in author
    assert admin is not None and "/new" in admin and "/grant" in admin and admin.startswith("Author commands")


@pytest.mark.parametrize("verb", sorted(callbacks.VERBS))
def test_every_button_round_trips_within_telegram_s_64_bytes(verb: str) -> None:
    data = callbacks.data(verb, 2**53)
    assert len(data.encode()) <= 64 and callbacks.parse(data) == callbacks.Button(verb, 2**53)


@given(st.text(max_size=80))
def test_anything_else_parses_to_none_or_a_known_verb(text: str) -> None:
    parsed = callbacks.parse(text)
    assert parsed is None or (parsed.verb in callbacks.VERBS and parsed.post_id > 0 and callbacks.data(
        parsed.verb, parsed.post_id) == text)
