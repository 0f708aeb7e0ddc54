"""Golden renders of French samples written in the blog's style."""

from __future__ import annotations

import pytest

from bot.format import Article, LinkPreview, Profile, render_mastodon, render_telegram
from bot.settings import ProfileSettings

NB = "\u00a0"
THERABOT = Article(
    title="Therabot : un chatbot IA qui améliore la dépression, l’anxiété et la santé mentale",
    body_html=(
        f"<p>Une étude publiée dans <em>NEJM AI</em> montre qu’un <strong>chatbot</strong> thérapeutique "
        f"réduit de 51{NB}% les symptômes de dépression. « C’est prometteur{NB}», estime l’équipe{NB}!</p>"
        f"<p>Mais attention{NB}: l’outil ne remplace pas un soignant 🧑‍⚕️. D’autres essais sont prévus en 2026.</p>"
    ),
    url="https://esante-blog.fr/2025/04/therabot/?ref=rss",
    tags=("IA", "santé mentale", "anxiété", "dépression", "chatbot", "e-santé", "2025", "ia"),
)
LINK = "https://esante-blog.fr/2025/04/therabot/?ref=rss&amp;utm_source=telegram"
FIRST_PARAGRAPH = (
    f"Une étude publiée dans <i>NEJM AI</i> montre qu’un <b>chatbot</b> thérapeutique réduit de 51{NB}% "
    f"les symptômes de dépression. « C’est prometteur{NB}», estime l’équipe{NB}!"
)


def test_telegram_inline_hashtags_in_the_title_as_the_blog_writes_them() -> None:
    render = render_telegram(THERABOT, Profile(hashtag_style="inline", max_length=300, utm="utm_source=telegram"))
    assert render.text == (
        "<b>Therabot : un #chatbot #IA qui améliore la #dépression, l’#anxiété et la #SantéMentale</b>\n\n"
        f"{FIRST_PARAGRAPH}\n\n"
        f'<a href="{LINK}">Lire la suite</a>'
    )
    assert (render.length, render.limit, render.parse_mode, render.photo) == (252, 300, "HTML", None)
    assert render.link_preview == LinkPreview(LINK.replace("&amp;", "&"), prefer_large_media=False)
    assert render.follow_tags == ("IA", "santé mentale", "anxiété", "dépression", "chatbot")
    assert render.language == "fr"


def test_telegram_trailing_hashtags_cut_at_a_sentence_end() -> None:
    render = render_telegram(THERABOT, Profile(hashtag_style="trailing", max_length=300, utm="utm_source=telegram"))
    assert render.text == (
        "<b>Therabot : un chatbot IA qui améliore la dépression, l’anxiété et la santé mentale</b>\n\n"
        f"{FIRST_PARAGRAPH}\n\n"
        f'<a href="{LINK}">Lire la suite</a>\n\n'
        "#IA #SantéMentale #anxiété #dépression #chatbot"
    )
    assert render.length == 297


def test_mastodon_trailing_with_content_warning_and_a_word_cut() -> None:
    profile = Profile.from_settings(
        "mastodon", ProfileSettings(max_hashtags=4, content_warnings={"santé mentale": ["Santé mentale"]})
    )
    render = render_mastodon(THERABOT, profile, max_characters=300)
    assert render.status == (
        "Therabot : un chatbot IA qui améliore la dépression, l’anxiété et la santé mentale\n\n"
        f"Une étude publiée dans NEJM AI montre qu’un chatbot thérapeutique réduit de 51{NB}% les symptômes de…\n\n"
        f"Lire la suite{NB}: https://esante-blog.fr/2025/04/therabot/?ref=rss\n\n"
        "#IA #SantéMentale #anxiété #dépression"
    )
    assert render.spoiler_text == f"Avertissement{NB}: santé mentale"
    assert (render.length, render.limit, render.language, render.visibility) == (292, 300, "fr", "public")


