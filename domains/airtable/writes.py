"""Running a write job: chunks of 10 under the budget, never twice, waiting instead of failing.

Each chunk moves through ``fresh -> sending -> done`` in Redis (jobs.py):

- fresh: for updates with ``expect``, read the records' current values first
  (one budgeted list request, ``OR(RECORD_ID()=...)``); a record that differs
  gets ``conflict`` with its current fields, a missing one ``not_found``; the
  rest are recorded as *sending* (with the time) *before* the request is made;
- the request's results and ``done`` are stored in one transaction after it;
- a chunk found *sending* on a retry is in doubt (the worker died, or the
  answer was lost). Updates, upserts and deletes are sent again (they converge);
  a create looks up the records created since the chunk was marked (one list
  request, ``CREATED_TIME()`` after that time less `CLOCK_SKEW_S`, matched on
  the requested field values, never a record this job already claimed) and
  creates only the ones it does not find.

A 429 or Airtable being down raises `MustWait` out of `run` (the job is
``waiting`` until ``retry_at_ms``; the actor retries it then, for as long as it
takes); a 4xx fails just the records of that chunk. A run stops after
``slice_s`` and continues in a new message, so a long job never hits the
actor's time limit. The outcome is published once as ``job.completed`` (every
record written) or ``job.failed`` on ``airtable/jobs/{id}``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pyairtable
import structlog

from common.events import Event
from common.publishing import EventPublisher
from common.replicas import NoBarrier, ReplicaBarrier
from domains.airtable.client import translated
from domains.airtable.errors import JobNotFound, MustWait, RequestRejected
from domains.airtable.jobs import FINISHED, Job, JobStore
from domains.airtable.write_requests import WriteRequest

log = structlog.get_logger(__name__)
CHUNK_SIZE = 10
CLOCK_SKEW_S = 60.0
Results = dict[int, dict[str, Any]]
Invalidate = Callable[[str, str], None]


class SliceUsed(MustWait):
    """This run has used its time slice; the job continues in a new message at once."""


def chunk_indices(total: int) -> Iterator[list[int]]:
    for start in range(0, total, CHUNK_SIZE):
        yield list(range(start, min(total, start + CHUNK_SIZE)))


def job_topic(job_id: str) -> str:
    return f"airtable/jobs/{job_id}"


class WriteRunner:
    """Runs write jobs with a budgeted pyairtable `Api`; publishes their outcome."""

    def __init__(self, store: JobStore, api: pyairtable.Api, publisher: EventPublisher, *,
                 invalidate: Invalidate, slice_s: float, lease_s: float,
                 clock: Callable[[], float] = time.monotonic,
                 replicas: ReplicaBarrier | None = None) -> None:
        self._store = store
        self._replicas = replicas or NoBarrier()
        self._api = api
        self._publisher = publisher
        self._invalidate = invalidate
        self._slice_s = slice_s
        self._lease_s = lease_s
        self._clock = clock

    def run(self, job_id: str) -> dict[str, Any] | None:
        """Make progress on the job; its summary once finished (None if it already was)."""
        owner = uuid.uuid4().hex
        held_s = self._store.take_lease(job_id, owner=owner, lease_s=self._lease_s)
        if held_s:
            raise MustWait(f"job {job_id} is being run by another worker", retry_after_s=held_s)
        try:
            return self._run(job_id)
        finally:
            self._store.release_lease(job_id, owner=owner)

    def _run(self, job_id: str) -> dict[str, Any] | None:
        try:
            job = self._store.load(job_id)
        except JobNotFound:
            log.warning("airtable.job_missing", job=job_id)
            return None
        if job.state in FINISHED:
            return None
        self._store.set_state(job_id, "running")
        try:
            self._chunks(job)
        except MustWait as exc:
            retry_at_ms = int((time.time() + exc.retry_after_s) * 1000)
            self._store.set_state(job_id, "waiting", retry_at_ms=retry_at_ms, error=str(exc))
            raise
        return self._finish(job)

    def _chunks(self, job: Job) -> None:
        table = self._api.table(job.request.base, job.request.table)
        progress = self._store.chunk_progress(job.id)
        started, sent = self._clock(), 0
        for number, indices in enumerate(chunk_indices(len(job.request.records))):
            state = progress.get(number)
            if state is not None and state["state"] == "done":
                continue
            if sent and self._clock() - started > self._slice_s:
                raise SliceUsed(f"job {job.id} continues in a new run", retry_after_s=0)
            self._chunk(job, table, number, indices, state)
            sent += 1

    def _chunk(self, job: Job, table: pyairtable.Table, number: int, indices: list[int],
               state: dict[str, Any] | None) -> None:
        send: list[int] = indices
        started = self._clock()
        try:
            if state is None:
                send = self._prepare(job, table, indices)
                results = self._send_fresh(job, table, number, send)
            else:
                send = list(state["send"])
                results = self._recover(job, table, number, send, int(state["since_ms"]))
        except RequestRejected as exc:
            results = {index: _failure(exc) for index in send}
        self._store.record_results(job.id, results, chunk=number)
        self._invalidate(job.request.base, job.request.table)
        log.debug("airtable.chunk_written", job=job.id, chunk=number, records=len(send),
                  took_ms=round((self._clock() - started) * 1000, 1))

    def _send_fresh(self, job: Job, table: pyairtable.Table, number: int,
                    send: list[int]) -> Results:
        if not send:
            return {}
        self._store.mark_sending(job.id, number, send=send, since_ms=_now_ms())
        self._replicas.confirm()  # a mark lost in a failover would let a retry create again
        try:
            return _send(job.request, table, send)
        except MustWait as exc:
            if not exc.maybe_written:  # no slot, paused, 429, refused: surely not written
                self._store.forget_chunk(job.id, number)
            raise

    # -- expect: compare before writing ---------------------------------------------------

    def _prepare(self, job: Job, table: pyairtable.Table, indices: list[int]) -> list[int]:
        """The records of the chunk to send, after storing the conflicts of ``expect``."""
        records = job.request.records
        expecting = [i for i in indices if "expect" in records[i]]
        if job.request.op != "update" or not expecting:
            return indices
        current = _read_by_id(table, [records[i]["id"] for i in expecting])
        refused: Results = {}
        for index in expecting:
            record = current.get(records[index]["id"])
            refused_one = _check_expect(records[index], record)
            if refused_one is not None:
                refused[index] = refused_one
        if refused:
            self._store.record_results(job.id, refused)
        return [i for i in indices if i not in refused]

    # -- a chunk in doubt -------------------------------------------------------------------

    def _recover(self, job: Job, table: pyairtable.Table, number: int, send: list[int],
                 since_ms: int) -> Results:
        request = job.request
        log.info("airtable.chunk_in_doubt", job=job.id, chunk=number, op=request.op)
        if request.op == "create":
            return self._recover_create(job, table, number, send, since_ms)
        if request.op == "delete":
            return _recover_delete(request, table, send)
        return _send(request, table, send)

    def _recover_create(self, job: Job, table: pyairtable.Table, number: int,
                        send: list[int], since_ms: int) -> Results:
        claimed = {r.get("id") for r in self._store.results(job.id).values()}
        candidates = [r for r in _created_since(table, since_ms) if r["id"] not in claimed]
        found = _match_created([job.request.records[i] for i in send], candidates)
        results: Results = {send[pos]: _ok(record) for pos, record in found.items()}
        missing = [index for pos, index in enumerate(send) if pos not in found]
        log.info("airtable.create_recovered", job=job.id, chunk=number, found=len(found),
                 missing=len(missing))
        if missing:
            self._store.mark_sending(job.id, number, send=missing, since_ms=since_ms)
            results.update(_send(job.request, table, missing))
        return results

    # -- the outcome ------------------------------------------------------------------------

    def give_up(self, job_id: str, reason: str) -> dict[str, Any] | None:
        """The job failed for good (its retries are spent): records not written fail too."""
        job = self._store.load(job_id)
        if job.state in FINISHED:
            return None
        done = self._store.results(job_id)
        self._store.record_results(job_id, {
            index: {"ok": False, "error": "gave_up", "message": reason}
            for index in range(len(job.request.records)) if index not in done})
        self._store.set_state(job_id, "running", error=reason)
        return self._finish(job)

    def _finish(self, job: Job) -> dict[str, Any]:
        results = self._store.results(job.id)
        succeeded = sum(1 for r in results.values() if r.get("ok"))
        failed = len(job.request.records) - succeeded
        state = "completed" if failed == 0 else "failed"
        self._store.set_state(job.id, state, succeeded=succeeded, failed=failed)
        summary = self._store.summary(job.id)
        summary["records"] = [results.get(i) for i in range(len(job.request.records))]
        self._publisher.publish(Event(topic=job_topic(job.id), type=f"job.{state}",
                                      data=summary, source="airtable",
                                      id=f"airtable.{job.id}.{state}"))
        log.info("airtable.job_finished", job=job.id, state=state, succeeded=succeeded,
                 failed=failed)
        return summary


def _send(request: WriteRequest, table: pyairtable.Table, indices: list[int]) -> Results:
    """One request for the records at *indices* (at most 10); their results."""
    records = [request.records[i] for i in indices]
    with translated():
        if request.op == "create":
            out = table.batch_create([r["fields"] for r in records], typecast=request.typecast)
        elif request.op == "update":
            out = table.batch_update([{"id": r["id"], "fields": r["fields"]} for r in records],
                                     typecast=request.typecast)
        elif request.op == "upsert":
            out = table.batch_upsert(records, key_fields=request.merge_on,
                                     typecast=request.typecast)["records"]
        else:
            deleted = table.batch_delete([r["id"] for r in records])
            return {i: {"ok": True, "id": d["id"], "deleted": True}
                    for i, d in zip(indices, deleted, strict=True)}
    return {i: _ok(dict(record)) for i, record in zip(indices, out, strict=True)}


def _recover_delete(request: WriteRequest, table: pyairtable.Table,
                    send: list[int]) -> Results:
    ids = [request.records[i]["id"] for i in send]
    remaining = set(_read_by_id(table, ids))
    results: Results = {i: {"ok": True, "id": request.records[i]["id"], "deleted": True}
                        for i in send if request.records[i]["id"] not in remaining}
    again = [i for i in send if request.records[i]["id"] in remaining]
    if again:
        results.update(_send(request, table, again))
    return results


def _read_by_id(table: pyairtable.Table, record_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The current records among *record_ids* (ids are checked as ``rec`` + alphanumerics)."""
    formula = "OR(" + ",".join(f"RECORD_ID()='{rid}'" for rid in record_ids) + ")"
    with translated():
        found = table.all(formula=formula)
    wanted = set(record_ids)
    return {r["id"]: dict(r) for r in found if r["id"] in wanted}


