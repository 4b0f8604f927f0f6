#!/usr/bin/env python3
"""Seeded cost-event generator for the ingest benchmark (issue 3).

    python3 benchmarks/generate_events.py --events 1000000 --seed 42 --out benchmarks/data/events-1m.jsonl [--gzip]

Organisations, teams and investigations are those of fixtures/config, so every well-formed event
stages. About 3% of lines repeat an earlier event exactly (duplicates) and about 0.1% are malformed
(truncated lines), so a run exercises every outcome. The seed is printed; the same seed gives the
same bytes. Output goes under benchmarks/data/ (git-ignored).
"""
import argparse, gzip, json, random, sys

ORGS = {
    "met-police": [("cyber-crime", "op-kestrel"), ("child-protection", "op-nightjar"), ("fraud", "op-larch")],
    "nca": [("organised-crime", "op-venetic"), ("border", "op-harbour"), ("organised-crime", "op-ledger")],
    "europol-ec3": [("j-cat", "op-endgame"), ("dark-web", "op-spector"), ("j-cat", "op-cookie")],
    "fbi-cyber": [("ransomware", "op-duck-hunt"), ("ransomware", "op-hive")],
    "gchq-lab": [("research", "proj-aurora")],
}
OPERATIONS = [("llm.completion", "1k_tokens"), ("transcription", "minute"), ("ocr", "page"), ("embedding", "1k_tokens")]


def event(rng, index):
    org = rng.choice(list(ORGS))
    team, investigation = rng.choice(ORGS[org])
    operation, unit = rng.choice(OPERATIONS)
    record = {"event_id": f"evt_{index:09d}", "organisation_id": org, "team": team}
    if rng.random() < 0.85:
        record["investigation"] = investigation
    record["operation"] = operation
    if rng.random() < 0.7:
        record["credits"] = rng.randint(1, 400) if rng.random() < 0.5 else f"{rng.randint(0, 90)}.{rng.randint(1, 99):02d}"
    else:
        record["quantity"] = rng.randint(1, 500)
        record["unit"] = unit
    day, second = rng.randint(1, 28), rng.randint(0, 86399)
    record["occurred_at"] = f"2026-11-{day:02d}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"
    if operation == "llm.completion":
        record["attributes"] = {"model": rng.choice(["gpt-4.1", "claude-sonnet-4"]), "tokens": rng.randint(10, 9000)}
    return json.dumps(record, separators=(",", ":"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", required=True)
    parser.add_argument("--gzip", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"seed {args.seed}", file=sys.stderr)
    opener = (lambda p: gzip.open(p, "wt", compresslevel=6)) if args.gzip else (lambda p: open(p, "w"))
    recent = []
    with opener(args.out) as out:
        for index in range(args.events):
            roll = rng.random()
            if roll < 0.03 and recent:
                line = rng.choice(recent)
            elif roll < 0.031:
                line = event(rng, index)[: rng.randint(5, 60)]
            else:
                line = event(rng, index)
                recent.append(line)
                if len(recent) > 1000:
                    recent.pop(0)
            out.write(line + "\n")


if __name__ == "__main__":
    main()
