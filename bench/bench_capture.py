"""Benchmark: free text read as an interaction (`bot.capture.read_interaction`) against the labelled corpus.

    python -m bench.bench_capture [--failures]

Reads every line of tests/capture/corpus.yaml (English, French, German, Spanish, Portuguese, and lines that
are no interaction at all) at the corpus's reference moment and compares the reading with the line's label;
then the same for tests/capture/heldout.yaml, lines written after the reader was tuned on the corpus.

Per field, a prediction counts when the reader gave a value, and it is right when it equals the label;
precision = right / predicted, recall = right / labelled (the lines whose label has a value). For warm (a bool)
True counts as a value. The date is the follow-up day and the meeting's time together (a value when either is
given, right when both equal the label's). The reader always gives a note (the whole line when nothing
better), so the note is judged on the lines whose label lists keywords: right when every keyword appears in it,
and its precision equals its recall. A line is fully right when every field is, and a line that is no
interaction is right when the reader gives nothing. Speed: lines per second over the whole corpus once the
date parser is loaded (its first call, which loads its language data, is shown apart). `figures()` is what
`python -m bench` calls.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from bench.common import Figure, figure, machine, percentile, repeated
from bot.capture import InteractionReading, read_interaction

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "capture" / "corpus.yaml"
# Lines written after the reader was tuned on the corpus, and not tuned on.
HELD_OUT = CORPUS.with_name("heldout.yaml")
ZONE = ZoneInfo("Europe/Lisbon")
FIELDS = ("contact", "organisation", "method", "outcome", "date", "warm", "meeting", "note")
TARGET = 0.95


@dataclass(frozen=True)
class Line:
    language: str
    text: str
    label: dict


def load(path: Path = CORPUS) -> tuple[datetime, list[Line]]:
    corpus = yaml.safe_load(path.read_text(encoding="utf-8"))
    now = datetime.strptime(corpus["reference"], "%Y-%m-%d %H:%M").replace(tzinfo=ZONE)
    lines = [Line(language, item["text"], item) for language, items in corpus["lines"].items() for item in items]
    return now, lines


def expected(label: dict, today: date) -> dict[str, object]:
    """The label's value of each field (None, or False for warm, when it has none)."""
    if label.get("interaction", True) is False:
        return {field: (False if field == "warm" else None) for field in FIELDS}
    meeting = label.get("meeting")
    follow_up = today + timedelta(days=label["follow_up"]) if "follow_up" in label else None
    offset, _, clock = str(label.get("meeting_at") or "").partition(" ")
    meeting_at = (
        datetime.combine(today + timedelta(days=int(offset)), clock_time.fromisoformat(clock), tzinfo=ZONE)
        if clock
        else None
    )
    return {
        "contact": label.get("contact"),
        "organisation": label.get("organisation"),
        "method": label.get("method"),
        "outcome": label.get("outcome") or (f"meeting_{meeting}" if meeting else None),
        "date": (follow_up, meeting_at) if follow_up or meeting_at else None,
        "warm": label.get("warm", False),
        "meeting": meeting,
        "note": tuple(label.get("note", ())) or None,
    }


def given(reading: InteractionReading | None) -> dict[str, object]:
    if reading is None:
        return {field: (False if field == "warm" else None) for field in FIELDS}
    when = (reading.follow_up, reading.meeting_at)
    return {
        "contact": reading.contact,
        "organisation": reading.organisation,
        "method": reading.method,
        "outcome": reading.outcome,
        "date": when if any(when) else None,
        "warm": reading.warm,
        "meeting": reading.meeting,
        "note": reading.note or None,
    }


def judge(line: Line, reading: InteractionReading | None, today: date) -> dict[str, tuple[bool, bool, bool]]:
    """Per field: (predicted, labelled, right)."""
    want, got = expected(line.label, today), given(reading)
    verdicts = {}
    for field in FIELDS:
        if field == "note":
            labelled = want["note"] is not None
            right = (
                labelled
                and got["note"] is not None
                and all(k.casefold() in got["note"].casefold() for k in want["note"])
            )  # type: ignore[union-attr]
            verdicts[field] = (labelled and got["note"] is not None, labelled, right)
        else:
            predicted, labelled = got[field] not in (None, False), want[field] not in (None, False)
            verdicts[field] = (predicted, labelled, predicted and got[field] == want[field])
    return verdicts


def fully_right(line: Line, reading: InteractionReading | None, verdicts: dict[str, tuple[bool, bool, bool]]) -> bool:
    if line.label.get("interaction", True) is False:
        return reading is None
    return reading is not None and all(
        right or not (predicted or labelled) for predicted, labelled, right in verdicts.values()
    )


@dataclass(frozen=True)
class Score:
    counts: dict[str, Counter]
    right_lines: int
    by_language: dict[str, tuple[int, int]]
    failures: list[str]
    lines: int

    def precision(self, field: str) -> float:
        return self.counts[field]["right"] / max(self.counts[field]["predicted"], 1)

    def recall(self, field: str) -> float:
        return self.counts[field]["right"] / max(self.counts[field]["labelled"], 1)