def test_mastodon_inline_keeps_whole_body_when_it_fits_with_emoji() -> None:
    profile = Profile(platform="mastodon", hashtag_style="inline")
    render = render_mastodon(THERABOT, profile)
    assert render.status.startswith("Therabot : un #chatbot #IA qui améliore la #dépression, l’#anxiété et la #SantéMentale\n\n")
    assert f"Mais attention{NB}: l’outil ne remplace pas un soignant 🧑‍⚕️. D’autres essais sont prévus en 2026." in render.status
    assert render.status.endswith(f"Lire la suite{NB}: https://esante-blog.fr/2025/04/therabot/?ref=rss")
    assert render.spoiler_text == "" and render.length <= 500


def test_author_hashtags_in_the_title_are_not_repeated() -> None:
    article = Article(title="#Therabot : un #chatbot #IA pour l’#anxiété", url="https://esante-blog.fr/t",
                      tags=("chatbot", "IA", "anxiété", "Therabot", "psychiatrie"))
    for style in ("inline", "trailing"):
        render = render_telegram(article, Profile(hashtag_style=style))
        assert render.text.endswith("</a>\n\n#psychiatrie")
        assert render.text.count("#IA") == 1


def test_photo_with_caption_when_the_profile_prefers_images() -> None:
    article = Article(title="Dormir mieux", body_html="<p>" + "Un sommeil réparateur aide. " * 80 + "</p>",
                      url="https://esante-blog.fr/sommeil", image_url="https://esante-blog.fr/lit.jpg",
                      image_alt="Un lit", language="en")
    render = render_telegram(article, Profile(prefer_image=True))
    assert render.photo == "https://esante-blog.fr/lit.jpg" and render.is_caption
    assert render.limit == 1024 and 900 < render.length <= 1024
    assert render.link_preview is None
    assert render.text.endswith('<a href="https://esante-blog.fr/sommeil">Read more</a>')
    mastodon = render_mastodon(article, Profile(platform="mastodon"))
    assert (mastodon.media_url, mastodon.media_alt, mastodon.language) == ("https://esante-blog.fr/lit.jpg", "Un lit", "en")
    assert "Read more: https://esante-blog.fr/sommeil" in mastodon.status


@pytest.mark.parametrize("platform", ["telegram", "mastodon"])
def test_from_post_accepts_new_post_and_orm_post(platform: str) -> None:
    from bot.domain.posts import NewPost
    from bot.store.models import Post, PostTag, Tag

    new = NewPost(source="s", source_key="k", title="Titre", url="https://esante-blog.fr/x",
                  body_html="<p>Corps</p>", tags=("santé mentale", "IA"), image_url=None)
    orm = Post(title="Titre", url="https://esante-blog.fr/x", body_html="<p>Corps</p>", language="fr", summary="")
    orm.post_tags = [PostTag(tag=Tag(key="sante mentale", display="santé mentale"), position=0),
                     PostTag(tag=Tag(key="ia", display="IA"), position=1)]
    assert Article.from_post(new) == Article.from_post(orm)
    assert Article.from_post(orm).tags == ("santé mentale", "IA")


@pytest.mark.parametrize("style", ["inline", "trailing"])
def test_non_breaking_spaces_of_the_title_stay_on_both_platforms(style: str) -> None:
    article = Article(title=f"#Therabot{NB}: un «{NB}#chatbot{NB}» qui apaise\n l’#anxiété{NB}?",
                      body_html="<p>Essai.</p>", url="https://esante.example/t", tags=("Therabot", "anxiété"))
    title = f"#Therabot{NB}: un «{NB}#chatbot{NB}» qui apaise l’#anxiété{NB}?"
    assert render_telegram(article, Profile(hashtag_style=style)).text.startswith(f"<b>{title}</b>")
    assert render_mastodon(article, Profile(platform="mastodon", hashtag_style=style)).status.startswith(title)
