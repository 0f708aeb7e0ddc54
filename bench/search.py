"""Search latency over generated French blog posts: the full-text index against a LIKE scan.

Generates N posts (default 100,000) in the e-santé blog style — hashtags in titles, elisions,
accents, a Zipf-distributed vocabulary of real and compound medical words — with bulk Core
inserts (executemany) into a database migrated by Relais' own migrations, so the index is
fed by its triggers as in production. Then, for ~200 queries of 1-3 words drawn from the
same vocabulary, it measures in the same run:

- ``index``: the index query alone (bot.store.search.find: match, filters, ranking, a page of 10);
- ``service``: bot.services.search.search end to end (parse, index, the page's rows, excerpts);
- ``LIKE``: the naive search every word must beat — ``(title|summary|body) LIKE '%word%'``
  for each word (case-insensitive: LIKE on SQLite, ILIKE on PostgreSQL), newest first, a
  page of 10. With ``ORDER BY published_at`` it walks the date index and stops at the 11th
  match: fast for frequent words, a full scan for rare ones.

Target (issue 9): p95 ≤ 20 ms on SQLite and ≥ 50× faster than the scan.

    .venv/bin/python bench/search.py [--posts 100000] [--queries 200]
    .venv/bin/python bench/search.py --database postgresql+asyncpg://relais@127.0.0.1:54330/relais_search

PostgreSQL runs in a schema of its own (``bench_search``, dropped before and after); the
database's user must be allowed to create the unaccent extension (see bot/store/search.py).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from report import at_most, emit
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.search import parse
from bot.domain.tags import tag_key
from bot.services import search as service
from bot.settings import load_settings
from bot.store import db
from bot.store import search as index
from bot.store.models import Post, PostTag, Tag

TOPICS = ("santé mentale", "IA", "télémédecine", "dépression", "anxiété", "diabète", "cancer", "prévention",
          "e-santé", "données de santé", "DMP", "Ehpad", "chatbot", "objets connectés", "sommeil", "nutrition",
          "cardiologie", "pédiatrie", "vaccination", "COVID-19", "hôpital", "médecin généraliste", "pharmacie",
          "essai clinique", "RGPD", "cybersécurité", "startup", "Doctolib", "ordonnance", "téléconsultation")
_WORDS = """patient patiente médecin soignant infirmière hôpital clinique étude essai traitement thérapie symptôme
diagnostic dépistage prévention suivi parcours soin soins santé données application plateforme outil algorithme
intelligence artificielle modèle logiciel dispositif capteur montre connectée téléconsultation télésurveillance
ordonnance pharmacie remboursement assurance maladie mutuelle ministère agence régulation éthique consentement
confidentialité sécurité hébergement cloud interopérabilité dossier médical partagé accès urgence délai attente
déserts médicaux territoire région ville campagne famille enfant adolescent senior aidant handicap autonomie
sommeil stress anxiété dépression burnout addiction alimentation activité physique obésité diabète hypertension
cœur cancer tumeur chimiothérapie radiologie imagerie scanner IRM biologie génétique génome vaccin vaccination
épidémie pandémie virus bactérie antibiotique résistance recherche chercheur publication revue résultat
efficacité bénéfice risque effet secondaire innovation startup financement investissement marché industrie
formation étudiant interne externe cabinet libéral consultation rendez-vous agenda messagerie sécurisée
"""
WORDS = _WORDS.split()
PREFIXES = ("cardio", "neuro", "psycho", "onco", "immuno", "gastro", "dermato", "endocrino", "pneumo", "néphro",
            "hémato", "rhumato", "ophtalmo", "télé", "bio", "nano", "géronto", "pédo", "chrono", "physio")
SUFFIXES = ("logie", "logique", "logue", "thérapie", "thérapeute", "pathie", "graphie", "métrie", "scopie", "tomie",
            "stimulation", "surveillance", "réadaptation", "protection", "vigilance", "modulation", "sensibilité")
SYLLABLES = ("ba", "bé", "ca", "co", "da", "dé", "fa", "fi", "ga", "gé", "la", "lé", "ma", "mé", "na", "né", "pa", "pé",
             "ra", "ré", "sa", "sé", "ta", "té", "va", "vé", "tion", "ment", "ique", "eur", "ance", "ité")
_GLUE = ("le la les un une des du de et à en pour sur avec dans par que qui ne pas plus est sont a ont se son sa ses "
        "au aux ce cette il elle ils nous vous leur mais ou donc comme aussi très bien tout")
GLUE = _GLUE.split()
ELIDED = ("l’", "d’", "qu’", "l'", "d'")
QUERY_POOL = 2000  # query words: the 2,000 most frequent content words, uniformly (topics people look up)


@dataclass(frozen=True)
class Corpus:
    vocabulary: list[str]  # content words, most frequent first
    cumulative: list[float]  # Zipf (s = 1) by rank, cumulated once for random.choices


def corpus(rng: random.Random, size: int = 15_000) -> Corpus:
    """Real words first, then medical compounds, then made-up words; Zipf frequencies (s = 1) by rank."""
    real = list(dict.fromkeys(WORDS + [w for t in TOPICS for w in t.split()]))
    compounds = [p + s for p in PREFIXES for s in SUFFIXES]
    rng.shuffle(real)
    rng.shuffle(compounds)
    made_up: dict[str, None] = {}
    while len(real) + len(compounds) + len(made_up) < size:
        made_up["".join(rng.choices(SYLLABLES, k=rng.randint(2, 4)))] = None
    vocabulary = list(dict.fromkeys(real + compounds + list(made_up)))
    return Corpus(vocabulary, list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocabulary)))))


def sentence(rng: random.Random, words: Corpus, length: int) -> str:
    out = []
    for word in rng.choices(words.vocabulary, cum_weights=words.cumulative, k=length):
        if rng.random() < 0.8:  # about as many function words as content words
            out.append(rng.choice(GLUE))
        if rng.random() < 0.08 and word[0] in "aeiouéèêh":
            word = rng.choice(ELIDED) + word
        out.append(word)
    return " ".join(out).capitalize() + "."


def generated_posts(count: int, rng: random.Random, words: Corpus) -> list[tuple[dict[str, Any], list[str]]]:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    posts = []
    for n in range(count):
        tags = rng.sample(TOPICS, rng.randint(2, 5))
        title = f"#{tags[0].replace(' ', '')} : {sentence(rng, words, rng.randint(3, 6))[:-1]} #{tags[1].replace(' ', '')}"
        body = " ".join(sentence(rng, words, rng.randint(5, 10)) for _ in range(rng.randint(5, 10)))
        when = start + timedelta(minutes=37 * n)
        posts.append(({"source": "bench", "source_key": str(n), "url": f"https://esante.example/{n}", "title": title,
                       "language": "fr", "summary": body[:200], "body_html": f"<p>{body}</p>", "body_markdown": body,
                       "content_hash": "", "status": "archived" if n % 50 else "draft", "created_at": when,
                       "updated_at": when, "published_at": when, "published_at_estimated": False}, tags))
    return posts


async def load(engine: AsyncEngine, posts: list[tuple[dict[str, Any], list[str]]], chunk: int = 5000) -> None:
    """Bulk inserts by chunks. On SQLite the tag links go first (foreign keys deferred to the commit):
    the post's own trigger then indexes it once with its tags, instead of once more per link."""
    sqlite = engine.dialect.name == "sqlite"
    async with engine.begin() as conn:
        await conn.execute(insert(Tag), [{"key": tag_key(t), "display": t, "created_at": datetime.now(UTC)}
                                         for t in TOPICS])
        tag_ids = dict((await conn.execute(text("SELECT key, id FROM tags"))).all())
    for first in range(0, len(posts), chunk):
        batch = [({"id": first + i + 1, **row}, tags) for i, (row, tags) in enumerate(posts[first:first + chunk])]
        links = [{"post_id": row["id"], "tag_id": tag_ids[tag_key(t)], "position": i}
                 for row, tags in batch for i, t in enumerate(tags)]
        async with engine.begin() as conn:
            if sqlite:
                # The driver opens its transaction at the first DML statement only, and the pragma
                # holds only inside one (a PRAGMA first ran alone and was reset at once).
                await conn.exec_driver_sql("DELETE FROM post_tags WHERE 0")
                await conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
                await conn.execute(insert(PostTag), links)
            await conn.execute(insert(Post), [row for row, _ in batch])
            if not sqlite:
                await conn.execute(insert(PostTag), links)