def score(now: datetime, lines: list[Line]) -> Score:
    counts: dict[str, Counter] = {field: Counter() for field in FIELDS}
    languages: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    failures, right_lines = [], 0
    for line in lines:
        reading = read_interaction(line.text, now)
        verdicts = judge(line, reading, now.date())
        for field, (predicted, labelled, right) in verdicts.items():
            counts[field].update(predicted=predicted, labelled=labelled, right=right)
        ok = fully_right(line, reading, verdicts)
        right_lines += ok
        languages[line.language][0] += ok
        languages[line.language][1] += 1
        if not ok:
            wrong = [f for f, (p, la, r) in verdicts.items() if not r and (p or la)] or ["interaction"]
            failures.append(f"[{line.language}] {line.text!r}: {', '.join(wrong)}")
    by_language = {language: (right, total) for language, (right, total) in languages.items()}
    return Score(counts, right_lines, by_language, failures, len(lines))


def timing(now: datetime, lines: list[Line]) -> tuple[float, list[float]]:
    """Lines per second over the corpus, and each line's time in ms (the date parser already loaded)."""
    per_line = []
    started = time.perf_counter()
    for line in lines:
        t0 = time.perf_counter()
        read_interaction(line.text, now)
        per_line.append((time.perf_counter() - t0) * 1000)
    return len(lines) / (time.perf_counter() - started), per_line


def first_call_ms(now: datetime) -> float:
    t0 = time.perf_counter()
    read_interaction("coffee with Ana, follow up in 3 weeks", now)
    return (time.perf_counter() - t0) * 1000


def shares(result: Score) -> str:
    return ", ".join(f"{language} {right}/{total}" for language, (right, total) in result.by_language.items())


def figures(quick: bool, runs: int = 3) -> list[Figure]:
    now, lines = load()
    cold = first_call_ms(now)
    result = score(now, lines)

    def once(run: int) -> dict[str, float]:
        rate, per_line = timing(now, lines)
        return {"rate": rate, "p95": percentile(per_line, 95)}

    speed = repeated(runs, once)
    held_out = score(*load(HELD_OUT))
    first_read = "; ".join(yaml.safe_load(HELD_OUT.read_text(encoding="utf-8"))["first_read"])
    rows = [
        Figure(
            f"lines read fully right ({result.lines} labelled lines in 5 languages)",
            100 * result.right_lines / result.lines,
            "%",
            target=f"≥ {TARGET:.0%}",
            met=result.right_lines / result.lines >= TARGET,
            note=shares(result),
        )
    ]
    for field in FIELDS:
        c = result.counts[field]
        rows.append(
            Figure(
                f"  {field}: precision",
                100 * result.precision(field),
                "%",
                note=f"recall {result.recall(field):.1%} ({c['right']} right, {c['predicted']} given, "
                f"{c['labelled']} labelled)",
            )
        )
    rows += [
        Figure(
            f"held-out lines read fully right ({held_out.lines} lines written after the tuning)",
            100 * held_out.right_lines / held_out.lines,
            "%",
            note=f"{shares(held_out)}; when first read, before the reader was changed for them: {first_read}",
        ),
        figure(speed, "rate", "lines read per second", "/s"),
        figure(speed, "p95", "  one line, p95", "ms"),
        Figure("  the first line (loads the date parser's languages)", cold, "ms"),
    ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", action="store_true", help="list the lines not read fully right")
    args = parser.parse_args()
    now, lines = load()
    cold = first_call_ms(now)
    rate, per_line = timing(now, lines)
    print(f"bench_capture: {machine()}")
    for name, path in (("corpus", CORPUS), ("held-out lines", HELD_OUT)):
        result = score(*load(path))
        share = result.right_lines / result.lines
        print(f"\n{name} ({path.name}, {result.lines} lines)")
        print(f"{'field':<14}{'precision':>10}{'recall':>10}{'predicted':>11}{'labelled':>10}{'right':>8}")
        for field in FIELDS:
            c = result.counts[field]
            print(
                f"{field:<14}{result.precision(field):>10.1%}{result.recall(field):>10.1%}"
                f"{c['predicted']:>11}{c['labelled']:>10}{c['right']:>8}"
            )
        print(
            f"fully right: {result.right_lines}/{result.lines} = {share:.1%} "
            f"(target ≥ {TARGET:.0%}: {'met' if share >= TARGET else 'MISSED'}); {shares(result)}"
        )
        if args.failures:
            print("\n".join(result.failures))
    print(
        f"\nspeed: {rate:,.0f} lines/s; one line p50 {percentile(per_line, 50):.2f} ms, "
        f"p95 {percentile(per_line, 95):.2f} ms; the first line {cold:.0f} ms (loads the date parser)"
    )


if __name__ == "__main__":
    main()
