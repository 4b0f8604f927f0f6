#!/usr/bin/env python3
"""Builds the report benchmark's ledger: N organisations x November 2026 x T transfers.

Configuration goes through `credits init` (so the schema and configuration are the product's
own); the transfers are bulk-inserted with SQL in the shape the Ledger posts them (one
allocation grant per organisation, then deductions drawing from it with the cumulative
half-even cost rule), because posting a million transfers through `credits` needs the ingest
stage. `credits ledger verify` passes on the result. Output stays in benchmarks/data/ (ignored).

    benchmarks/report/generate.py --credits .build/release/credits [--organisations 100]
        [--transfers 1000000] [--out benchmarks/data] [--seed 42]
"""
import argparse
import hashlib
import os
import random
import shutil
import sqlite3
import subprocess

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "config")
NOVEMBER_START_MS = 1_793_491_200_000  # 2026-11-01T00:00:00Z (London is on GMT in November)
NOVEMBER_MS = 30 * 86_400_000
ALLOCATION_MICRO = 1_000_000 * 1_000_000  # 1,000,000 credits
ALLOCATION_PRICE_MINOR = 4_500_000  # GBP 45,000.00
TEAMS = ["analysis", "cyber", "fraud", "intel", "forensics"]
OPERATIONS = ["llm.completion", "transcription", "ocr", "embedding"]


def organisations_yaml(count):
    entries = []
    for index in range(count):
        org = f"org-{index:03d}"
        investigations = "\n".join(
            f"    - {{id: op-{i}, name: Operation {i}, team: {TEAMS[i % 5]}, priority: P{1 + i % 4}}}"
            for i in range(10))
        teams = "\n".join(f"    - {{id: {team}, name: Team {team}}}" for team in TEAMS)
        entries.append(f"""- id: {org}
  name: Organisation {index}
  locale: en-GB
  time_zone: Europe/London
  tax_rate_percent: "20"
  payment_terms_days: 30
  overdraft_limit: 0
  invoice:
    legal_name: Organisation {index} Ltd
    address: [{index} Benchmark Street, London]
  teams:
{teams}
  investigations:
{investigations}
""")
    return "\n".join(entries)


def write_config(directory, organisations):
    os.makedirs(directory, exist_ok=True)
    for name in ["issuer.yaml", "plans.yaml", "packages.yaml"]:
        shutil.copy(os.path.join(FIXTURES, name), os.path.join(directory, name))
    with open(os.path.join(directory, "rate_cards.yaml"), "w") as file:
        file.write("default:\n  - {operation: ocr, unit: page, credits_per_unit: \"0.4\"}\n")
    with open(os.path.join(directory, "organisations.yaml"), "w") as file:
        file.write(organisations_yaml(organisations))


def round_half_even(numerator, denominator):
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def key_hash(key):
    return hashlib.sha256(key.encode()).hexdigest()


def load(db_path, organisations, transfers, seed):
    rng = random.Random(seed)
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA synchronous = OFF")
    per_org = (transfers - organisations) // organisations
    for index in range(organisations):
        load_organisation(db, rng, f"org-{index:03d}", per_org)
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def load_organisation(db, rng, org, deductions):
    account = f"org:{org}"
    key = f"allocation:{org}:2026-11"
    cursor = db.execute(
        """INSERT INTO transfers (idempotency_key, content_hash, kind, debit_account, credit_account, amount,
               organisation_id, money_minor, currency, effective_at, recorded_at, plan_period, memo)
           VALUES (?, ?, 'allocation', 'system:issuance', ?, ?, ?, ?, 'GBP', ?, ?, '2026-11', 'benchmark')""",
        (key, key_hash(key), account, ALLOCATION_MICRO, org, ALLOCATION_PRICE_MINOR, NOVEMBER_START_MS,
         NOVEMBER_START_MS))
    grant_transfer = cursor.lastrowid
    cursor = db.execute(
        """INSERT INTO grants (organisation_id, source, transfer_id, credits, remaining, priority, expires_at,
               granted_at, cost_minor, currency) VALUES (?, 'allocation', ?, ?, ?, 20, NULL, ?, ?, 'GBP')""",
        (org, grant_transfer, ALLOCATION_MICRO, ALLOCATION_MICRO, NOVEMBER_START_MS, ALLOCATION_PRICE_MINOR))
    grant_id = cursor.lastrowid
    times = sorted(NOVEMBER_START_MS + 60_000 + rng.randrange(NOVEMBER_MS - 120_000) for _ in range(deductions))
    drawn = 0
    cost_so_far = 0
    for number, at in enumerate(times):
        micro = rng.randrange(5, 500) * 100_000  # 0.5 to 49.9 credits
        drawn += micro
        cumulative = round_half_even(ALLOCATION_PRICE_MINOR * drawn, ALLOCATION_MICRO)
        cost = cumulative - cost_so_far
        cost_so_far = cumulative
        event = f"evt-{org}-{number:06d}"
        key = f"deduction:cost-event:{event}"
        investigation = None if number % 7 == 0 else f"op-{number % 10}"
        cursor = db.execute(
            """INSERT INTO transfers (idempotency_key, content_hash, kind, debit_account, credit_account, amount,
                   organisation_id, money_minor, currency, effective_at, recorded_at, cost_event_id, team,
                   investigation, operation)
               VALUES (?, ?, 'deduction', ?, 'system:consumption', ?, ?, ?, 'GBP', ?, ?, ?, ?, ?, ?)""",
            (key, key_hash(key), account, micro, org, cost, at, at, event, TEAMS[number % 5], investigation,
             OPERATIONS[number % 4]))
        db.execute("INSERT INTO grant_draws (transfer_id, organisation_id, grant_id, credits, cost_minor) "
                   "VALUES (?, ?, ?, ?, ?)", (cursor.lastrowid, org, grant_id, micro, cost))
    db.execute("UPDATE grants SET remaining = remaining - ? WHERE id = ?", (drawn, grant_id))
    db.execute("UPDATE accounts SET credits_posted = credits_posted + ?, debits_posted = debits_posted + ? "
               "WHERE id = ?", (ALLOCATION_MICRO, drawn, account))
    db.execute("UPDATE accounts SET debits_posted = debits_posted + ? WHERE id = 'system:issuance'",
               (ALLOCATION_MICRO,))
    db.execute("UPDATE accounts SET credits_posted = credits_posted + ? WHERE id = 'system:consumption'", (drawn,))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credits", required=True, help="the credits binary (a release build)")
    parser.add_argument("--organisations", type=int, default=100)
    parser.add_argument("--transfers", type=int, default=1_000_000)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "data"))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    config = os.path.join(args.out, "config")
    db_path = os.path.join(args.out, "report-bench.sqlite")
    for suffix in ["", "-wal", "-shm"]:
        if os.path.exists(db_path + suffix):
            os.remove(db_path + suffix)
    write_config(config, args.organisations)
    subprocess.run([args.credits, "init", "--config", config, "--db", db_path], check=True)
    load(db_path, args.organisations, args.transfers, args.seed)
    print(db_path)


if __name__ == "__main__":
    main()
