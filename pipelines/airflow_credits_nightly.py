"""Airflow DAG: the Credits nightly stages as separate tasks, one `credits` command each.

Each task runs one stage for the run's logical date, with the clock pinned to the end of that
date (CREDITS_NOW) so reruns are reproducible. Exit codes decide what Airflow does:
  0, 3  success (3 = done with exceptions for a person; the reconcile report says what to review)
  75    retry later (another run holds the lock, or the plan went stale: apply then reconciles
        again first): AirflowException, retried
  other fail at once without retries (bad input or an internal error: a retry changes nothing)
"""
import glob
import json
import os
import subprocess
from datetime import datetime, timedelta

from airflow import DAG
from airflow.exceptions import AirflowException, AirflowFailException
from airflow.operators.python import PythonOperator

CREDITS = os.environ.get("CREDITS_BIN", "/usr/local/bin/credits")
DATABASE = "/var/lib/credits/credits.sqlite"
CONFIG = "/etc/credits"
INBOX = "/var/lib/credits/inbox"
OUT = "/var/lib/credits/out"


def run_credits(stage: str, arguments: list, ds: str, next_ds: str) -> None:
    runs = os.path.join(OUT, "runs", ds)
    os.makedirs(runs, exist_ok=True)
    environment = dict(os.environ, CREDITS_DB=DATABASE, CREDITS_NOW=f"{next_ds}T00:00:00Z")
    result = subprocess.run([CREDITS, *arguments, "--json"], capture_output=True, text=True, env=environment)
    with open(os.path.join(runs, f"{stage}.json"), "w") as summary:
        summary.write(result.stdout)
    print(result.stderr)
    if result.returncode in (0, 3):
        return
    if result.returncode == 75:
        raise AirflowException(f"credits {stage} exited 75: try again later")
    raise AirflowFailException(f"credits {stage} exited {result.returncode}: {result.stderr.strip()[-500:]}")


def ingest(kind: str, ds: str, next_ds: str) -> None:
    files = sorted(glob.glob(os.path.join(INBOX, ds, f"{kind}-*")))
    if files:
        run_credits(f"ingest-{kind}", ["ingest", kind, *files], ds, next_ds)


def invoice(ds: str, next_ds: str) -> None:
    day = datetime.strptime(ds, "%Y-%m-%d")
    if day.day != 1:
        return
    period = (day - timedelta(days=1)).strftime("%Y-%m")
    # The month's final report first: late usage may have changed it after its last nightly run.
    final = os.path.join(OUT, "reports", period)
    os.makedirs(final, exist_ok=True)
    run_credits("report-previous", ["report", "--period", period, "--out", final], ds, next_ds)
    directory = os.path.join(OUT, "invoices", period)
    os.makedirs(directory, exist_ok=True)
    run_credits("invoice", ["invoice", "--period", period, "--out", directory], ds, next_ds)


def report(ds: str, next_ds: str) -> None:
    period = ds[:7]
    directory = os.path.join(OUT, "reports", period)
    os.makedirs(directory, exist_ok=True)
    run_credits("report", ["report", "--period", period, "--out", directory], ds, next_ds)


def apply(ds: str, next_ds: str) -> None:
    """Posts the plan. A stale plan (75: what it would post changed since reconcile; nothing was
    posted) is planned again before Airflow retries, so the retry applies a fresh plan."""
    try:
        run_credits("apply", ["apply", "--no-alerts"], ds, next_ds)
    except AirflowFailException:
        raise
    except AirflowException:
        run_credits("reconcile", ["reconcile", "--as-of", ds], ds, next_ds)
        raise


def task(task_id: str, function, **kwargs) -> PythonOperator:
    return PythonOperator(
        task_id=task_id, python_callable=function, op_kwargs={"ds": "{{ ds }}", "next_ds": "{{ next_ds }}", **kwargs},
        retries=6, retry_delay=timedelta(minutes=10))


with DAG(
    dag_id="credits_nightly",
    start_date=datetime(2026, 11, 1),
    schedule="15 2 * * *",
    catchup=False,
    max_active_runs=1,
) as dag:
    init = task("init", run_credits, stage="init", arguments=["init", "--config", CONFIG])
    ingest_events = task("ingest_events", ingest, kind="events")
    ingest_orders = task("ingest_orders", ingest, kind="orders")
    reconcile = task("reconcile", run_credits, stage="reconcile", arguments=["reconcile", "--as-of", "{{ ds }}"])
    apply_task = task("apply", apply)
    alerts = task("alerts", run_credits, stage="alerts", arguments=["alerts"])
    report_task = task("report", report)
    invoice_task = task("invoice", invoice)
    init >> ingest_events >> ingest_orders >> reconcile >> apply_task >> alerts >> report_task >> invoice_task
