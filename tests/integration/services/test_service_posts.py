"""bot.services.posts on a real database: a post written by hand follows an imported entry's rules."""

from __future__ import annotations

import pytest
from services_support import NOW, paris, publications, set_state

from bot.app import App
from bot.errors import NotFound, UsageError
from bot.publish import outbox
from bot.services import posts
from bot.services.publishing import Outcome
from bot.store.models import PostStatus, PublicationState

TITLE = "L’#anxiété « au quotidien » : que faire ? 😟"
BODY = "<p>Un article sur la #dépression et l’#IA.</p><script>alert(1)</script>"


async def test_a_queued_post_gets_its_hashtags_and_its_publications(app: App) -> None:
    created = await posts.create(app, TITLE, now=NOW, body=BODY, tags=["Santé mentale"], status=PostStatus.QUEUED)
    assert created.post.tags == ("anxiété", "Santé mentale", "dépression", "IA")  # title, given, body: as ingest
    assert created.post.status == PostStatus.QUEUED
    assert "<script>" not in created.post.body_html and "#dépression" in created.post.body_html
    assert {c.channel: (c.outcome, c.due_at) for c in created.queued_on} == {
        "esante-telegram": (Outcome.QUEUED, paris(4, 9)),  # the first free slot
        "sante-mentale": (Outcome.QUEUED, NOW),  # no slots: at once
    }
    found = await publications(app, created.post.id)
    assert {name: p.state for name, p in found.items()} == {
        "esante-telegram": PublicationState.PENDING, "sante-mentale": PublicationState.PENDING}


async def test_a_queued_post_without_the_filtered_tag_skips_that_channel(app: App) -> None:
    created = await posts.create(app, "Le #DMP devient « Mon espace santé »", now=NOW, status=PostStatus.QUEUED)
    outcomes = {c.channel: c.outcome for c in created.channels}
    assert outcomes == {"esante-telegram": Outcome.QUEUED, "sante-mentale": Outcome.NOT_MATCHING}
    assert list(await publications(app, created.post.id)) == ["esante-telegram"]


async def test_a_draft_is_stored_with_its_tags_and_no_publication(app: App) -> None:
    created = await posts.create(app, "#Therabot : un #chatbot qui écoute", now=NOW, tags=["IA"])
    assert created.post.status == PostStatus.DRAFT and created.channels == ()
    assert created.post.tags == ("Therabot", "chatbot", "IA")
    assert await publications(app, created.post.id) == {}


async def test_a_scheduled_post_needs_a_time_and_is_pinned_to_it(app: App) -> None:
    with pytest.raises(UsageError, match="needs a time"):
        await posts.create(app, "Bientôt #IA", now=NOW, status=PostStatus.SCHEDULED)
    with pytest.raises(UsageError, match="only a scheduled post"):
        await posts.create(app, "Bientôt #IA", now=NOW, at=paris(6, 10))
    created = await posts.create(app, "Bientôt #IA", now=NOW, status=PostStatus.SCHEDULED, at=paris(6, 10))
    assert {c.due_at for c in created.queued_on} == {paris(6, 10)}
    assert (await posts.get(app, created.post.id)).status == PostStatus.SCHEDULED


async def test_bad_input_is_refused_and_nothing_is_stored(app: App) -> None:
    await posts.create(app, TITLE, now=NOW)
    with pytest.raises(UsageError, match="identical post already exists"):
        await posts.create(app, TITLE, now=NOW, status=PostStatus.QUEUED)
    with pytest.raises(UsageError, match="needs a title"):
        await posts.create(app, "   ", now=NOW)
    assert (await posts.list_posts(app)).total == 1
    for call in (posts.get(app, 99), posts.edit(app, 99, now=NOW, title="x"), posts.delete(app, 99, now=NOW)):
        with pytest.raises(NotFound, match="post 99 does not exist"):
            await call


async def test_edit_reads_hashtags_again_and_sent_messages_follow(app: App) -> None:
    created = await posts.create(app, TITLE, now=NOW, tags=["Santé mentale"], status=PostStatus.QUEUED)
    sent = (await publications(app, created.post.id))["sante-mentale"]
    await set_state(app, sent.id, PublicationState.SENT, remote_id="42", sent_version=1)
    edited = await posts.edit(app, created.post.id, now=NOW, title="L’#anxiété et l’#IA « au quotidien »")
    assert edited.changed and edited.edits_requested == 1  # only the sent one; the pending one renders fresh
    assert edited.post.tags == ("anxiété", "IA", "Santé mentale")
    after = await publications(app, created.post.id)
    assert after["sante-mentale"].needs_edit and after["sante-mentale"].content_version == 2
    assert not after["esante-telegram"].needs_edit
    again = await posts.edit(app, created.post.id, now=NOW, title="L’#anxiété et l’#IA « au quotidien »")
    assert not again.changed and again.edits_requested == 0
    retagged = await posts.edit(app, created.post.id, now=NOW, tags=["Psychologie"], body="<p>Et la #dépression</p>")
    assert retagged.post.tags == ("anxiété", "IA", "Psychologie", "dépression")


async def test_delete_is_soft_and_unsent_publications_never_go_out(app: App) -> None:
    kept = await posts.create(app, "Le #DMP expliqué", now=NOW, status=PostStatus.QUEUED)
    gone = await posts.create(app, TITLE, now=NOW, status=PostStatus.QUEUED)
    assert (await posts.delete(app, gone.post.id, now=NOW)).title == TITLE
    page = await posts.list_posts(app)
    assert [p.id for p in page.posts] == [kept.post.id] and page.total == 1
    async with app.sessions.begin() as session:
        claimed = await outbox.claim_due(session, paris(4, 23), "worker", 10)
    assert {p.post_id for p in claimed} == {kept.post.id}


async def test_list_filters_on_status(app: App) -> None:
    await posts.create(app, "Un brouillon #IA", now=NOW)
    queued = await posts.create(app, "En file #IA", now=NOW, status=PostStatus.QUEUED)
    page = await posts.list_posts(app, status=PostStatus.QUEUED)
    assert [p.id for p in page.posts] == [queued.post.id] and page.total == 2
