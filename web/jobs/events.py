"""Per-job event logs in memory: what Server-Sent Event streams read, each event numbered.

Numbers (seq) start at 1 per job and become the SSE `id:`, so a reconnecting stream asks
for what came after its Last-Event-ID. The log is bounded: a stream that fell further behind
learns that events were dropped and starts again from a fresh snapshot.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, NamedTuple

MAX_EVENTS = 2000  # per job


class Event(NamedTuple):
    seq: int
    kind: str  # "job" (data: the whole job), "progress", "preview" or "live"
    data: dict[str, Any]


class EventLog:
    def __init__(self, max_events: int = MAX_EVENTS):
        self.max_events = max_events
        self._events: dict[str, deque[Event]] = {}
        self._seq: dict[str, int] = {}
        self._lock = threading.Lock()

    def open(self, job_id: str) -> None:
        """Start an empty log for a job (numbering from 1 again)."""
        with self._lock:
            self._events[job_id] = deque(maxlen=self.max_events)
            self._seq[job_id] = 0

    def close(self, job_id: str) -> None:
        with self._lock:
            self._events.pop(job_id, None)
            self._seq.pop(job_id, None)

    def append(self, job_id: str, kind: str, data: dict[str, Any]) -> None:
        with self._lock:
            if job_id not in self._events:
                return  # the job was deleted meanwhile
            self._seq[job_id] += 1
            self._events[job_id].append(Event(self._seq[job_id], kind, data))

    def since(self, job_id: str, after: int) -> tuple[list[Event], bool]:
        """Events with seq > after, and whether some were dropped from the bounded log."""
        with self._lock:
            events = self._events.get(job_id)
            if events is None:
                return [], False
            newer = [e for e in events if e.seq > after]
            dropped = bool(events) and events[0].seq > after + 1 and after > 0
            return newer, dropped

    def last_seq(self, job_id: str) -> int:
        with self._lock:
            return self._seq.get(job_id, 0)
