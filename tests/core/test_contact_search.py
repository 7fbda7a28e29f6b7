"""`find`: accents and case folded, exact matches before word prefixes before in-word fragments, and the prefix
path read from an index, never a scan of the contacts table."""

import json

import psycopg
from sqlalchemy.dialects import postgresql

from core import db
from core.command import Actor, ContactRef
from core.contacts.commands import FindContacts, FindInEveryBank, ShowContact, UpdateContact
from core.contacts.search import find_queries, word_trigrams


async def _names(core, user, text):
    return [k.name for k in (await core.execute(FindContacts(Actor(user.id), text))).contacts]


async def test_find_folds_accents_and_case_both_ways(core, make):
    ana = await make.user()
    await make.contact(ana, "José Álvarez", organisation="Société Générale")
    await make.contact(ana, "Jose Smith")
    assert await _names(core, ana, "jose") == ["Jose Smith", "José Álvarez"]
    assert await _names(core, ana, "JOSÉ") == ["Jose Smith", "José Álvarez"]
    assert await _names(core, ana, "alvarez") == ["José Álvarez"]
    assert await _names(core, ana, "societe gen") == ["José Álvarez"]


async def test_find_ranks_exact_then_word_prefix_then_fragment(core, make):
    ana = await make.user()
    await make.contact(ana, "Diana Prince")
    await make.contact(ana, "Anabel Ortiz")
    await make.contact(ana, "Ana")
    await make.contact(ana, "Bob", organisation="Banana Corp")
    assert await _names(core, ana, "ana") == ["Ana", "Anabel Ortiz", "Bob", "Diana Prince"]


async def test_find_sees_an_edited_name_at_once(core, make):
    ana = await make.user()
    bob = await make.contact(ana, "Bob")
    await core.execute(UpdateContact(Actor(ana.id), ContactRef(id=bob.id), name="Zoë Quist"))
    assert await _names(core, ana, "zoe") == ["Zoë Quist"]
    assert await _names(core, ana, "bob") == []


def _plan_nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


