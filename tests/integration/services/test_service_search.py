"""bot.services.search on a real database: FTS5 on SQLite, french + unaccent on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from services_support import NOW
from sqlalchemy import text

from bot.app import App
from bot.domain.posts import PostStatus
from bot.services import posts
from bot.services.search import SearchPage, search

PUBLISHED = PostStatus.PUBLISHED


async def add(app: App, title: str, body: str = "", *, tags: tuple[str, ...] = (), status: PostStatus = PUBLISHED,
              days_ago: int = 0) -> int:
    created = await posts.create(app, title, now=NOW, body=body, tags=tags, status=status,
                                 url=f"https://esante.example/{abs(hash(title))}")
    if days_ago:
        async with app.sessions.begin() as session:
            await session.execute(text("UPDATE posts SET published_at = :at WHERE id = :id"),
                                  {"at": NOW - timedelta(days=days_ago), "id": created.post.id})
    return created.post.id


def ids(page: SearchPage) -> list[int]:
    return [hit.post_id for hit in page.hits]


async def test_accents_and_case_do_not_matter(app: App) -> None:
    post = await add(app, "La #Dépression chez les adolescents", "<p>Un état des lieux.</p>")
    await add(app, "Le #diabète de type 2")
    for query in ("dépression", "DEPRESSION", "Depression", "dÉpRessIon adolescents", "ÉTAT"):
        assert ids(await search(app, query)) == [post], query


async def test_elisions_find_the_bare_word_and_the_other_way_round(app: App) -> None:
    anxiety = await add(app, "Comprendre l’anxiété au travail", "<p>Des conseils pratiques.</p>")
    bare = await add(app, "Anxiété : trois exercices de respiration")
    ai = await add(app, "Un outil d'IA pour le dépistage")
    assert set(ids(await search(app, "anxiété"))) == {anxiety, bare}
    assert set(ids(await search(app, "l’anxiété"))) == {anxiety, bare}
    assert set(ids(await search(app, "l'Anxiete"))) == {anxiety, bare}
    assert ids(await search(app, "IA dépistage")) == [ai]
    assert ids(await search(app, "d’IA")) == [ai]
    assert ids(await search(app, '"comprendre l’anxiété"')) == [anxiety]  # in a phrase the article stays


async def test_tags_filter_with_tag_keys(app: App) -> None:
    mental = await add(app, "Prendre soin de soi", tags=("Santé mentale", "IA"))
    other = await add(app, "Prendre soin des autres", tags=("IA",))
    assert set(ids(await search(app, "#IA"))) == {mental, other}
    assert ids(await search(app, "#sante_mentale")) == []  # an underscore is part of the key
    assert ids(await search(app, "#SantéMentale soin")) == [mental]  # the hashtag as channels show it
    assert ids(await search(app, "soin #ia -autres")) == [mental]
    assert ids(await search(app, "#ia -autres")) == [mental]  # a tag and an exclusion, no word
    assert ids(await search(app, "#inconnu")) == []
    assert ids(await search(app, "mentale")) == [mental]  # tag text is indexed too


async def test_phrases_prefixes_and_exclusions(app: App) -> None:
    adjacent = await add(app, "La santé mentale des soignants", "<p>Une thérapie brève.</p>")
    apart = await add(app, "La santé des soignants, mentale et physique", "<p>Le thérapeute écoute.</p>")
    assert ids(await search(app, '"santé mentale"')) == [adjacent]
    assert set(ids(await search(app, "santé mentale"))) == {adjacent, apart}
    assert set(ids(await search(app, "thérap*"))) == {adjacent, apart}
    assert ids(await search(app, "soignants -physique")) == [adjacent]
    assert ids(await search(app, 'soignants -"santé mentale"')) == [apart]
    assert ids(await search(app, '"santé mentale')) == [adjacent]  # an unclosed quote runs to the end


async def test_a_title_match_ranks_above_a_body_match(app: App) -> None:
    body = await add(app, "Les nouvelles du mois", "<p>On parle encore de télémédecine cette semaine.</p>",
                     days_ago=0)
    title = await add(app, "La télémédecine en Ehpad", "<p>Retour d’expérience d’une équipe.</p>", days_ago=30)
    tag = await add(app, "Retour sur un colloque", tags=("Télémédecine",), days_ago=10)
    assert ids(await search(app, "télémédecine")) == [title, tag, body]


async def test_pages_are_ranked_disjoint_and_say_when_more_follow(app: App) -> None:
    created = [await add(app, f"Note de lecture numéro {n} sur la #prévention", days_ago=n) for n in range(23)]
    seen: list[int] = []
    offset: int | None = 0
    while offset is not None:
        page = await search(app, "prévention", offset=offset, limit=10)
        seen += ids(page)
        assert len(page.hits) <= 10 and page.has_more == (page.next_offset is not None)
        offset = page.next_offset
    assert sorted(seen) == sorted(created) and len(seen) == 23
    last = await search(app, "prévention", offset=20, limit=10)
    assert len(last.hits) == 3 and not last.has_more and last.previous_offset == 10


async def test_drafts_and_deleted_posts_are_never_returned(app: App) -> None:
    draft = await add(app, "Brouillon sur la vaccination", status=PostStatus.DRAFT)
    deleted = await add(app, "Article retiré sur la vaccination")
    kept = await add(app, "La vaccination expliquée")
    await posts.delete(app, deleted, now=NOW)
    assert ids(await search(app, "vaccination")) == [kept]
    assert ids(await search(app, "")) == [kept]  # the latest posts, too
    async with app.sessions.begin() as session:  # the draft goes out: readers find it from then on
        await session.execute(text("UPDATE posts SET status = 'published' WHERE id = :id"), {"id": draft})
    assert set(ids(await search(app, "vaccination brouillon"))) == {draft}


async def test_the_index_follows_edits_tag_changes_renames_and_deletes(app: App) -> None:
    post = await add(app, "Le sommeil des étudiants", tags=("Sommeil",))
    await posts.edit(app, post, now=NOW, title="Les rythmes circadiens des étudiants")
    assert ids(await search(app, "sommeil")) == [post]  # still a tag
    assert ids(await search(app, "circadiens")) == [post]
    await posts.edit(app, post, now=NOW, tags=["Chronobiologie"])
    assert ids(await search(app, "sommeil")) == []
    assert ids(await search(app, "chronobiologie")) == ids(await search(app, "#Chronobiologie")) == [post]
    async with app.sessions.begin() as session:
        await session.execute(text("UPDATE tags SET display = 'Chronobiologie humaine' WHERE key = 'chronobiologie'"))
    assert ids(await search(app, "humaine")) == [post]
    async with app.sessions.begin() as session:
        await session.execute(text("DELETE FROM posts WHERE id = :id"), {"id": post})
    assert ids(await search(app, "circadiens")) == []
    async with app.sessions() as session:
        left = (await session.execute(text("SELECT count(*) FROM post_search"))).scalar_one()
    assert left == 0


async def test_hits_carry_what_a_result_shows(app: App) -> None:
    body = "<p>" + "Contexte. " * 30 + "Le #chatbot Therabot réduit l’anxiété de 31 %.</p>"
    post = await add(app, "#Therabot : un #chatbot qui aide", body, tags=("Santé mentale",))
    (hit,) = (await search(app, "anxiété")).hits
    assert hit.post_id == post and hit.title.startswith("#Therabot") and hit.url.startswith("https://esante.example/")
    assert hit.tags == ("Therabot", "chatbot", "Santé mentale")
    assert "anxiété" in hit.excerpt and len(hit.excerpt) <= 160 and hit.excerpt.startswith("…")
    assert "<p>" not in hit.excerpt and hit.date is not None


async def test_blank_query_lists_the_latest_and_junk_is_not_understood(app: App) -> None:
    old = await add(app, "Ancien article", days_ago=10)
    new = await add(app, "Nouvel article", days_ago=1)
    latest = await search(app, "   ")
    assert ids(latest) == [new, old] and latest.understood
    for junk in ('"', "*", "-", "AND", "-santé", "🧠🧠", '" * - ( ) : ^'):
        page = await search(app, junk)
        assert page.hits == () and not page.understood, junk
    nothing = await search(app, "zzzzqqq")
    assert nothing.hits == () and nothing.understood


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(['"', "*", "-", "#", "AND", "OR", "NOT", "NEAR(", ")", "^", ":", "'", "’", "\\",
                              "&", "|", "!", "<->", "santé", "l’IA", "e-santé", "🧠", "%", "_", ";", "--", "\x00"]),
             max_size=12).map(" ".join),
    st.text(min_size=1500, max_size=2000),
))
async def test_any_text_is_answered_never_raised(app: App, query: str) -> None:
    page = await search(app, query, offset=3, limit=5)
    assert isinstance(page, SearchPage) and len(page.hits) <= 5
