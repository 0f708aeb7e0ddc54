"""`relais search` through the real entry point: the same results as the service."""

from __future__ import annotations

import json


def test_search_prints_ranked_pages_and_json(relais) -> None:
    assert relais("db", "upgrade")[0] == 0
    for title in ("La #télémédecine en Ehpad", "Télémédecine : le bilan", "Un brouillon sur la télémédecine"):
        status = "draft" if "brouillon" in title else "published"
        assert relais("post", "add", title, "--body", "<p>Retour d’expérience.</p>", "--status", status)[0] == 0
    code, out, _ = relais("search", "telemedecine", "--limit", "1", "--json")
    first = json.loads(out)
    assert code == 0 and first["has_more"] and len(first["results"]) == 1 and first["understood"]
    code, out, _ = relais("search", "TÉLÉMÉDECINE", "--limit", "1", "--page", "2", "--json")
    second = json.loads(out)
    assert not second["has_more"] and second["results"][0]["id"] != first["results"][0]["id"]
    assert {r["title"] for r in first["results"] + second["results"]} == {
        "La #télémédecine en Ehpad", "Télémédecine : le bilan"}  # never the draft
    code, out, _ = relais("search", "l’expérience", "#Télémédecine")
    assert code == 0 and "Ehpad" in out and "bilan" not in out


def test_search_answers_junk_and_empty_results(relais) -> None:
    assert relais("db", "upgrade")[0] == 0
    code, out, _ = relais("search", "*", "AND", '"')
    assert code == 0 and "not understood" in out
    code, out, _ = relais("search", "--", "-rien")
    assert code == 0 and "not understood" in out
    code, out, _ = relais("search", "introuvable")
    assert code == 0 and "No post matches" in out
