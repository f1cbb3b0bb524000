"""Running writes at the same time, to show that locks and constraints keep them apart."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError

SLOWED = ("policies_allowlistentry", "policies_exceptionrequest", "policies_teamgrant")


def run_at_once(*calls, slowed=SLOWED):
    """Run each call in its own thread and connection, as close together as possible, with
    every read of the tables a check reads (``slowed``) slowed down so that, without locks,
    every call would pass its checks before any writes. Returns the sorted outcomes: "ok" or
    the class name of the error raised."""
    from django.db import DatabaseError, connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs row locks (PostgreSQL): SQLite serialises the writers anyway")
    barrier = threading.Barrier(len(calls))
    outcomes = []

    def slow_reads(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith("SELECT") and any(table in sql for table in slowed):
            time.sleep(0.2)
        return result

    def run(call):
        try:
            with connections["default"].execute_wrapper(slow_reads):
                barrier.wait(timeout=10)
                call()
            outcomes.append("ok")
        except (ValidationError, DatabaseError) as error:
            outcomes.append(type(error).__name__)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)
