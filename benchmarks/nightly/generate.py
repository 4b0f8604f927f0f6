#!/usr/bin/env python3
"""Seeded generator of the nightly benchmark world (issue 13).

200 organisations, 2,000 teams and 20,000 investigations (a configuration directory for
`credits init`), N cost events for November 2026 as JSON Lines with Zipf-skewed use (organisations,
and investigations within each, weighted 1/rank), 3% repeated event ids (a fifth of them with other
content: conflicts), 0.1% malformed lines and attributes on the LLM events; and 100,000 Revolut
orders in the Merchant API JSON format (`{"orders": [...]}`, tied by metadata), mostly completed
payments of the configured packages at their price. Usage:

    python3 benchmarks/nightly/generate.py N OUT_DIR [--orders 100000] [--seed 13] [--config-only]

Writes OUT_DIR/config/*.yaml, OUT_DIR/config-budgets/*.yaml (the same with a soft budget on every
investigation), OUT_DIR/events.jsonl and OUT_DIR/orders.json; `--config-only` the two directories.
"""
import argparse
import bisect
import itertools
import json
import os
import random
import shutil

ORGANISATIONS, TEAMS_PER_ORG, INVESTIGATIONS_PER_ORG = 200, 10, 100
OPERATIONS = ["llm.completion", "embedding", "transcription", "ocr", "translation"]
MODELS = ["claude-sonnet", "gpt-4.1", "llama-3-70b"]
CURRENCIES = [("en-GB", "Europe/London", "GBP"), ("de-DE", "Europe/Berlin", "EUR"), ("en-US", "America/New_York", "USD")]
PACKAGES = {"pack_5k": {"GBP": 24000, "EUR": 28000, "USD": 30000}, "pack_10k": {"GBP": 45000, "EUR": 52000, "USD": 56000},
            "pack_50k": {"GBP": 200000, "EUR": 235000, "USD": 250000}}
MALFORMED = [
    '{"event_id":"bad-%d","organisation_id":"org-001","team":"org-001-t01",',
    '{"event_id":"bad-%d","organisation_id":"org-001","team":"org-001-t01","operation":"ocr","credits":-1,'
    '"occurred_at":"2026-11-02T10:00:00Z"}',
    '{"event_id":"bad-%d","organisation_id":"org-001","team":"org-001-t01","operation":"ocr","credits":1,'
    '"occurred_at":"2026-11-02T10:00:00"}',
]


def org_id(index):
    return f"org-{index + 1:03d}"


def write_config(out, budgets=False):
    """Writes OUT/config; with `budgets`, OUT/config-budgets: the same world with a soft monthly budget
    of 1,000,000 credits on each of its 20,000 investigations (what budgets cost a night at scale)."""
    config = os.path.join(out, "config-budgets" if budgets else "config")
    os.makedirs(config, exist_ok=True)
    fixtures = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "config")
    for name in ["issuer.yaml", "operations.yaml", "packages.yaml"]:
        shutil.copy(os.path.join(fixtures, name), config)
    with open(os.path.join(fixtures, "rate_cards.yaml")) as source, open(os.path.join(config, "rate_cards.yaml"), "w") as cards:
        cards.write(source.read().split("\norganisations:")[0] + "\n")  # the defaults; the fixture's overrides name its orgs
    with open(os.path.join(config, "plans.yaml"), "w") as plans:
        plans.write("- id: bench-monthly\n  name: Benchmark monthly\n  period: month\n  credits_per_period: 2000000\n"
                    "  rollover: false\n  prices:\n    GBP: \"1800.00\"\n    EUR: \"2100.00\"\n    USD: \"2300.00\"\n")
    with open(os.path.join(config, "organisations.yaml"), "w") as orgs:
        for index in range(ORGANISATIONS):
            locale, zone, _ = CURRENCIES[index % len(CURRENCIES)]
            org = org_id(index)
            orgs.write(f"- id: {org}\n  name: Organisation {index + 1}\n  locale: {locale}\n  time_zone: {zone}\n"
                       f"  plan: bench-monthly\n  plan_start: 2026-11-01\n  tax_rate_percent: \"20\"\n"
                       f"  payment_terms_days: 30\n  overdraft_limit: 100000\n"
                       f"  thresholds:\n    low_balance_percent: 10\n  teams:\n")
            for team in range(TEAMS_PER_ORG):
                orgs.write(f"    - {{id: {org}-t{team + 1:02d}, name: Team {team + 1}}}\n")
            orgs.write("  investigations:\n")
            for inv in range(INVESTIGATIONS_PER_ORG):
                status = ", status: closed" if inv % 50 == 49 else ""
                orgs.write(f"    - {{id: {org}-i{inv + 1:03d}, name: Investigation {inv + 1}, "
                           f"team: {org}-t{inv % TEAMS_PER_ORG + 1:02d}, priority: P{inv % 4 + 1}{status}}}\n")
            orgs.write("  reservations:\n    - {id: p1, credits: 20000, max_priority: P1}\n")
            if budgets:
                orgs.write("  budgets:\n")
                for inv in range(INVESTIGATIONS_PER_ORG):
                    orgs.write(f"    - {{scope: investigation, id: {org}-i{inv + 1:03d}, limit: 1000000, "
                               f"period: month, mode: soft}}\n")


