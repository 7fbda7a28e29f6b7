"""`find everyone` at account scale: a GIN index of the trigrams inside the words of the contacts' names and
organisations (in-word pieces found across every bank without pg_trgm), and the list-order index carrying
search_key, so that the first contacts in list order are matched from the index alone.

contact_trigrams(search_key) holds the trigrams of the letters of each word of the name and the organisation,
its first letter left out (a trigram starting a word is a word prefix, which ix_contacts_search_words finds):
those are the trigrams any piece found inside such a word has, so a search asks the index for the text's
trigrams (`@>`) and checks the few rows it returns. Emails and digits are left out: with them the index cost
twice as much to keep on every write (100,000 contacts written: 3.2–4.3 s of PostgreSQL CPU instead of 1.9 s),
for pieces rarely looked for inside an email.

Revision ID: 0027
Revises: 0026
"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        r"""
        CREATE FUNCTION contact_trigrams(search_key text) RETURNS text[]
        LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT
        AS $$
        DECLARE
            piece text;
            found text[] := '{}';
            n int := 0;
        BEGIN
            FOREACH piece IN ARRAY regexp_split_to_array(
                regexp_replace(split_part(search_key, E'\n', 1) || ' ' || split_part(search_key, E'\n', 3),
                               '(^|[^a-z0-9])[a-z0-9]', '\1 ', 'g'),
                '[^a-z]+')
            LOOP
                FOR i IN 1 .. length(piece) - 2 LOOP
                    n := n + 1;
                    found[n] := substr(piece, i, 3);
                END LOOP;
            END LOOP;
            RETURN found;
        END
        $$
        """
    )
    op.execute("CREATE INDEX ix_contacts_search_word_trigrams ON contacts USING gin (contact_trigrams(search_key))")
    op.execute("DROP INDEX ix_contacts_listed")
    op.execute(
        "CREATE INDEX ix_contacts_listed ON contacts (warmness DESC, name, id) INCLUDE (search_key)"
        " WHERE archived_at IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_contacts_listed")
    op.execute("CREATE INDEX ix_contacts_listed ON contacts (warmness DESC, name, id) WHERE archived_at IS NULL")
    op.execute("DROP INDEX ix_contacts_search_word_trigrams")
    op.execute("DROP FUNCTION contact_trigrams(text)")
