"""`pipedriven cadences` as a user runs it: a real process, a real database, exit codes and output."""


def test_cadences_cli_creates_a_strategy_starts_it_and_shows_the_due_step(cli):
    assert cli("users", "add", "ana@example.com", "--name", "Ana Silva").returncode == 0
    assert cli("console", "--as", "ana@example.com", stdin="add Bob Stone, bob@acme.com, Acme\n").returncode == 0
    ana = ("cadences", "--as", "ana@example.com")
    listed = cli("cadences", "list")
    assert listed.returncode == 0 and "Warm intro (built in) — LinkedIn → email +3d → call +4d" in listed.stdout
    assert "Cadence “Post demo” created" in cli(*ana, "new", "Post demo").stdout
    added = cli(
        *ana,
        "add-step",
        "Post demo",
        "--days",
        "0",
        "--kind",
        "email",
        "--subject",
        "Thanks {{contact.first_name}}",
        "--message",
        "Hi {{contact.first_name}},\nthanks.",
    )
    assert added.returncode == 0 and "Step 1 added to “Post demo”." in added.stdout
    refused = cli(*ana, "add-step", "Post demo", "--days", "1", "--kind", "call", "--message", "{{ ''.__class__ }}")
    assert refused.returncode == 1 and "code between {{ and }} is not allowed" in refused.stderr
    assert "Traceback" not in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    started = cli(*ana, "start", "Post demo", "--contact", "bob")
    assert "▶ “Post demo” started for Bob Stone: step 1/1 (email) due now." in started.stdout
    due = cli(*ana, "due")
    assert "step 1/1 of Post demo: email due\n✉️ Subject: Thanks Bob\nHi Bob,\nthanks." in due.stdout
    stats = cli("cadences", "stats")
    assert (
        "Post demo                  1        0" in stats.stdout
        and "Post demo, step 1 (Email): 1 waiting" in stats.stdout
    )
    shown = cli("cadences", "show", "post demo")
    assert "1. Email, at the start\n   Subject: Thanks {{contact.first_name}}" in shown.stdout


def test_cadences_cli_needs_a_user_to_act(cli):
    result = cli("cadences", "new", "X")
    assert result.returncode == 1 and "add --as EMAIL" in result.stderr
