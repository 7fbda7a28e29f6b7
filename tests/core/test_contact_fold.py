"""contact_fold (what `find` compares, kept in contacts.search_key) gives the same text as migration 0021's
single translate, for every character that one folds and for the rest of the first 12,288 code points."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import psycopg
import pytest

from core import db

_MIGRATION = Path(__file__).parents[2] / "migrations" / "versions" / "2026_12_06_0025_contact_fold_fast.py"


def _letters() -> tuple[str, str]:
    spec = importlib.util.spec_from_file_location("contact_fold_fast", _MIGRATION)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._FROM, module._TO


@pytest.fixture
def conn(database_url):
    with psycopg.connect(db.libpq_url(database_url)) as connection:
        yield connection


def test_contact_fold_gives_what_the_single_translate_gave(conn):
    letters, folded = _letters()
    conn.execute(
        """CREATE TEMPORARY TABLE samples AS SELECT chr(n) AS value FROM generate_series(1, 12287) n
             WHERE n NOT BETWEEN 55296 AND 57343"""
    )
    conn.execute(
        """INSERT INTO samples
           SELECT string_agg(value, '' ORDER BY value) FROM (SELECT value, row_number() OVER () / 40 AS g FROM samples) s
            GROUP BY g"""
    )
    conn.execute(
        """INSERT INTO samples VALUES ('Ana Łukasiewicz' || E'\\n' || 'ANA@X.COM' || E'\\n' || 'Dupré SA'),
           ('İSTANBUL IŞIK Straße Æsir Œuvre ẞ'), (''), ('plain ASCII 123 !~')"""
    )
    original = (
        f"lower(replace(replace(replace(replace(replace(replace(translate(value, '{letters}', '{folded}'), "
        "'ß', 'ss'), 'Æ', 'ae'), 'æ', 'ae'), 'Œ', 'oe'), 'œ', 'oe'), 'ẞ', 'ss'))"
    )
    differ = conn.execute(
        f"SELECT value, contact_fold(value), {original} FROM samples WHERE contact_fold(value) IS DISTINCT FROM {original}"
    ).fetchall()
    assert differ == []
    assert conn.execute("SELECT count(*) FROM samples").fetchone()[0] > 12000
    assert conn.execute("SELECT contact_fold('ÀNA Łukasiewicz'), contact_fold(NULL)").fetchone() == (
        "ana lukasiewicz",
        None,
    )