def queries(rng: random.Random, words: Corpus, count: int) -> list[str]:
    pool = words.vocabulary[:QUERY_POOL]
    return [" ".join(rng.sample(pool, rng.choice((1, 1, 2, 2, 3)))) for _ in range(count)]


async def timed(work: Callable[[], Awaitable[object]]) -> float:
    began = time.perf_counter()
    await work()
    return (time.perf_counter() - began) * 1000


def like_scan(dialect: str, query: str) -> tuple[str, dict[str, str]]:
    op = "LIKE" if dialect == "sqlite" else "ILIKE"
    clauses, params = [], {}
    for i, word in enumerate(query.split()):
        params[f"w{i}"] = f"%{word}%"
        clauses.append(f"(title {op} :w{i} OR summary {op} :w{i} OR body_markdown {op} :w{i})")
    return (f"SELECT id FROM posts WHERE deleted_at IS NULL AND status <> 'draft' AND {' AND '.join(clauses)} "
            "ORDER BY published_at DESC LIMIT 11", params)


def percentiles(samples: list[float]) -> tuple[float, float]:
    cut = statistics.quantiles(samples, n=100, method="inclusive")
    return cut[49], cut[94]


async def run(url: str, n_posts: int, n_queries: int, seed: int) -> None:
    rng = random.Random(seed)
    words = corpus(rng)
    postgres = url.startswith("postgresql")
    kwargs: dict[str, Any] = {}
    if postgres:
        kwargs["connect_args"] = {"server_settings": {"search_path": "bench_search, public"}}
        await _reset_schema(url)
    engine = db.create_engine(url, **kwargs)
    try:
        await db.upgrade(engine)
        posts = generated_posts(n_posts, rng, words)
        began = time.perf_counter()
        await load(engine, posts)
        loaded = time.perf_counter() - began
        app = _App(db.session_factory(engine), url)
        asked = queries(rng, words, n_queries)
        for q in asked[:10]:  # warm the caches once
            await service.search(app, q)
        stats: dict[str, list[float]] = {"index": [], "service": [], "LIKE": []}
        hits = 0
        for q in asked:
            async with app.sessions() as session:
                stats["index"].append(await timed(lambda: index.find(session, parse(q), offset=0, limit=10)))  # noqa: B023
                sql, params = like_scan(engine.dialect.name, q)
                stats["LIKE"].append(await timed(lambda: session.execute(text(sql), params)))  # noqa: B023
            page = await service.search(app, q)
            hits += bool(page.hits)
            stats["service"].append(await timed(lambda: service.search(app, q)))  # noqa: B023
        _print(engine.dialect.name, n_posts, loaded, asked, hits, stats)
    finally:
        await engine.dispose()
        if postgres:
            await _reset_schema(url, recreate=False)


