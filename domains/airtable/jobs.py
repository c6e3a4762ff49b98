"""Write jobs in Redis: state, input, per-chunk progress, per-record results.

A job is created before its message is queued, so the 202 the ingress answers
always names a job a worker will find. An ``Idempotency-Key`` maps (as a
digest, ``SET NX``) to the job it created: the same key gives the same job id,
and a job found not yet queued (a crash between the two steps) is queued again
(the actor takes a lease per job, so two messages never run one job at once).

Per job (one hash tag, so one slot): ``job`` hash (op, base, table, state,
total, succeeded, failed, times), ``input`` (the request as JSON), ``chunks``
(chunk index -> progress JSON) and ``results`` (record index -> result JSON).
Everything expires ``JOB_TTL_S`` after its last change.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
import redis

from common.redis import text
from domains.airtable import keys
from domains.airtable.errors import JobNotFound
from domains.airtable.sender import JobSender
from domains.airtable.write_requests import WriteRequest

JOB_TTL_S = 7 * 86_400
IDEMPOTENCY_TTL_S = 86_400
ACTOR_NAME = "airtable_write"
FINISHED = frozenset({"completed", "failed"})


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    state: str
    request: WriteRequest
    fields: dict[str, str]


def new_job_id() -> str:
    return "job" + uuid.uuid4().hex[:20]


class JobStore:
    """Creates, queues, reads and updates write jobs."""

    def __init__(self, client: redis.Redis, *, namespace: str) -> None:
        self._client = client
        self._ns = namespace

    @property
    def namespace(self) -> str:
        return self._ns

    # -- the ingress side ------------------------------------------------------------------

    def submit(self, request: WriteRequest, sender: JobSender, *, queue: str,
               idempotency_key: str | None = None) -> str:
        """Store and queue a job (or find the one this idempotency key made); its id."""
        job_id = new_job_id()
        if idempotency_key is not None:
            digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
            idem = keys.idempotency_key(self._ns, digest)
            if not self._client.set(idem, job_id, nx=True, ex=IDEMPOTENCY_TTL_S):
                job_id = text(self._client.get(idem) or job_id.encode())
        state, queued = self._client.hmget(keys.job_key(self._ns, job_id), "state", "queued_ms")
        if queued is not None:
            return job_id
        if state is None:
            self._create(job_id, request)
        sender.send(queue, ACTOR_NAME, [job_id])
        self._client.hset(keys.job_key(self._ns, job_id), "queued_ms", _now_ms())
        return job_id

    def _create(self, job_id: str, request: WriteRequest) -> None:
        now = _now_ms()
        fields: dict[str | bytes, str | int] = {
            "op": request.op, "base": request.base, "table": request.table, "state": "queued",
            "total": len(request.records), "created_ms": now, "updated_ms": now}
        job_k = keys.job_key(self._ns, job_id)
        pipe = self._client.pipeline(transaction=True)
        pipe.hset(job_k, mapping=fields)  # type: ignore[arg-type]
        pipe.set(keys.job_input_key(self._ns, job_id), orjson.dumps(request.to_doc()), nx=True)
        for key in self._job_keys(job_id)[:2]:
            pipe.expire(key, JOB_TTL_S)
        pipe.execute()

    # -- the worker side -------------------------------------------------------------------

    def load(self, job_id: str) -> Job:
        pipe = self._client.pipeline(transaction=False)
        pipe.hgetall(keys.job_key(self._ns, job_id))
        pipe.get(keys.job_input_key(self._ns, job_id))
        fields, raw = pipe.execute()
        if not fields or raw is None:
            raise JobNotFound(f"no write job {job_id!r}")
        decoded = {text(k): text(v) for k, v in fields.items()}
        return Job(job_id, decoded["state"], WriteRequest.from_doc(orjson.loads(raw)), decoded)

    def set_state(self, job_id: str, state: str, **extra: str | int | float) -> None:
        job_k = keys.job_key(self._ns, job_id)
        pipe = self._client.pipeline(transaction=True)
        mapping: dict[str | bytes, str | int | float] = {"state": state, "updated_ms": _now_ms()}
        mapping.update(extra)
        pipe.hset(job_k, mapping=mapping)  # type: ignore[arg-type]
        if "retry_at_ms" not in extra:
            pipe.hdel(job_k, "retry_at_ms")
        pipe.execute()

    def chunk_progress(self, job_id: str) -> dict[int, dict[str, Any]]:
        raw = self._client.hgetall(keys.job_chunks_key(self._ns, job_id))
        return {int(k): orjson.loads(v) for k, v in raw.items()}

    def mark_sending(self, job_id: str, chunk: int, *, send: list[int],
                     since_ms: int) -> None:
        """Record, before the request, which records of *chunk* are about to be sent."""
        progress = {"state": "sending", "send": send, "since_ms": since_ms}
        self._write_chunk(job_id, chunk, progress, {})

    def forget_chunk(self, job_id: str, chunk: int) -> None:
        """Back to fresh: the chunk's request is known to have written nothing."""
        self._client.hdel(keys.job_chunks_key(self._ns, job_id), str(chunk))

    def record_results(self, job_id: str, results: dict[int, dict[str, Any]], *,
                       chunk: int | None = None) -> None:
        """Store per-record *results*; with *chunk*, mark that chunk done in the same step."""
        progress = {"state": "done"} if chunk is not None else None
        self._write_chunk(job_id, chunk, progress, results)

    def _write_chunk(self, job_id: str, chunk: int | None, progress: dict[str, Any] | None,
                     results: dict[int, dict[str, Any]]) -> None:
        pipe = self._client.pipeline(transaction=True)
        chunks_k, results_k = (keys.job_chunks_key(self._ns, job_id),
                               keys.job_results_key(self._ns, job_id))
        if results:
            pipe.hset(results_k, mapping={str(i): orjson.dumps(r) for i, r in results.items()})
            pipe.expire(results_k, JOB_TTL_S)
        if chunk is not None and progress is not None:
            pipe.hset(chunks_k, str(chunk), orjson.dumps(progress))
            pipe.expire(chunks_k, JOB_TTL_S)
        pipe.execute()

    def results(self, job_id: str) -> dict[int, dict[str, Any]]:
        raw = self._client.hgetall(keys.job_results_key(self._ns, job_id))
        return {int(k): orjson.loads(v) for k, v in raw.items()}

    def take_lease(self, job_id: str, *, owner: str, lease_s: float) -> float:
        """Hold the job's lease for *lease_s*; 0 when taken, else how long the holder keeps it."""
        lease_k = keys.job_lease_key(self._ns, job_id)
        if self._client.set(lease_k, owner, nx=True, px=int(lease_s * 1000)):
            return 0.0
        if text(self._client.get(lease_k) or b"") == owner:
            self._client.pexpire(lease_k, int(lease_s * 1000))
            return 0.0
        return max(0.001, int(self._client.pttl(lease_k)) / 1000)

    def release_lease(self, job_id: str, *, owner: str) -> None:
        lease_k = keys.job_lease_key(self._ns, job_id)
        if text(self._client.get(lease_k) or b"") == owner:
            self._client.delete(lease_k)

    # -- reading for GET /airtable/jobs/{id} -------------------------------------------------

    def describe(self, job_id: str) -> dict[str, Any]:
        """The job's state and per-record results (None for records not done yet)."""
        job = self.load(job_id)
        results = self.results(job_id)
        summary = _summary(job)
        summary["records"] = [results.get(i) for i in range(len(job.request.records))]
        return summary

    def summary(self, job_id: str) -> dict[str, Any]:
        return _summary(self.load(job_id))

    def _job_keys(self, job_id: str) -> list[str]:
        return [keys.job_key(self._ns, job_id), keys.job_input_key(self._ns, job_id),
                keys.job_chunks_key(self._ns, job_id), keys.job_results_key(self._ns, job_id)]


def _summary(job: Job) -> dict[str, Any]:
    fields = job.fields
    summary: dict[str, Any] = {
        "id": job.id, "state": job.state, "op": job.request.op, "base": job.request.base,
        "table": job.request.table, "total": int(fields.get("total", 0)),
        "succeeded": int(fields.get("succeeded", 0)), "failed": int(fields.get("failed", 0)),
        "created_ms": int(fields.get("created_ms", 0)),
        "updated_ms": int(fields.get("updated_ms", 0))}
    if "retry_at_ms" in fields:
        summary["retry_at_ms"] = int(fields["retry_at_ms"])
    if "error" in fields:
        summary["error"] = fields["error"]
    return summary


def _now_ms() -> int:
    return int(time.time() * 1000)