async def test_the_prefix_path_reads_an_index_not_the_contacts_table(core, make, database_url):
    ana, zoe = await make.user(), await make.user()
    with psycopg.connect(db.libpq_url(database_url), autocommit=True) as conn:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO contacts (owner_id, name, email, organisation) VALUES (%s, %s, %s, %s)",
                [
                    (owner, f"Person{n} Surname{n % 97}", f"p{n}@firm{n % 53}.com", f"Firm {n % 53}")
                    for owner in (ana.id, zoe.id)
                    for n in range(3000)
                ],
            )
        conn.execute("ANALYZE contacts")
        prefix, _ = find_queries(ana.id, "surname4", 10)
        assert prefix is not None
        sql = str(prefix.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
        (plan,) = conn.execute("EXPLAIN (FORMAT JSON) " + sql).fetchone()
    nodes = list(_plan_nodes((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]))
    scans = [
        (n["Node Type"], n.get("Index Name"))
        for n in nodes
        if n.get("Relation Name") == "contacts" or "Index Name" in n
    ]
    assert ("Seq Scan", None) not in scans, scans
    assert any(name == "ix_contacts_search_words" for _, name in scans), scans


async def test_a_contact_named_by_part_of_its_name_folds_accents_and_case(core, make):
    ana = await make.user()
    await make.contact(ana, "José Álvarez")
    await make.contact(ana, "Bob Stone")
    shown = await core.execute(ShowContact(Actor(ana.id), ContactRef(text="alvarez")))
    assert shown.contact.name == "José Álvarez"
    shown = await core.execute(ShowContact(Actor(ana.id), ContactRef(text="JOSE ALVAREZ")))
    assert shown.contact.name == "José Álvarez"


async def test_the_golden_ticket_team_finds_in_every_bank_with_the_owner(core, make):
    from bot.console import ConsoleChat

    gita = await make.user("Gita Patel", role="golden_ticket")
    ana, carl = await make.user("Ana Lima"), await make.user("Carl Berg")
    jose = await make.contact(ana, "José Álvarez", email="jose@acme.example", organisation="Acme")
    await make.contact(carl, "Ana Alvarado", organisation="Globex")
    await make.contact(carl, "Bob Stone")
    out = await ConsoleChat(core, gita).send("find everyone alva")
    assert "2 matches for “alva” in everyone's contacts:" in out
    assert f"#{jose.id} José Álvarez (Acme) · jose@acme.example · Ana Lima's bank" in out
    assert "Ana Alvarado (Globex) · Carl Berg's bank" in out
    assert "Bob Stone" not in out
    assert "[1a]" not in out  # other banks' contacts get no buttons: the chat acts on one's own bank


async def test_a_consultant_searches_only_their_own_bank(core, make):
    from bot.console import ConsoleChat

    ana, carl = await make.user("Ana Lima"), await make.user("Carl Berg")
    await make.contact(carl, "José Álvarez")
    out = await ConsoleChat(core, ana).send("find everyone alva")
    assert "Only the Golden Ticket team can search everyone's contacts." in out
    assert "Álvarez" not in out
    assert "No contact in your bank matches" in await ConsoleChat(core, ana).send("find alva")


async def _everyone(core, user, text):
    return [m.contact.name for m in (await core.execute(FindInEveryBank(Actor(user.id), text))).matches]


async def test_the_golden_ticket_team_finds_a_rare_in_word_piece_in_a_crowded_account(core, make, database_url):
    gita = await make.user("Gita Patel", role="golden_ticket")
    ana, carl, dora = await make.user("Ana Lima"), await make.user("Carl Berg"), await make.user("Dora Sá")
    await make.contact(carl, "Helvaag Olsen", organisation="Nordea")  # in a word
    await make.contact(dora, "Bo Strand", organisation="Shelvaço")  # in a word of the organisation
    await make.contact(ana, "Élvaro Díaz")  # a word starts with it
    await make.contact(carl, "Elva")  # the whole name
    await make.contact(dora, "Bo Lund")
    with psycopg.connect(db.libpq_url(database_url), autocommit=True) as conn:
        # 12,000 warmer contacts come first in list order: the matches are past the contacts read in that order.
        conn.execute(
            "INSERT INTO contacts (owner_id, name, email, organisation, warmness)"
            " SELECT %s, 'Filler ' || g, 'filler' || g || '@acme.example', 'Acme', 5 FROM generate_series(1, 12000) g",
            (dora.id,),
        )
        conn.execute("ANALYZE contacts")
    assert await _everyone(core, gita, "ÉLVA") == ["Elva", "Élvaro Díaz", "Bo Strand", "Helvaag Olsen"]
    assert await _everyone(core, gita, "lvaa") == ["Helvaag Olsen"]
    assert await _everyone(core, gita, "HELVAC") == ["Bo Strand"]
    fillers = ["Filler 1199"] + [f"Filler 1199{n}" for n in range(9)]  # the whole name, then names starting so
    assert await _everyone(core, gita, "filler 1199") == fillers


NAMES = [("José Álvarez-Núñez", "Société Générale"), ("Zoë O'Brien", "3M Studio54"), ("Łukasz Weiß", "Ørsted A/S")]


def test_a_name_or_organisation_holding_the_text_has_every_trigram_the_search_asks_for(database_url):
    with psycopg.connect(db.libpq_url(database_url)) as conn:
        for name, organisation in NAMES:
            key = conn.execute("SELECT contact_fold(%s || E'\\n\\n' || %s)", (name, organisation)).fetchone()[0]
            held = set(conn.execute("SELECT contact_trigrams(%s)", (key,)).fetchone()[0])
            for field in (key.split("\n")[0], key.split("\n")[2]):
                for start in range(len(field)):
                    for end in range(start + 1, len(field) + 1):
                        text = field[start:end]
                        if text != text.strip():
                            continue  # the chat strips a text's ends
                        in_word = start > 0 and field[start - 1].isalnum()
                        assert set(word_trigrams(text, in_word=in_word)) <= held, (key, text)
