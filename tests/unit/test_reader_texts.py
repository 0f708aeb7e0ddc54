"""Reader answers and notification renders: French first, English for English readers, plurals, limits."""

from __future__ import annotations

import pytest

from bot import tdlib
from bot.chat import reader_texts
from bot.chat.callbacks import Action, parse
from bot.format.model import Article, Profile
from bot.format.notification import DigestEntry, FollowedTag, digest_render, notification_render
from bot.services.readers import DeepLinkFollow, Erased, Outcome, Reader, TagCount, TagPage, TagRef, TagResult
from bot.store.models import NotificationMode

SANTE = TagRef(7, "Santé mentale")
IA = TagRef(3, "IA")
ARTICLE = Article(title="#Therabot : un #chatbot #IA qui améliore la #dépression, l’#anxiété…",
                  body_html="<p>Une étude publiée dans <i>NEJM AI</i> 🩺 montre des « résultats » encourageants.</p>",
                  url="https://esante.example/therabot", tags=("Therabot", "chatbot", "IA", "dépression", "anxiété"))


def test_follow_reply_groups_outcomes_and_offers_suggestions_as_buttons() -> None:
    results = [TagResult("anxiete", Outcome.FOLLOWED, SANTE), TagResult("ia", Outcome.ALREADY, IA),
               TagResult("#sante-mental", Outcome.UNKNOWN, suggestions=(SANTE,))]
    reply = reader_texts.follow_reply(results, "fr")
    assert reply.text.splitlines() == [
        "Vous suivez désormais #SantéMentale. Leurs prochains articles arriveront ici.",
        "Vous suiviez déjà #IA.",
        "Je ne connais pas de sujet «\u00a0#sante-mental\u00a0». Vouliez-vous dire #SantéMentale\u00a0?",
    ]
    (row,) = reply.buttons
    assert [(b.label, parse(b.callback_data)) for b in row] == [("Suivre #SantéMentale", parse("f:7"))]
    english = reader_texts.follow_reply(results, "en")
    assert english.text.startswith("You now follow #SantéMentale.")


def test_deep_link_reply_has_an_undo_button_unless_already_followed() -> None:
    reply = reader_texts.deep_link_reply(DeepLinkFollow(SANTE, already=False), "fr")
    assert reply.text.startswith("Vous suivez désormais #SantéMentale")
    assert [(b.label, b.callback_data) for b in reply.buttons[0]] == [("Annuler", "uf:7")]
    assert reader_texts.deep_link_reply(DeepLinkFollow(SANTE, already=True), "en").buttons == ()


@pytest.mark.parametrize(("n", "language", "expected"), [
    (1, "fr", "Vous suivez 1 sujet\u00a0:"), (2, "fr", "Vous suivez 2 sujets\u00a0:"),
    (1, "en", "You follow 1 topic:"), (2, "en", "You follow 2 topics:"),
])
def test_following_reply_counts_in_each_language(n: int, language: str, expected: str) -> None:
    reply = reader_texts.following_reply([SANTE, IA][:n], language)
    assert reply.text.splitlines()[0] == expected
    assert all(parse(row[0].callback_data).action is Action.UNFOLLOW for row in reply.buttons)  # type: ignore[union-attr]


def test_tags_reply_toggles_and_pages() -> None:
    page = TagPage((TagCount(SANTE, 1, followed=True), TagCount(IA, 12, followed=False)), offset=10, limit=2,
                   has_more=True)
    reply = reader_texts.tags_reply(page, "fr")
    assert reply.text.splitlines()[1:] == ["#SantéMentale — 1 article", "#IA — 12 articles"]
    toggles, paging = reply.buttons[:2], reply.buttons[2]
    assert [parse(r[0].callback_data) for r in toggles] == [parse("uf:7"), parse("f:3")]
    assert [(b.label, b.callback_data) for b in paging] == [("‹ Précédents", "tp:8"), ("Suivants ›", "tp:12")]


def test_settings_and_stop_replies() -> None:
    reader = Reader(1, 3003, "en", NotificationMode.DIGEST, 7, paused=False, active=True)
    assert reader_texts.settings_reply(reader, "en").text == "Notifications: one digest a day, at 7:00\nLanguage: English"
    confirm = reader_texts.stop_confirmation(3003, "fr")
    assert confirm.buttons[0][0].callback_data == "stop:3003"
    assert reader_texts.stop_reply(Erased(3, 1, True), "fr").text.startswith("C’est fait\u00a0: 3 abonnements")
    assert reader_texts.stop_reply(Erased(1, 0, True), "en").text.startswith("Done: 1 follow and")


def test_notification_render_passes_tdlib_with_unfollow_buttons_in_the_readers_language() -> None:
    note = notification_render(ARTICLE, "fr", Profile(), [FollowedTag(3, "IA"), FollowedTag(9, "anxiété")])
    plain, _ = tdlib.parse_html(note.render.text)
    assert "Therabot" in plain and note.render.follow_tags == ()
    assert [b.label for b in note.buttons] == ["Ne plus suivre #IA", "Ne plus suivre #anxiété"]
    assert [b.callback_data for b in note.buttons] == ["uf:3", "uf:9"]


@pytest.mark.parametrize(("n", "language", "heading"), [
    (1, "fr", "1 nouvel article pour vous"), (3, "fr", "3 nouveaux articles pour vous"),
    (1, "en", "1 new article for you"), (3, "en", "3 new articles for you"),
])
def test_digest_heading_plurals(n: int, language: str, heading: str) -> None:
    entries = [DigestEntry(f"L’#IA & la « santé » n°{i}", f"https://esante.example/{i}") for i in range(n)]
    plain, entities = tdlib.parse_html(digest_render(entries, language).render.text)
    assert plain.splitlines()[0] == heading
    assert [e["type"]["@type"] for e in entities].count("textEntityTypeTextUrl") == n


def test_a_long_digest_stays_under_the_limit_and_counts_the_rest() -> None:
    entries = [DigestEntry("Un titre assez long sur la #santé numérique et l’#IA " * 3, f"https://esante.example/{i}")
               for i in range(200)]
    render = digest_render(entries, "fr").render
    plain, _ = tdlib.parse_html(render.text)
    assert render.length <= 4096
    shown = plain.count("• ")
    assert 0 < shown < 200 and plain.splitlines()[-1] == f"… et {200 - shown} autres"
