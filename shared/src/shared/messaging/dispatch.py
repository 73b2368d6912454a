"""Runs one delivery through its handler and decides: ack, retry later or dead-letter."""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable

from sqlalchemy import exc as sa_exc

from shared import metrics
from shared.events import Envelope, Event
from shared.logging import trace_id_var
from shared.messaging.broker import BrokerUnavailableError, Handler, PermanentFailure, QueueSpec
from shared.messaging.keyed_lock import KeyedLocks

log = logging.getLogger(__name__)

# Waiting out a database or broker outage: first pause, and the longest.
OUTAGE_BACKOFF = (0.2, 5.0)


class Outcome(enum.Enum):
    ACK = "ok"
    RETRY = "retried"
    DEAD = "dead_lettered"
    # Left unacknowledged for the broker to deliver again: the consumer is stopping or
    # handing its partition over while the handler waits out an outage.
    ABANDONED = "abandoned"


def is_outage(error: BaseException) -> bool:
    """A failure of the database or broker connection, not of the message: it says nothing
    about whether the message can succeed, so it must not use up the message's attempts."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(
        error,
        (
            sa_exc.OperationalError,
            sa_exc.InterfaceError,
            sa_exc.TimeoutError,
            BrokerUnavailableError,
            ConnectionError,
        ),
    )


def _never() -> bool:
    return False


class Dispatcher:
    """Wraps a handler with per-key ordering, metrics, logging and the retry decision.

    An outage is waited out here, holding the key, until the handler succeeds or
    ``abandoned()`` says to let go. A failure of the message itself is retried here too
    when ``spec.retry_in_place`` (a partitioned queue, whose order a retry queue would
    break); otherwise RETRY sends it round the retry queue.
    """

    def __init__(self, service: str, spec: QueueSpec, handler: Handler) -> None:
        self.service = service
        self.spec = spec
        self.handler = handler
        self._locks = KeyedLocks()

    async def dispatch(
        self,
        envelope: Envelope[Event],
        attempt: int,
        redelivered: bool,
        abandoned: Callable[[], bool] = _never,
    ) -> Outcome:
        labels = (self.service, self.spec.name)
        if redelivered:
            metrics.REDELIVERIES.labels(*labels).inc()
        key = envelope.key if self.spec.ordered_by_key else None
        async with self._locks.hold(key):
            outcome = await self._until_decided(envelope, attempt, abandoned)
        metrics.MESSAGES_HANDLED.labels(*labels, outcome.value).inc()
        return outcome

    async def _until_decided(
        self, envelope: Envelope[Event], attempt: int, abandoned: Callable[[], bool]
    ) -> Outcome:
        pause = OUTAGE_BACKOFF[0]
        while True:
            outcome, error = await self._attempt(envelope, attempt)
            if error is not None and is_outage(error):
                if abandoned():
                    return Outcome.ABANDONED
                log.warning(
                    "message.waiting_out_outage",
                    extra={
                        "queue": self.spec.name,
                        "type": envelope.type,
                        "error_type": type(error).__name__,
                    },
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, OUTAGE_BACKOFF[1])
                continue
            if outcome is Outcome.RETRY and self.spec.retry_in_place:
                metrics.MESSAGES_HANDLED.labels(self.service, self.spec.name, "retried").inc()
                await asyncio.sleep(self.spec.retry_delay_ms / 1000)
                if abandoned():
                    return Outcome.ABANDONED
                attempt += 1
                continue
            return outcome

    async def _attempt(
        self, envelope: Envelope[Event], attempt: int
    ) -> tuple[Outcome, BaseException | None]:
        labels = (self.service, self.spec.name)
        token = trace_id_var.set(envelope.trace_id)
        metrics.IN_FLIGHT.labels(*labels).inc()
        started = time.perf_counter()
        try:
            await self.handler(envelope)
            return Outcome.ACK, None
        except PermanentFailure as exc:
            log.error(
                "message.dead_lettered",
                extra={"queue": self.spec.name, "type": envelope.type, "reason": str(exc)},
            )
            return Outcome.DEAD, exc
        except Exception as exc:
            outcome = Outcome.RETRY if attempt < self.spec.max_attempts else Outcome.DEAD
            if not is_outage(exc):
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
            return outcome, exc
        finally:
            metrics.IN_FLIGHT.labels(*labels).dec()
            metrics.HANDLING_SECONDS.labels(*labels).observe(time.perf_counter() - started)
            trace_id_var.reset(token)