def zipf_picker(rng, count):
    """Index in [0, count) with weight 1/(rank+1)."""
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(count)))
    total = cumulative[-1]
    return lambda: min(bisect.bisect_left(cumulative, rng.random() * total), count - 1)


def write_events(out, count, rng):
    pick_org, pick_inv = zipf_picker(rng, ORGANISATIONS), zipf_picker(rng, INVESTIGATIONS_PER_ORG)
    recent = []
    with open(os.path.join(out, "events.jsonl"), "w") as events:
        for index in range(count):
            roll = rng.random()
            if roll < 0.001:
                events.write(rng.choice(MALFORMED) % index + "\n")
                continue
            if roll < 0.031 and recent:
                event = json.loads(rng.choice(recent))
                if rng.random() < 0.2:  # the same id with other content: a conflict
                    event["credits"] = f"{float(event.get('credits', 1)) + 1:.2f}"
                events.write(json.dumps(event, separators=(",", ":")) + "\n")
                continue
            org = org_id(pick_org())
            inv = pick_inv()
            operation = rng.choice(OPERATIONS)
            minute = index * (30 * 24 * 60) // count
            event = {"event_id": f"evt-{index:08d}", "organisation_id": org,
                     "team": f"{org}-t{inv % TEAMS_PER_ORG + 1:02d}", "operation": operation,
                     "occurred_at": f"2026-11-{minute // 1440 + 1:02d}T{minute // 60 % 24:02d}:{minute % 60:02d}:"
                                    f"{rng.randrange(60):02d}Z",
                     "credits": f"{rng.randrange(5, 1200) / 100:.2f}"}
            if rng.random() < 0.9:
                event["investigation"] = f"{org}-i{inv + 1:03d}"
            if operation == "llm.completion":
                event["attributes"] = {"model": rng.choice(MODELS), "input_tokens": rng.randrange(100, 20000),
                                       "output_tokens": rng.randrange(10, 4000), "case_ref": f"CR-{rng.randrange(10**5):05d}"}
            line = json.dumps(event, separators=(",", ":"))
            events.write(line + "\n")
            recent.append(line)
            if len(recent) > 1000:
                recent.pop(0)


def write_orders(out, count, rng):
    with open(os.path.join(out, "orders.json"), "w") as orders:
        orders.write('{"orders": [\n')
        for index in range(count):
            org_index = rng.randrange(ORGANISATIONS)
            currency = CURRENCIES[org_index % len(CURRENCIES)][2]
            package = rng.choice(sorted(PACKAGES))
            amount = PACKAGES[package][currency]
            state = rng.choices(["completed", "pending", "failed", "cancelled"], [94, 2, 2, 2])[0]
            second = index * (29 * 24 * 3600) // count
            created = f"2026-11-{second // 86400 + 1:02d}T{second // 3600 % 24:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"
            order = {"id": f"ord-{index:07d}", "type": "payment", "state": state, "created_at": created,
                     "updated_at": created, "amount": amount, "currency": currency,
                     "outstanding_amount": 0 if state == "completed" else amount, "capture_mode": "automatic",
                     "description": "Credits pack",
                     "metadata": {"organisation_id": org_id(org_index), "package_id": package},
                     "merchant_order_data": {"reference": f"cpk-{index:07d}"}}
            orders.write(("," if index else "") + json.dumps(order, separators=(",", ":")) + "\n")
        orders.write("]}\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("events", type=int)
    parser.add_argument("out")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--config-only", action="store_true", help="write the two configuration directories only")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    write_config(args.out)
    write_config(args.out, budgets=True)
    if args.config_only:
        return
    write_events(args.out, args.events, rng)
    write_orders(args.out, args.orders, rng)


if __name__ == "__main__":
    main()
