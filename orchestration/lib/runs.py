"""The local instance's runs as `run_all` must see them before it starts: dead runs to clear, live ones to wait for.

Dagster records a run's status and the pool slots it holds, but not which process runs it (the in-process
executor logs its pid in an engine event, without the host). A run whose process is SIGKILLed (out of
memory, a second Ctrl-C, a reboot) therefore stays STARTED and keeps its slot of `duckdb_warehouse`, whose
limit is one, for ever; and Dagster's in-process executor waits for that slot in a loop that never sleeps,
logs only at DEBUG and ignores SIGTERM. So `run_all` tags its run with its host and process, marks runs
whose process is gone as failed, frees their slots, and waits for a live holder itself, in a sleeping
loop that says what it waits for and stops on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType

import dagster as dg

RUN_HOST_TAG = "clientele/host"
RUN_PID_TAG = "clientele/pid"
# When the process started (clock ticks since boot, from /proc): a pid reused after a reboot or a long
# uptime then no longer passes for the run's process.
RUN_PROCESS_START_TAG = "clientele/process_start"

_FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
UNFINISHED_STATUSES = [status for status in dg.DagsterRunStatus if status not in _FINISHED]
# How long a finished run may keep a slot before it is freed, when the instance does not say: Dagster's
# monitoring daemon frees them after `run_monitoring.free_slots_after_run_end_seconds`.
DEFAULT_FREE_SLOTS_AFTER_RUN_END_SECONDS = 60

Report = Callable[[str], None]


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state letter, start time in clock ticks since boot) of a process, or None without /proc to read."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the command name in parentheses may hold spaces
    return fields[0], fields[19]


def process_tags(pid: int) -> dict[str, str]:
    """Run tags naming process `pid` of this host, so a later `run_all` can tell whether it still exists."""
    tags = {RUN_HOST_TAG: socket.gethostname(), RUN_PID_TAG: str(pid)}
    stat = _proc_stat(pid)
    if stat is not None:
        tags[RUN_PROCESS_START_TAG] = stat[1]
    return tags


def this_process_tags() -> dict[str, str]:
    """The tags of the run this process executes in-process (`process_tags` of this process)."""
    return process_tags(os.getpid())


def process_is_gone(pid: int, started: str | None) -> bool:
    """True only when this host has no such process: none with this pid, a zombie, or a later one reusing the pid.

    Anything uncertain counts as alive (a pid owned by another user, no /proc to read the start time),
    because failing a live run would free its slot while its step still writes the warehouse.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # it exists, owned by someone else
    stat = _proc_stat(pid)
    if stat is None:
        return False
    state, start = stat
    return state in {"Z", "X"} or (started is not None and start != started)


def run_process_is_gone(run: dg.DagsterRun, host: str) -> bool:
    """Whether `run` was launched by `run_all` on `host` from a process that no longer exists.

    Runs without our tags (launched from the UI, a schedule, a test) or tagged by another host are never
    judged here: their process cannot be checked from this machine. Run monitoring covers them.
    """
    if run.tags.get(RUN_HOST_TAG) != host or RUN_PID_TAG not in run.tags:
        return False
    return process_is_gone(int(run.tags[RUN_PID_TAG]), run.tags.get(RUN_PROCESS_START_TAG))


@dataclass(frozen=True)
class SlotClaim:
    """A pool slot a run's step holds: claimed, or assigned to it and about to be claimed (both block others)."""

    pool: str
    run_id: str
    step_key: str
    since: datetime | None  # when the slot was assigned to the step


def slot_claims(instance: dg.DagsterInstance, pools: list[str] | None = None) -> list[SlotClaim]:
    """The slots held in `pools` (default: every pool of the instance), sorted by pool, run and step."""
    storage = instance.event_log_storage
    claims: set[SlotClaim] = set()
    for pool, info in storage.get_concurrency_infos(pools or list(storage.get_concurrency_keys())).items():
        assigned = {(p.run_id, p.step_key): p.assigned_timestamp for p in info.pending_steps}
        held = {(s.run_id, s.step_key) for s in info.claimed_slots}
        held |= {key for key, at in assigned.items() if at is not None}
        claims |= {SlotClaim(pool, run_id, step, assigned.get((run_id, step))) for run_id, step in held}
    return sorted(claims, key=lambda c: (c.pool, c.run_id, c.step_key))


def _freed(claims: list[SlotClaim]) -> str:
    if not claims:
        return "it held no pool slot"
    return "freed " + ", ".join(f"its slot of {c.pool} (step {c.step_key})" for c in claims)


