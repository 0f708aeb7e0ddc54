"""The worker renders a post once per distinct profile, not once per channel (issue 12 item 1:
render once per post and profile), and never serves a render of an older version of the post."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from bot.publish.render import StatusLimits, make_render
from bot.settings import load_settings


@dataclass
class StoredPost:
    """What the worker's claim hands the render: the ORM post's fields (tags as strings here)."""

    title: str = "L’#IA au chevet de la #santé mentale 🧠"
    body_html: str = "<p>Une revue « systématique » de 40 études sur l’#anxiété.</p>"
    url: str = "https://esante-blog.fr/ia-sante/"
    tags: list[str] = field(default_factory=lambda: ["IA", "santé mentale"])
    language: str = "fr"
    image_url: str | None = None
    image_alt: str | None = None
    summary: str = ""


def publication(channel: str, post: StoredPost) -> SimpleNamespace:
    return SimpleNamespace(channel=SimpleNamespace(name=channel), post=post)


def worker_render(limits: dict[str, StatusLimits] | None = None):
    settings = load_settings(None, env={"MASTO_TOKEN": "s3cr3t-token"}, channels=[
        {"name": "canal-a", "platform": "telegram", "chat": "@canal_a"},
        {"name": "canal-b", "platform": "telegram", "chat": "@canal_b"},
        {"name": "canal-court", "platform": "telegram", "chat": "@canal_court", "profile": "court"},
        {"name": "masto", "platform": "mastodon", "instance_url": "https://mastodon.example", "token": "s3cr3t-token"},
    ], profiles={"court": {"max_length": 120}})
    return make_render(settings, lambda name: (limits or {}).get(name))


def test_channels_sharing_a_profile_share_one_render() -> None:
    render, post = worker_render(), StoredPost()
    first = render(publication("canal-a", post))
    assert render(publication("canal-b", post)) is first  # rendered once
    short = render(publication("canal-court", post))
    assert short is not first and len(short.text) < len(first.text)  # its own profile: its own render
    assert render(publication("masto", post)).status  # another platform


def test_an_edited_post_is_rendered_again() -> None:
    render, post = worker_render(), StoredPost()
    before = render(publication("canal-a", post))
    post.title = "Le sommeil des ados : les écrans en cause 📱"
    after = render(publication("canal-b", post))
    assert "sommeil des ados" in after.text and "sommeil des ados" not in before.text
    post.tags = ["sommeil"]
    assert "#sommeil" in render(publication("canal-a", post)).text


def test_new_instance_limits_give_a_new_render() -> None:
    limits: dict[str, StatusLimits] = {}
    render, post = worker_render(limits), StoredPost(body_html="<p>" + "Résultats nets. " * 80 + "</p>")
    default = render(publication("masto", post))
    limits["masto"] = StatusLimits(1000, 23, "live https://mastodon.example")
    live = render(publication("masto", post))
    assert (default.limit, live.limit) == (500, 1000)  # as Mastodon counts (a URL is 23)
    assert default.length <= 500 < live.length <= 1000
