"""Runs one delivery through its handler and decides: ack, retry later or dead-letter."""

from __future__ import annotations

import enum
import logging
import time

from shared import metrics
from shared.events import Envelope, Event
from shared.logging import trace_id_var
from shared.messaging.broker import Handler, PermanentFailure, QueueSpec
from shared.messaging.keyed_lock import KeyedLocks

log = logging.getLogger(__name__)


class Outcome(enum.Enum):
    ACK = "ok"
    RETRY = "retried"
    DEAD = "dead_lettered"


class Dispatcher:
    """Wraps a handler with per-key ordering, metrics, logging and the retry decision."""

    def __init__(self, service: str, spec: QueueSpec, handler: Handler) -> None:
        self.service = service
        self.spec = spec
        self.handler = handler
        self._locks = KeyedLocks()

    async def dispatch(self, envelope: Envelope[Event], attempt: int, redelivered: bool) -> Outcome:
        labels = (self.service, self.spec.name)
        if redelivered:
            metrics.REDELIVERIES.labels(*labels).inc()
        key = envelope.key if self.spec.ordered_by_key else None
        async with self._locks.hold(key):
            token = trace_id_var.set(envelope.trace_id)
            metrics.IN_FLIGHT.labels(*labels).inc()
            started = time.perf_counter()
            try:
                await self.handler(envelope)
                outcome = Outcome.ACK
            except PermanentFailure as exc:
                log.error(
                    "message.dead_lettered",
                    extra={"queue": self.spec.name, "type": envelope.type, "reason": str(exc)},
                )
                outcome = Outcome.DEAD
            except Exception as exc:
                outcome = Outcome.RETRY if attempt < self.spec.max_attempts else Outcome.DEAD
                log.warning(
                    "message.failed",
                    exc_info=True,
                    extra={
                        "queue": self.spec.name,
                        "type": envelope.type,
                        "attempt": attempt,
                        "next": outcome.value,
                        "error_type": type(exc).__name__,
                    },
                )
            finally:
                metrics.IN_FLIGHT.labels(*labels).dec()
                metrics.HANDLING_SECONDS.labels(*labels).observe(time.perf_counter() - started)
                trace_id_var.reset(token)
        metrics.MESSAGES_HANDLED.labels(*labels, outcome.value).inc()
        return outcome
