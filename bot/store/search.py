"""The full-text index of posts (title, tags, body) and the queries over it, per dialect.

The index lives in ``post_search``, kept by database triggers on ``posts``, ``post_tags``
and ``tags``: every path that writes a post (ingest's batch inserts, the services, a tag
renamed) keeps it in sync without calling anything. Drafts and soft-deleted posts are never
returned: on SQLite they are kept out of the index (ranking then needs no join to posts,
which costs 2-4×: bench/search.py), on PostgreSQL every query filters them out.

- SQLite: an FTS5 table (``unicode61 remove_diacritics 2``: case and accents folded),
  rowid = post id, columns title / tags / body ranked by ``bm25`` with weights 10 / 4 / 1,
  among the RANK_WINDOW most recently stored matches.
  unicode61 splits words at ’ and ' (and - .), so ``l’anxiété`` is indexed as ``l`` +
  ``anxiete``: the word alone matches, and a phrase typed with its article matches too. The
  body is the summary plus the Markdown body (the HTML when there is no Markdown); SQL
  cannot strip HTML, and a Python function in a trigger would break every other writer.
  FTS5 updates a whole row: a tag linked to a post re-indexes that post.
- PostgreSQL: ``tsvector`` columns in ``post_search`` under the ``relais_french`` text
  search configuration (french stemming after ``unaccent``); title weight A, tags B, body D,
  ranked by ``ts_rank_cd``. Tags have their own column, so linking a tag re-parses only the
  tags; a GIN index covers ``content || tags``. ``CREATE EXTENSION unaccent`` needs a
  superuser (or PostgreSQL 13+'s trusted extensions and CREATE on the database) the first
  time: run the migration as such a user, or create the extension beforehand.

The reader's text never reaches MATCH or a tsquery parser raw: the query arrives parsed
(:mod:`bot.domain.search`) and each word is quoted here, or bound as a parameter to
``phraseto_tsquery`` (which reads plain text, no operators).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import TextClause, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.search import Query, Term

TABLE = "post_search"
CONFIG = "relais_french"
WEIGHTS = (10.0, 4.0, 1.0)  # title, tags, body (bm25 column weights)
# SQLite ranks at most the RANK_WINDOW most recently stored matches. bm25 costs ~2 µs per match,
# so a word found in most of 100,000 posts would take 100+ ms to rank in full; FTS5 walks its
# matches newest first and stops at the window, so ranking stays bounded (bench/search.py).
# Past the window, an older post may be missed by a query that matches thousands of posts.
RANK_WINDOW = 5000

_TAGS_OF = ("(SELECT group_concat(display, ' ') FROM (SELECT t.display FROM post_tags pt JOIN tags t ON t.id = pt.tag_id "
            "WHERE pt.post_id = {post} ORDER BY pt.position, t.id))")
_SQLITE_BODY = "{p}.summary || ' ' || coalesce(nullif({p}.body_markdown, ''), {p}.body_html)"


def _sqlite_tags(post: str) -> str:
    return f"coalesce({_TAGS_OF.format(post=post)}, '')"


_VISIBLE = "{p}.deleted_at IS NULL AND {p}.status <> 'draft'"  # what readers may see


def _sqlite_index(p: str, source: str = "") -> str:
    """Index post ``p`` (a row alias: new, or p read from ``source``) if readers may see it."""
    return (f"INSERT INTO {TABLE} (rowid, title, tags, body) SELECT {p}.id, {p}.title, {_sqlite_tags(p + '.id')}, "
            f"{_SQLITE_BODY.format(p=p)} {source} WHERE {_VISIBLE.format(p=p)}")


SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE {TABLE} USING fts5(title, tags, body, tokenize = 'unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER post_search_insert AFTER INSERT ON posts BEGIN {_sqlite_index('new')}; END",
    f"""CREATE TRIGGER post_search_update
        AFTER UPDATE OF title, summary, body_markdown, body_html, status, deleted_at ON posts BEGIN
        DELETE FROM {TABLE} WHERE rowid = old.id; {_sqlite_index('new')}; END""",
    f"CREATE TRIGGER post_search_delete AFTER DELETE ON posts BEGIN DELETE FROM {TABLE} WHERE rowid = old.id; END",
    f"""CREATE TRIGGER post_search_link AFTER INSERT ON post_tags BEGIN
        UPDATE {TABLE} SET tags = {_sqlite_tags('new.post_id')} WHERE rowid = new.post_id; END""",
    f"""CREATE TRIGGER post_search_unlink AFTER DELETE ON post_tags BEGIN
        UPDATE {TABLE} SET tags = {_sqlite_tags('old.post_id')} WHERE rowid = old.post_id; END""",
    f"""CREATE TRIGGER post_search_relink AFTER UPDATE ON post_tags BEGIN
        UPDATE {TABLE} SET tags = {_sqlite_tags('old.post_id')} WHERE rowid = old.post_id;
        UPDATE {TABLE} SET tags = {_sqlite_tags('new.post_id')} WHERE rowid = new.post_id; END""",
    f"""CREATE TRIGGER post_search_tag_renamed AFTER UPDATE OF display ON tags BEGIN
        UPDATE {TABLE} SET tags = {_sqlite_tags(TABLE + '.rowid')}
        WHERE rowid IN (SELECT post_id FROM post_tags WHERE tag_id = new.id); END""",
    _sqlite_index("p", "FROM posts p"),
)
SQLITE_DROP = (
    *(f"DROP TRIGGER IF EXISTS post_search_{name}"
      for name in ("insert", "update", "delete", "link", "unlink", "relink", "tag_renamed")),
    f"DROP TABLE IF EXISTS {TABLE}",
)

_PG_BODY = ("NEW.summary || ' ' || coalesce(nullif(NEW.body_markdown, ''), "
            "regexp_replace(NEW.body_html, '<[^>]*>', ' ', 'g'))")
_PG_TAGS = ("setweight(to_tsvector('{config}', coalesce((SELECT string_agg(t.display, ' ' ORDER BY pt.position) "
            "FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = {post}), '')), 'B')")

POSTGRES_DDL = (
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = french)",
    f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem",
    f"""CREATE TABLE {TABLE} (
        post_id integer PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
        content tsvector NOT NULL DEFAULT ''::tsvector,
        tags tsvector NOT NULL DEFAULT ''::tsvector)""",
    f"CREATE INDEX ix_post_search_document ON {TABLE} USING gin ((content || tags))",
    f"""CREATE FUNCTION post_search_content() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        INSERT INTO {TABLE} (post_id, content) VALUES (NEW.id,
            setweight(to_tsvector('{CONFIG}', NEW.title), 'A') || setweight(to_tsvector('{CONFIG}', {_PG_BODY}), 'D'))
        ON CONFLICT (post_id) DO UPDATE SET content = EXCLUDED.content;
        RETURN NULL; END $$""",
    f"""CREATE FUNCTION post_search_tags_of(target integer) RETURNS void LANGUAGE sql AS $$
        UPDATE {TABLE} SET tags = {_PG_TAGS.format(config=CONFIG, post='target')} WHERE post_id = target $$""",
    """CREATE FUNCTION post_search_links() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF TG_OP <> 'INSERT' THEN PERFORM post_search_tags_of(OLD.post_id); END IF;
        IF TG_OP <> 'DELETE' THEN PERFORM post_search_tags_of(NEW.post_id); END IF;
        RETURN NULL; END $$""",
    """CREATE FUNCTION post_search_tag_renamed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        PERFORM post_search_tags_of(pt.post_id) FROM post_tags pt WHERE pt.tag_id = NEW.id;
        RETURN NULL; END $$""",
    """CREATE TRIGGER post_search_content AFTER INSERT OR UPDATE OF title, summary, body_markdown, body_html
        ON posts FOR EACH ROW EXECUTE FUNCTION post_search_content()""",
    "CREATE TRIGGER post_search_links AFTER INSERT OR UPDATE OR DELETE ON post_tags "
    "FOR EACH ROW EXECUTE FUNCTION post_search_links()",
    "CREATE TRIGGER post_search_tag_renamed AFTER UPDATE OF display ON tags FOR EACH ROW "
    "WHEN (OLD.display IS DISTINCT FROM NEW.display) EXECUTE FUNCTION post_search_tag_renamed()",
    f"""INSERT INTO {TABLE} (post_id, content, tags)
        SELECT p.id, setweight(to_tsvector('{CONFIG}', p.title), 'A')
               || setweight(to_tsvector('{CONFIG}', {_PG_BODY.replace('NEW.', 'p.')}), 'D'),
               {_PG_TAGS.format(config=CONFIG, post='p.id')}
        FROM posts p""",
)
POSTGRES_DROP = (  # CASCADE on the functions takes their triggers; works on a half-dropped schema too
    f"DROP TABLE IF EXISTS {TABLE}",
    "DROP FUNCTION IF EXISTS post_search_tag_renamed() CASCADE",
    "DROP FUNCTION IF EXISTS post_search_links() CASCADE",
    "DROP FUNCTION IF EXISTS post_search_tags_of(integer) CASCADE",
    "DROP FUNCTION IF EXISTS post_search_content() CASCADE",
    f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG}",  # the unaccent extension stays: others may use it
)


def create_index(connection: Connection) -> None:
    """Create the index, its triggers, and index the posts already stored (the migration's body)."""
    for statement in SQLITE_DDL if connection.dialect.name == "sqlite" else POSTGRES_DDL:
        connection.exec_driver_sql(statement)


def drop_index(connection: Connection) -> None:
    for statement in SQLITE_DROP if connection.dialect.name == "sqlite" else POSTGRES_DROP:
        connection.exec_driver_sql(statement)


def include_name(name: str | None, type_: str, parent_names: object = None) -> bool:
    """Alembic ``include_name``: leave the index's tables out of autogenerate (SQL makes them, not the models)."""
    return not (type_ == "table" and str(name or "").startswith(TABLE))


# --- queries

@dataclass(frozen=True, slots=True)
class Found:
    post_ids: tuple[int, ...]  # best first
    has_more: bool


_HAS_TAG = ("EXISTS (SELECT 1 FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = {post_id} "
            "AND (t.key = :{name} OR replace(replace(t.key, ' ', ''), '-', '') = :{name}_squashed))")


def _fts5_string(words: Sequence[str]) -> str:
    return '"' + " ".join(words).replace('"', '""') + '"'


def _fts5_term(term: Term) -> str:
    return _fts5_string(term.words) + (" *" if term.prefix else "")


def fts5_match(query: Query) -> str:
    """The FTS5 MATCH expression for a parsed query with at least one required term."""
    required = " AND ".join(_fts5_term(t) for t in query.required)
    if query.excluded:
        return f"({required}) NOT ({' OR '.join(_fts5_term(t) for t in query.excluded)})"
    return required


def _tsquery_lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _pg_term(term: Term, name: str, params: dict[str, object]) -> str:
    if term.prefix:
        params[name] = " <-> ".join(_tsquery_lexeme(w) for w in term.words) + ":*"
        expression = f"to_tsquery('{CONFIG}', :{name})"
    else:
        params[name] = term.text
        expression = f"phraseto_tsquery('{CONFIG}', :{name})"
    return f"tsquery_not({expression})" if term.negated else expression


def _tag_filters(query: Query, params: dict[str, object], post_id: str) -> list[str]:
    clauses = []
    for i, key in enumerate(query.tags):
        params[f"tag{i}"], params[f"tag{i}_squashed"] = key, key.replace(" ", "").replace("-", "")
        clauses.append(_HAS_TAG.format(name=f"tag{i}", post_id=post_id))
    return clauses


def _ranked(dialect: str, query: Query, params: dict[str, object]) -> TextClause:
    if dialect == "sqlite":  # only visible posts are indexed: no join to rank (it would cost 2-4×)
        params["match"], params["window"] = fts5_match(query), RANK_WINDOW - 1
        weights = ", ".join(str(w) for w in WEIGHTS)
        where = " AND ".join([f"{TABLE} MATCH :match", *_tag_filters(query, params, f"{TABLE}.rowid")])
        newest = f"SELECT rowid FROM {TABLE} WHERE {where} ORDER BY rowid DESC LIMIT 1 OFFSET :window"
        return text(f"SELECT rowid, bm25({TABLE}, {weights}) AS score FROM {TABLE} "
                    f"WHERE {where} AND rowid >= coalesce(({newest}), 0) "
                    "ORDER BY score, rowid DESC LIMIT :limit OFFSET :offset")
    tsquery = " && ".join(_pg_term(t, f"term{i}", params) for i, t in enumerate(query.terms))
    where = " AND ".join(["(s.content || s.tags) @@ q.query", _VISIBLE.format(p="p"), *_tag_filters(query, params, "p.id")])
    return text(f"SELECT p.id, -ts_rank_cd('{{0.1, 0.2, 0.4, 1.0}}', s.content || s.tags, q.query) AS score "
                f"FROM (SELECT {tsquery} AS query) q, {TABLE} s JOIN posts p ON p.id = s.post_id "
                f"WHERE {where} ORDER BY score, p.id DESC LIMIT :limit OFFSET :offset")


def _excluded(dialect: str, query: Query, params: dict[str, object]) -> list[str]:
    """Exclusions with no required word (``#IA -covid``): posts matching any of them are left out."""
    if not query.excluded:
        return []
    if dialect == "sqlite":
        params["excluded"] = " OR ".join(_fts5_term(t) for t in query.excluded)
        return [f"p.id NOT IN (SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH :excluded)"]
    unwanted = " || ".join(_pg_term(replace(t, negated=False), f"term{i}", params) for i, t in enumerate(query.excluded))
    return [f"NOT EXISTS (SELECT 1 FROM {TABLE} s WHERE s.post_id = p.id AND (s.content || s.tags) @@ ({unwanted}))"]


def _latest(dialect: str, query: Query, params: dict[str, object]) -> TextClause:
    where = " AND ".join([_VISIBLE.format(p="p"), *_tag_filters(query, params, "p.id"),
                          *_excluded(dialect, query, params)])
    return text(f"SELECT p.id FROM posts p WHERE {where} "
                "ORDER BY p.published_at DESC NULLS LAST, p.id DESC LIMIT :limit OFFSET :offset")


async def find(session: AsyncSession, query: Query, *, offset: int, limit: int) -> Found:
    """Visible posts matching ``query``, best first (newest first for a tag-only or blank query)."""
    if not query.understood:
        return Found((), False)
    params: dict[str, object] = {"limit": limit + 1, "offset": offset}
    dialect = session.get_bind().dialect.name
    statement = _ranked(dialect, query, params) if query.required else _latest(dialect, query, params)
    ids = tuple(row[0] for row in (await session.execute(statement, params)).all())
    return Found(ids[:limit], len(ids) > limit)
