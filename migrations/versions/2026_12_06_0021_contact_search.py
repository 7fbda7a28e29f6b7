"""contact search: a folded search key per contact (accents and case folded, kept by PostgreSQL itself as a stored
generated column, so no writer can forget it), a GIN index of its words for word-prefix finds, and — where the
server has pg_trgm — a trigram index for in-word fragments.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# Each letter of _FROM becomes the letter of _TO in its place: accents dropped, capitals lowered.
_FROM = "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžſƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳØøĐđŁłĦħıABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TO = "aaaaaaceeeeiiiinooooouuuuyaaaaaaceeeeiiiinooooouuuuyyaaaaaaccccccccddeeeeeeeeeegggggggghhiiiiiiiiijjkkllllllnnnnnnoooooorrrrrrssssssssttttuuuuuuuuuuuuwwyyyzzzzzzsoouuaaiioouuuuuuuuuuaaaaggkkoooojggnnaaaaaaeeeeiiiioooorrrruuuusstthhaaeeooooooooyyooddllhhiabcdefghijklmnopqrstuvwxyz"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION contact_fold(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT
        AS $$ SELECT lower(replace(replace(replace(replace(replace(replace(translate(value, '{_FROM}', '{_TO}'),
            'ß', 'ss'), 'Æ', 'ae'), 'æ', 'ae'), 'Œ', 'oe'), 'œ', 'oe'), 'ẞ', 'ss')) $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION contact_words(search_key text) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT
        AS $$ SELECT to_tsvector('simple'::regconfig, regexp_replace(search_key, '[^a-z0-9]+', ' ', 'g')) $$
        """
    )
    op.add_column(
        "contacts",
        sa.Column(
            "search_key",
            sa.Text(),
            sa.Computed(
                "contact_fold(coalesce(name, '') || E'\\n' || coalesce(email, '') || E'\\n' || coalesce(organisation, ''))",
                persisted=True,
            ),
            nullable=False,
        ),
    )
    op.execute("CREATE INDEX ix_contacts_search_words ON contacts USING gin (contact_words(search_key))")
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError:
        return  # no pg_trgm on this server: in-word fragments are found by a scan of the user's own contacts
    op.execute("CREATE INDEX ix_contacts_search_trigrams ON contacts USING gin (search_key gin_trgm_ops)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_contacts_search_trigrams")
    op.drop_index("ix_contacts_search_words", table_name="contacts")
    op.drop_column("contacts", "search_key")
    op.execute("DROP FUNCTION contact_words(text)")
    op.execute("DROP FUNCTION contact_fold(text)")
