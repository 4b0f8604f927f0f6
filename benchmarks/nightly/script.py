#!/usr/bin/env python3
"""The plain script finance would otherwise write: the yardstick for the nightly job (issue 13).

Parses the cost events (JSON Lines), skips malformed lines, dedupes by event id (the first wins; a
repeat with other content is counted as a conflict), credits each organisation its plan allocation
and its completed Revolut orders, and keeps per-organisation balances in SQLite, all in one
transaction. Then writes per-team and per-investigation CSVs and one XLSX (XlsxWriter, constant
memory). Usage:

    python3 benchmarks/nightly/script.py WORLD_DIR OUT_DIR
"""
import csv
import hashlib
import json
import os
import sqlite3
import sys
from decimal import Decimal, InvalidOperation

import xlsxwriter

MICRO = Decimal(1_000_000)
ALLOCATION = 2_000_000  # bench-monthly, credits per period
PACKAGES = {"pack_5k": 5_000, "pack_10k": 10_000, "pack_50k": 50_000}
REQUIRED = ("event_id", "organisation_id", "team", "operation", "occurred_at", "credits")


def micro(value):
    amount = Decimal(str(value))
    if amount < 0 or amount != amount.quantize(Decimal("0.000001")):
        raise InvalidOperation(value)
    return int(amount * MICRO)


def parse_events(path):
    """Yields valid, first-seen events; returns counts of malformed lines, duplicates, conflicts."""
    seen, counts = {}, {"malformed": 0, "duplicates": 0, "conflicts": 0}
    events = []
    with open(path, "rb") as lines:
        for number, line in enumerate(lines, 1):
            try:
                event = json.loads(line)
                if not all(key in event for key in REQUIRED) or not event["occurred_at"].endswith("Z"):
                    raise ValueError("missing field")
                credits = micro(event["credits"])
            except (ValueError, InvalidOperation, TypeError, AttributeError):
                counts["malformed"] += 1
                continue
            digest = hashlib.sha256(line.strip()).digest()
            earlier = seen.get(event["event_id"])
            if earlier is not None:
                counts["duplicates" if earlier == digest else "conflicts"] += 1
                continue
            seen[event["event_id"]] = digest
            events.append((event["event_id"], event["organisation_id"], event["team"], event.get("investigation") or "",
                           event["operation"], event["occurred_at"][:10], credits))
    return events, counts


def completed_orders(path):
    with open(path) as orders:
        for order in json.load(orders)["orders"]:
            if order.get("type") == "payment" and order.get("state") == "completed":
                metadata = order.get("metadata") or {}
                if metadata.get("package_id") in PACKAGES:
                    yield order["id"], metadata["organisation_id"], PACKAGES[metadata["package_id"]] * 1_000_000


def main():
    world, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    events, counts = parse_events(os.path.join(world, "events.jsonl"))
    database = os.path.join(out, "balances.sqlite")
    if os.path.exists(database):
        os.remove(database)
    db = sqlite3.connect(database)
    with db:  # one transaction
        db.executescript("""
            CREATE TABLE events (event_id TEXT PRIMARY KEY, organisation_id TEXT NOT NULL, team TEXT NOT NULL,
                investigation TEXT NOT NULL, operation TEXT NOT NULL, day TEXT NOT NULL, credits INTEGER NOT NULL);
            CREATE TABLE top_ups (order_id TEXT PRIMARY KEY, organisation_id TEXT NOT NULL, credits INTEGER NOT NULL);
            CREATE TABLE balances (organisation_id TEXT PRIMARY KEY, allocated INTEGER NOT NULL,
                topped_up INTEGER NOT NULL, used INTEGER NOT NULL, balance INTEGER NOT NULL);
        """)
        db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)", events)
        db.executemany("INSERT INTO top_ups VALUES (?, ?, ?)", completed_orders(os.path.join(world, "orders.json")))
        db.execute("""
            INSERT INTO balances
            SELECT o.organisation_id, ?, COALESCE(t.credits, 0), COALESCE(u.credits, 0),
                   ? + COALESCE(t.credits, 0) - COALESCE(u.credits, 0)
            FROM (SELECT organisation_id FROM events UNION SELECT organisation_id FROM top_ups) o
            LEFT JOIN (SELECT organisation_id, SUM(credits) credits FROM top_ups GROUP BY 1) t USING (organisation_id)
            LEFT JOIN (SELECT organisation_id, SUM(credits) credits FROM events GROUP BY 1) u USING (organisation_id)
        """, (ALLOCATION * 1_000_000, ALLOCATION * 1_000_000))
    del events

    def credits(value):
        return f"{Decimal(value) / MICRO:f}"

    tables = {
        "teams": ("SELECT organisation_id, team, COUNT(*), SUM(credits) FROM events GROUP BY 1, 2 ORDER BY 1, 2",
                  ["organisation_id", "team", "events", "credits"]),
        "investigations": ("SELECT organisation_id, investigation, team, COUNT(*), SUM(credits) FROM events "
                           "WHERE investigation != '' GROUP BY 1, 2, 3 ORDER BY 1, 2",
                           ["organisation_id", "investigation", "team", "events", "credits"]),
        "balances": ("SELECT organisation_id, allocated, topped_up, used, balance FROM balances ORDER BY 1",
                     ["organisation_id", "allocated", "topped_up", "used", "balance"]),
    }
    workbook = xlsxwriter.Workbook(os.path.join(out, "report.xlsx"), {"constant_memory": True})
    number = workbook.add_format({"num_format": "#,##0.000000"})
    for name, (query, header) in tables.items():
        sheet = workbook.add_worksheet(name.capitalize())
        sheet.write_row(0, 0, header)
        with open(os.path.join(out, f"{name}.csv"), "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for row_number, row in enumerate(db.execute(query), 1):
                # Amounts are the trailing integer columns (micro-credits); counts stay integers.
                cells = [credits(v) if isinstance(v, int) and header[i] != "events" else v for i, v in enumerate(row)]
                writer.writerow(cells)
                for column, value in enumerate(row):
                    if isinstance(value, int) and header[column] != "events":
                        sheet.write_number(row_number, column, value / 1_000_000, number)
                    else:
                        sheet.write(row_number, column, value)
    workbook.close()
    db.close()
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
