"""Airflow DAG: the Credits nightly stages as separate tasks, one `credits` command each.

Supported: Airflow 3 (checked on 3.3.2, see pipelines/README.md) and Airflow 2.10 (the fallback
imports below; not re-checked since this file moved to the Airflow 3 imports).

Which night a run processes: the DAG runs at 02:15 UTC on a CronDataIntervalTimetable, named
explicitly because Airflow 3's default for a cron string (CronTriggerTimetable) makes the logical
date the moment of the run, not the day before. With a data-interval timetable the run at
2026-12-02 02:15 covers the interval starting 2026-12-01 02:15, so `ds` (the logical date, the
start of that interval) is the night being processed, 2026-12-01, on both Airflow 2 and 3. A
manual run or `airflow dags test credits_nightly 2026-12-01` processes the night it is given.

Each task runs one stage for that night, with the clock pinned to the end of the night
(CREDITS_NOW) so reruns are reproducible. Exit codes decide what Airflow does:
  0, 3  success (3 = done with exceptions for a person; the plan's findings say what to review)
  75    retry later (another run holds the lock): AirflowException, retried
  other fail at once without retries (bad input or an internal error: a retry changes nothing)
"""
import glob
import os
import subprocess
from datetime import date, datetime, timedelta, timezone

try:  # Airflow 3: the task SDK and the standard provider.
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG, CronDataIntervalTimetable
    from airflow.sdk.exceptions import AirflowException, AirflowFailException
except ImportError:  # Airflow 2.10
    from airflow import DAG
    from airflow.exceptions import AirflowException, AirflowFailException
    from airflow.operators.python import PythonOperator
    from airflow.timetables.interval import CronDataIntervalTimetable

# Where things are, overridable by the same variables nightly.sh reads.
CREDITS = os.environ.get("CREDITS_BIN", "/usr/local/bin/credits")
DATABASE = os.environ.get("CREDITS_DB", "/var/lib/credits/credits.sqlite")
CONFIG = os.environ.get("CREDITS_CONFIG", "/etc/credits")
INBOX = os.environ.get("CREDITS_INBOX", "/var/lib/credits/inbox")
OUT = os.environ.get("CREDITS_OUT", "/var/lib/credits/out")


def end_of_night(night: str) -> str:
    """The instant the night ends (midnight UTC after it): every stage's clock, as in nightly.sh."""
    return f"{date.fromisoformat(night) + timedelta(days=1)}T00:00:00Z"


def run_credits(stage: str, arguments: list, night: str) -> None:
    runs = os.path.join(OUT, "runs", night)
    os.makedirs(runs, exist_ok=True)
    environment = dict(os.environ, CREDITS_DB=DATABASE, CREDITS_NOW=end_of_night(night))
    result = subprocess.run([CREDITS, *arguments, "--json"], capture_output=True, text=True, env=environment)
    with open(os.path.join(runs, f"{stage}.json"), "w") as summary:
        summary.write(result.stdout)
    print(result.stderr)
    if result.returncode in (0, 3):
        return
    if result.returncode == 75:
        raise AirflowException(f"credits {stage} exited 75: try again later")
    raise AirflowFailException(f"credits {stage} exited {result.returncode}: {result.stderr.strip()[-500:]}")


def ingest(kind: str, night: str) -> None:
    files = sorted(glob.glob(os.path.join(INBOX, night, f"{kind}-*")))
    if files:
        run_credits(f"ingest-{kind}", ["ingest", kind, *files], night)


def invoice(night: str) -> None:
    day = date.fromisoformat(night)
    if day.day != 1:
        return
    period = (day - timedelta(days=1)).strftime("%Y-%m")
    # The month's final report first: late usage may have changed it after its last nightly run.
    # It goes with the invoices, so it carries the per-transfer detail (as in nightly.sh).
    final = os.path.join(OUT, "reports", period)
    run_credits("report-previous", ["report", "--period", period, "--out", final, "--detail"], night)
    directory = os.path.join(OUT, "invoices", period)
    run_credits("invoice", ["invoice", "--period", period, "--out", directory], night)


def report(night: str) -> None:
    period = night[:7]
    directory = os.path.join(OUT, "reports", period)
    run_credits("report", ["report", "--period", period, "--out", directory], night)


def task(task_id: str, function, **kwargs) -> PythonOperator:
    # `ds` is rendered at run time: the night being processed (see the module docstring).
    return PythonOperator(
        task_id=task_id, python_callable=function, op_kwargs={"night": "{{ ds }}", **kwargs},
        retries=6, retry_delay=timedelta(minutes=10))


with DAG(
    dag_id="credits_nightly",
    start_date=datetime(2026, 11, 1, tzinfo=timezone.utc),
    schedule=CronDataIntervalTimetable("15 2 * * *", timezone="UTC"),
    catchup=False,
    max_active_runs=1,
) as dag:
    init = task("init", run_credits, stage="init", arguments=["init", "--config", CONFIG])
    ingest_events = task("ingest_events", ingest, kind="events")
    ingest_orders = task("ingest_orders", ingest, kind="orders")
    # Reconcile and apply in one transaction (`reconcile --apply`), as nightly.sh runs them: the plan
    # is posted as it is made, so nothing posted meanwhile can make it stale.
    reconcile_apply = task("reconcile_apply", run_credits, stage="reconcile-apply",
                           arguments=["reconcile", "--as-of", "{{ ds }}", "--apply"])
    alerts = task("alerts", run_credits, stage="alerts", arguments=["alerts"])
    report_task = task("report", report)
    invoice_task = task("invoice", invoice)
    init >> ingest_events >> ingest_orders >> reconcile_apply >> alerts >> report_task >> invoice_task
