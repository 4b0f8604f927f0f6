#!/usr/bin/env python3
"""Seeded cost-event generator for benchmarks.

Writes N events as JSON Lines for the organisations in fixtures/config, with about 3% duplicates
(exact repeats of earlier events) and about 0.1% malformed lines, and a CSV of the same valid rows
for the `sqlite3 .import` baseline. Usage:

    python3 benchmarks/generate_events.py N OUT.jsonl [--csv OUT.csv] [--seed 1]
"""
import argparse
import json
import random

ORGANISATIONS = {
    "met-police": {"cyber-crime": ["op-kestrel"], "child-protection": ["op-nightjar"], "fraud": ["op-larch", None]},
    "nca": {"organised-crime": ["op-venetic", "op-ledger"], "border": ["op-harbour"]},
    "europol-ec3": {"j-cat": ["op-endgame", "op-cookie"], "dark-web": ["op-spector"]},
    "fbi-cyber": {"ransomware": ["op-duck-hunt", "op-hive"]},
    "gchq-lab": {"research": ["proj-aurora"]},
}
OPERATIONS = ["llm.completion", "transcription", "ocr", "embedding", "translation"]
MALFORMED = [
    '{"event_id":"bad","organisation_id":"nca","team":"border",',
    '{"event_id":"bad-credits","organisation_id":"nca","team":"border","operation":"ocr","credits":-1,'
    '"occurred_at":"2026-11-02T10:00:00Z"}',
    '{"event_id":"bad-time","organisation_id":"nca","team":"border","operation":"ocr","credits":1,'
    '"occurred_at":"2026-11-02T10:00:00"}',
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int)
    parser.add_argument("output")
    parser.add_argument("--csv")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    organisations = sorted(ORGANISATIONS)
    recent = []
    csv = open(args.csv, "w") if args.csv else None
    if csv:
        csv.write("event_id,organisation_id,team,investigation,operation,credits,occurred_at\n")
    with open(args.output, "w") as out:
        for index in range(args.count):
            roll = rng.random()
            if roll < 0.001:
                out.write(rng.choice(MALFORMED).replace('"bad', f'"bad-{index}') + "\n")
                continue
            if roll < 0.031 and recent:
                out.write(rng.choice(recent) + "\n")
                continue
            organisation = rng.choice(organisations)
            team = rng.choice(sorted(ORGANISATIONS[organisation]))
            investigation = rng.choice(ORGANISATIONS[organisation][team])
            day = 1 + index * 27 // max(args.count, 1)
            event = {
                "event_id": f"evt_{index:09d}", "organisation_id": organisation, "team": team,
                "operation": rng.choice(OPERATIONS), "credits": rng.choice([1, 2, 5, 12, 25, 40]),
                "occurred_at": f"2026-11-{day:02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z",
                "attributes": {"model": "gpt-4.1", "case_ref": f"CR-{rng.randrange(10**5):05d}"},
            }
            if investigation:
                event["investigation"] = investigation
            line = json.dumps(event, separators=(",", ":"))
            out.write(line + "\n")
            recent.append(line)
            if len(recent) > 1000:
                recent.pop(0)
            if csv:
                csv.write(f'{event["event_id"]},{organisation},{team},{investigation or ""},{event["operation"]},'
                          f'{event["credits"]},{event["occurred_at"]}\n')
    if csv:
        csv.close()


if __name__ == "__main__":
    main()
