"""The worker's renderer of reader notifications (bot.services.delivery_render.DeliveryRenderer):
the same message as rendering each row on its own, with one read of the post's followers per
post (not one query per reader), a follow made after that read still honoured, and the read
renewed once it is older than its TTL (injected clock)."""

from __future__ import annotations

from readers_support import add_post, add_reader, send_on
from services_support import NOW
from sqlalchemy import insert

from bot import tdlib
from bot.app import App
from bot.publish import outbox
from bot.publish.outbox import DELIVERIES
from bot.services import notify
from bot.services.delivery_render import DeliveryRenderer, notification_for
from bot.store.models import Delivery, DeliveryState

TITLE = "L’#anxiété au travail : 5 conseils « simples » 🧘 #SantéMentale"
TAGS = ["anxiété", "travail", "santé mentale"]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def claimed(app: App) -> list[Delivery]:
    async with app.sessions.begin() as session:
        return await outbox.claim_due(session, NOW, "w1", 100, kind=DELIVERIES)


def shown(render) -> tuple[str, tuple[tuple[str, str], ...]]:
    return render.text, render.callback_buttons


async def test_the_renderer_gives_each_reader_what_rendering_the_row_alone_gives(app: App) -> None:
    post = await add_post(app, TITLE, TAGS)
    await add_reader(app, 5001, ["anxiété", "santé mentale"])
    await add_reader(app, 5002, ["travail"])
    await add_reader(app, 5003, ["#Anxiete"])
    await send_on(app, post, "esante-telegram")
    await notify.fan_out_due(app, NOW)
    rows = await claimed(app)
    renderer = DeliveryRenderer(app, clock=Clock())
    for row in rows:
        render = await renderer(row)
        _, alone = await notification_for(app, row.id)
        assert shown(render) == shown(alone.render)
        tdlib.parse_html(render.text)
    assert len(rows) == 3 and renderer.reads == 1  # one followers read for the post, not one per reader
    labels = []
    for row in rows:
        labels.append([label for label, _ in (await renderer(row)).callback_buttons])
    assert sorted(labels) == [["Ne plus suivre #anxiété"]] * 2 + [["Ne plus suivre #travail"]]


async def test_a_late_follower_is_looked_up_and_the_read_is_renewed_after_its_ttl(app: App) -> None:
    post = await add_post(app, TITLE, TAGS)
    await add_reader(app, 5001, ["anxiété"])
    await send_on(app, post, "esante-telegram")
    await notify.fan_out_due(app, NOW)
    clock = Clock()
    renderer = DeliveryRenderer(app, clock=clock, ttl=30)
    [first] = await claimed(app)
    await renderer(first)

    late = await add_reader(app, 5002, ["travail"])  # follows after the read: not in it
    async with app.sessions.begin() as session:
        await session.execute(insert(Delivery).values(post_id=post, subscriber_id=late, state=DeliveryState.PENDING,
                                                      due_at=NOW, next_attempt_at=NOW, attempts=0))
    [row] = await claimed(app)
    render = await renderer(row)
    _, alone = await notification_for(app, row.id)
    assert render.callback_buttons == alone.render.callback_buttons
    assert render.callback_buttons and renderer.reads == 1
    clock.now = 31
    await renderer(row)
    assert renderer.reads == 2
