"""Formatter throughput: renders per second per platform vs a bare HTML parse.

Run from the repository root:  python bench/render.py [--posts 10000] [--seed 7] [--repeat 3]

Generates a corpus of blog-like French posts (paragraphs, inline markup, links, emoji,
nbsp typography, tags), then times, in the same run and on the same bodies:
  * the baseline: html.parser.HTMLParser().feed(body) with no handlers;
  * render_telegram (excerpt profile, 600 units, inline hashtags);
  * render_mastodon (500 characters, trailing hashtags, a content-warning rule).
Prints a table; the target is a ratio to the baseline of at most 2× (issue 12). Times are
CPU seconds of this process (time.process_time): the machine is shared, and time spent
descheduled is not the formatter's.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from report import at_most, emit

from bot.format import Article, Profile, render_mastodon, render_telegram

NB = "\u00a0"
WORDS = ["santé", "mentale", "anxiété", "dépression", "patient", "soignant", "étude", "essai", "chatbot", "intelligence", "artificielle", "hôpital", "médecin", "sommeil", "écrans", "adolescents", "prévention", "données", "numérique", "téléconsultation", "l’équipe", "d’après", "qu’un", "résultats", "prometteurs", "recherche", "thérapie"]  # noqa: E501
TAGS = ["IA", "santé mentale", "anxiété", "dépression", "e-santé", "sommeil", "chatbot", "suicide", "TCA",
        "téléconsultation", "données de santé", "2025"]
EMOJI = ["🧑‍⚕️", "😀", "👨‍👩‍👧", "🇫🇷", "💊"]


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
    if rng.random() < 0.2:
        words[rng.randrange(len(words))] = f"<b>{rng.choice(WORDS)}</b>"
    if rng.random() < 0.15:
        words[rng.randrange(len(words))] = f'<a href="https://esante-blog.fr/{rng.randint(1, 999)}">{rng.choice(WORDS)}</a>'
    if rng.random() < 0.1:
        words.append(rng.choice(EMOJI))
    end = rng.choice([".", ".", f"{NB}!", f"{NB}?", "…"])
    return " ".join(words).capitalize() + end


def corpus(n: int, seed: int) -> list[Article]:
    rng = random.Random(seed)
    posts = []
    for i in range(n):
        paragraphs = [" ".join(sentence(rng) for _ in range(rng.randint(2, 6))) for _ in range(rng.randint(2, 10))]
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        if rng.random() < 0.2:
            body += "<ul>" + "".join(f"<li>{sentence(rng)}</li>" for _ in range(3)) + "</ul>"
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12))).capitalize() + f"{NB}:"
        posts.append(Article(title=title, body_html=body, url=f"https://esante-blog.fr/2025/{i}/",
                             tags=tuple(rng.sample(TAGS, rng.randint(0, 7)))))
    return posts


def timed(work: Callable[[Article], object], posts: list[Article]) -> float:
    start = time.process_time()
    for post in posts:
        work(post)
    return time.process_time() - start


def bare_parse(post: Article) -> None:
    parser = HTMLParser()
    parser.feed(post.body_html)
    parser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    posts = corpus(args.posts, args.seed)
    telegram = Profile(platform="telegram", max_length=600, hashtag_style="inline", utm="utm_source=telegram")
    mastodon = Profile(platform="mastodon", content_warnings={"suicide": "suicide"}, utm="utm_source=mastodon")
    size = sum(len(p.body_html) for p in posts) / len(posts)
    works = {
        "bare html.parser parse (baseline)": bare_parse,
        "render_telegram (600, inline)": lambda p: render_telegram(p, telegram),
        "render_mastodon (500, trailing, CW)": lambda p: render_mastodon(p, mastodon),
    }
    best = {name: float("inf") for name in works}
    for _ in range(args.repeat):  # interleaved rounds, best of each: noise only ever adds time
        for name, work in works.items():
            best[name] = min(best[name], timed(work, posts))
    baseline = best["bare html.parser parse (baseline)"]
    rows = list(best.items())
    print(f"{args.posts} posts, mean body {size:.0f} characters, best of {args.repeat}, Python {sys.version.split()[0]}")
    print(f"{'what':<38} {'CPU s':>8} {'per second':>11} {'× baseline':>11}")
    for name, seconds in rows:
        print(f"{name:<38} {seconds:>8.2f} {args.posts / seconds:>11.0f} {seconds / baseline:>11.2f}")
    for figure, name in (("render.telegram", "render_telegram (600, inline)"),
                         ("render.mastodon", "render_mastodon (500, trailing, CW)")):
        emit(figure, f"{name.split()[0]} ÷ bare html.parser parse ({args.posts:,} posts, CPU)", best[name], "CPU s",
             baseline=baseline, baseline_label="bare html.parser parse", target=at_most(2, on="ratio"),
             posts=args.posts, repeat=args.repeat)


if __name__ == "__main__":
    main()