def fail_dead_runs(instance: dg.DagsterInstance, report: Report) -> list[str]:
    """Mark unfinished `run_all` runs of this host whose process is gone as failed, and free their pool slots.

    Reports one line per run and returns their ids. Nothing else ends them soon: the process that would
    have reported the run's end is dead, and the daemon's run monitoring has no worker health check with
    the default run launcher (it fails a STARTED run only after `max_runtime_seconds`).
    """
    host = socket.gethostname()
    claims = slot_claims(instance)
    failed = []
    for run in instance.get_runs(dg.RunsFilter(statuses=UNFINISHED_STATUSES, tags={RUN_HOST_TAG: host})):
        if not run_process_is_gone(run, host):
            continue
        pid = run.tags[RUN_PID_TAG]
        instance.report_run_failed(
            run,
            message=(
                f"Marked failed by run_all: its process (pid {pid} on {host}) no longer exists, so it was "
                "killed without ending (SIGKILL, out of memory, reboot); its concurrency slots are freed."
            ),
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        held = [c for c in claims if c.run_id == run.run_id]
        report(f"==> run {run.run_id} ({run.status.value}, pid {pid} gone) marked failed; {_freed(held)}")
        failed.append(run.run_id)
    return failed


def free_slots_of_ended_runs(instance: dg.DagsterInstance, report: Report) -> list[str]:
    """Free the slots that finished runs still hold, once they ended longer ago than the daemon's grace period.

    This is what Dagster's monitoring daemon does (`free_slots_after_run_end_seconds`), for when no daemon
    runs: a run marked failed by hand or by its code server after its worker died keeps its slots.
    Reports one line per run and returns their ids.
    """
    claims = slot_claims(instance)
    if not claims:
        return []
    grace = instance.run_monitoring_settings.get(
        "free_slots_after_run_end_seconds", DEFAULT_FREE_SLOTS_AFTER_RUN_END_SECONDS
    )
    ended = instance.get_run_records(
        dg.RunsFilter(run_ids=sorted({c.run_id for c in claims}), statuses=list(_FINISHED))
    )
    freed = []
    for record in ended:
        if record.end_time is None or record.end_time + grace > time.time():
            continue
        run = record.dagster_run
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        held = [c for c in claims if c.run_id == run.run_id]
        report(f"==> run {run.run_id} ended ({run.status.value}) but still held slots; {_freed(held)}")
        freed.append(run.run_id)
    return freed


def release_dead_runs(instance: dg.DagsterInstance, report: Report) -> list[str]:
    """Fail dead `run_all` runs and free what they and long-finished runs hold; the ids of the runs cleaned."""
    return fail_dead_runs(instance, report) + free_slots_of_ended_runs(instance, report)


@dataclass(frozen=True)
class PoolHolder:
    """A run holding a slot of a pool, with what its tags say about its process, as run_all reports it."""

    claim: SlotClaim
    host: str | None
    pid: str | None

    def describe(self) -> str:
        where = f"pid {self.pid} on {self.host}" if self.pid else "launched outside run_all, no pid recorded"
        since = f", since {self.claim.since:%Y-%m-%d %H:%M:%S} UTC" if self.claim.since else ""
        return f"run {self.claim.run_id} (step {self.claim.step_key}, {where}{since})"


def pool_holders(instance: dg.DagsterInstance, pool: str) -> list[PoolHolder]:
    """The runs that hold `pool`'s slots now, one entry per slot."""
    claims = slot_claims(instance, [pool])
    if not claims:
        return []
    runs = {run.run_id: run for run in instance.get_runs(dg.RunsFilter(run_ids=[c.run_id for c in claims]))}
    holders = []
    for claim in claims:
        tags = runs[claim.run_id].tags if claim.run_id in runs else {}
        holders.append(PoolHolder(claim, tags.get(RUN_HOST_TAG), tags.get(RUN_PID_TAG)))
    return holders


def wait_for_pool(
    instance: dg.DagsterInstance,
    pool: str,
    report: Report,
    poll_seconds: float = 3.0,
    report_every_seconds: float = 60.0,
) -> None:
    """Return once `pool` has a free slot, sleeping between polls and saying which runs hold them.

    Each poll first clears dead runs (`release_dead_runs`), so a holder that dies while we wait is failed
    and freed too. Without this wait, Dagster's in-process executor would wait for the slot itself, busy
    and silent. A run that claims the slot between our last poll and our first step still makes Dagster
    wait that way, until that run's step ends.
    """
    started = time.monotonic()
    last_report: float | None = None
    while True:
        release_dead_runs(instance, report)
        holders = pool_holders(instance, pool)
        limit = instance.event_log_storage.get_concurrency_info(pool).limit  # None: not limited
        waited = time.monotonic() - started
        if limit is None or len(holders) < limit:
            if last_report is not None:
                report(f"==> the {pool} pool is free after {waited:.0f}s; starting")
            return
        if last_report is None or time.monotonic() - last_report >= report_every_seconds:
            lead = "waiting for" if last_report is None else f"still waiting ({waited:.0f}s) for"
            report(
                f"==> {lead} the {pool} pool, held by "
                + "; ".join(h.describe() for h in holders)
                + f"; checking every {poll_seconds:g}s (Ctrl-C or SIGTERM stops)"
            )
            last_report = time.monotonic()
        time.sleep(poll_seconds)


class Stopped(BaseException):
    """SIGTERM or SIGINT arrived outside a running step.

    A BaseException, as KeyboardInterrupt is, so that library code catching `Exception` lets it through.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # what a shell reports for a process ended by this signal


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Raise `Stopped` on SIGTERM or SIGINT inside the block, and restore the previous handlers after it.

    While a run executes, Dagster puts its own handlers in place (an interrupt then fails the running
    step, or the next one to start) and restores these afterwards.
    """

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise Stopped(signum)

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