def _created_since(table: pyairtable.Table, since_ms: int) -> list[dict[str, Any]]:
    """Records created after *since_ms* less the clock skew, oldest first."""
    after = datetime.fromtimestamp(since_ms / 1000 - CLOCK_SKEW_S, UTC)
    formula = f"IS_AFTER(CREATED_TIME(), '{after.isoformat(timespec='milliseconds')}')"
    try:
        with translated():
            listed = table.all(formula=formula)
    except RequestRejected as exc:  # a server without date formulas: list it all, filter here
        if exc.status != 422:
            raise
        with translated():
            listed = table.all()
    recent = [dict(r) for r in listed if _parse_time(r["createdTime"]) >= after]
    return sorted(recent, key=lambda r: r["createdTime"])


def _match_created(wanted: list[dict[str, Any]],
                   candidates: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Pair each wanted record (by position) with a distinct candidate holding its values."""
    found: dict[int, dict[str, Any]] = {}
    taken: set[str] = set()
    for position, record in enumerate(wanted):
        for candidate in candidates:
            if candidate["id"] not in taken and _holds(candidate.get("fields", {}),
                                                       record["fields"]):
                found[position] = candidate
                taken.add(candidate["id"])
                break
    return found


def _holds(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(_same(current.get(name), value) for name, value in wanted.items())


def _same(current: Any, value: Any) -> bool:
    """Equal as Airtable keeps values: it omits empty fields (no value, "", [], false)."""
    if _empty(current) and _empty(value):
        return True
    return bool(current == value)


def _empty(value: Any) -> bool:
    return value is None or value is False or (isinstance(value, str | list) and not value)


def _check_expect(record: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any] | None:
    if current is None:
        return {"ok": False, "id": record["id"], "error": "not_found"}
    fields = current.get("fields", {})
    if all(_same(fields.get(name), value) for name, value in record["expect"].items()):
        return None
    return {"ok": False, "id": record["id"], "error": "conflict", "current": fields}


def _ok(record: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True, "id": record["id"], "fields": record.get("fields", {})}


def _failure(exc: RequestRejected) -> dict[str, Any]:
    return {"ok": False, "error": exc.error_type.lower(), "status": exc.status,
            "message": str(exc)}


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _now_ms() -> int:
    return int(time.time() * 1000)