class _App:
    def __init__(self, sessions: Any, url: str) -> None:
        self.sessions, self.settings = sessions, load_settings(None, env={}, database_url=url)


async def _reset_schema(url: str, recreate: bool = True) -> None:
    engine = db.create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS bench_search CASCADE"))
        if recreate:
            await conn.execute(text("CREATE SCHEMA bench_search"))
    await engine.dispose()


def _print(dialect: str, n_posts: int, loaded: float, asked: list[str], hits: int, stats: dict[str, list[float]]) -> None:
    print(f"{dialect}: {n_posts:,} posts loaded (triggers indexing) in {loaded:.1f} s ({n_posts / loaded:,.0f} posts/s); "
          f"{len(asked)} queries of 1-3 words, {hits} with results")
    print(f"{'':10} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}")
    for name, samples in stats.items():
        p50, p95 = percentiles(samples)
        print(f"{name:10} {p50:9.2f} {p95:9.2f} {max(samples):9.2f}")
    like50, like95 = percentiles(stats["LIKE"])
    for name in ("index", "service"):
        p50, p95 = percentiles(stats[name])
        print(f"LIKE ÷ {name}: p50 ×{like50 / p50:.0f}, p95 ×{like95 / p95:.0f}")
    (p50, p95), sqlite = percentiles(stats["index"]), dialect == "sqlite"
    params = {"database": dialect, "posts": n_posts, "queries": len(asked)}
    emit("search.index_p95", f"search over {n_posts:,} posts, index p95", p95, "ms", baseline=like95,
         baseline_label="LIKE scan p95", target=at_most(20, text="≤ 20 ms (SQLite)") if sqlite else None, **params)
    emit("search.index_p50", f"search over {n_posts:,} posts, index p50", p50, "ms", baseline=like50,
         baseline_label="LIKE scan p50", target=at_most(1 / 50, on="ratio", text="≥ 50× faster than LIKE"), **params)
    emit("search.service_p95", f"search over {n_posts:,} posts, service end to end p95", percentiles(stats["service"])[1],
         "ms", baseline=like95, baseline_label="LIKE scan p95", **params)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--database", help="a PostgreSQL URL (postgresql+asyncpg://…); default: a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite+aiosqlite:///{Path(tmp) / 'bench-search.db'}"
        asyncio.run(run(url, args.posts, args.queries, args.seed))


if __name__ == "__main__":
    main()
