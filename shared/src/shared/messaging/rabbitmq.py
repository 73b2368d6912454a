"""The broker on RabbitMQ: a durable topic exchange, quorum queues, confirms, retries, DLQ."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from pydantic import ValidationError

from shared import metrics
from shared.events import Envelope, Event, UnknownEventError, decode_envelope
from shared.messaging.broker import BrokerUnavailableError, Handler, QueueSpec
from shared.messaging.dispatch import Dispatcher, Outcome
from shared.messaging.partitioned import PartitionedConsumer, run_to_end
from shared.messaging.partitions import SLOT_HEADER, slot_of

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-attempts"
QUORUM: dict[str, Any] = {"x-queue-type": "quorum"}
# What acking or nacking raises once the message's channel or connection is gone.
CHANNEL_GONE = (
    aio_pika.exceptions.AMQPError,
    aio_pika.exceptions.ChannelInvalidStateError,
    ConnectionError,
    RuntimeError,
)
# A message that kills its consumer again and again (so never reaches our own retry
# logic) is dead-lettered by RabbitMQ itself after this many deliveries.
DELIVERY_LIMIT = 20


class RabbitBroker:
    def __init__(
        self,
        url: str,
        *,
        service: str,
        exchange_name: str = "tutordesk",
        publish_timeout: float = 10.0,
        drain_timeout: float = 30.0,
        rebalance_seconds: float = 2.0,
    ) -> None:
        self._url = url
        self.service = service
        self.exchange_name = exchange_name
        self.publish_timeout = publish_timeout
        # How long a stop waits for the messages in hand to finish; RabbitMQ's answer to a
        # cancel or a close is awaited for a few seconds only. A broker that is gone must
        # not keep a stopping process alive.
        self.drain_timeout = drain_timeout
        self.stop_rpc_timeout = 5.0
        self.rebalance_seconds = rebalance_seconds
        self._partitioned: list[PartitionedConsumer] = []
        self._running: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._publish_lock = asyncio.Lock()
        self._consumers: list[tuple[AbstractQueue, str]] = []
        self._consume_channels: list[AbstractChannel] = []
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def connect(self, *, attempts: int | None = None) -> None:
        """Connect, retrying with backoff; ``attempts=None`` keeps trying until it works."""
        delay, tried = 0.5, 0
        while True:
            tried += 1
            try:
                self._connection = await aio_pika.connect_robust(
                    self._url,
                    client_properties={"connection_name": self.service},
                    reconnect_interval=1.0,
                )
                break
            except (OSError, aio_pika.exceptions.AMQPError) as exc:
                if attempts is not None and tried >= attempts:
                    raise BrokerUnavailableError(f"cannot reach RabbitMQ: {exc}") from exc
                log.warning("broker.connect_failed", extra={"attempt": tried, "error": str(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self._publish_channel = await self._connection.channel(publisher_confirms=True)
        self._exchange = await self._publish_channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        log.info("broker.connected", extra={"exchange": self.exchange_name})

    def is_connected(self) -> bool:
        return bool(
            self._connection is not None
            and not self._connection.is_closed
            and self._publish_channel is not None
            and not self._publish_channel.is_closed
        )

    async def publish(self, envelope: Envelope[Event]) -> None:
        if self._exchange is None or not self.is_connected():
            metrics.PUBLISH_FAILURES.labels(self.service).inc()
            raise BrokerUnavailableError("not connected to RabbitMQ")
        message = aio_pika.Message(
            body=envelope.to_json(),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=str(envelope.id),
            type=envelope.type,
            correlation_id=envelope.trace_id,
            timestamp=envelope.occurred_at,
            # Consumers with partitioned queues route on the slot (see partitions.py).
            headers={ATTEMPT_HEADER: 1, SLOT_HEADER: str(slot_of(envelope))},
        )
        await self._confirmed(self._exchange, message, envelope.routing_key)
        metrics.EVENTS_PUBLISHED.labels(self.service, envelope.type).inc()

    async def _confirmed(
        self, exchange: AbstractExchange, message: aio_pika.Message, routing_key: str
    ) -> None:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(
                exchange.publish(message, routing_key=routing_key), self.publish_timeout
            )
        except (TimeoutError, aio_pika.exceptions.AMQPError, ConnectionError, RuntimeError) as exc:
            metrics.PUBLISH_FAILURES.labels(self.service).inc()
            raise BrokerUnavailableError(f"RabbitMQ did not confirm the message: {exc!r}") from exc
        metrics.PUBLISH_SECONDS.labels(self.service).observe(time.perf_counter() - started)

    async def consume(self, spec: QueueSpec, handler: Handler) -> None:
        if self._connection is None:
            raise BrokerUnavailableError("connect() first")
        self._stopping = False
        dispatcher = Dispatcher(self.service, spec, handler)
        if spec.partitions > 0:
            partitioned = PartitionedConsumer(
                self._connection,
                spec,
                exchange_name=self.exchange_name,
                service=self.service,
                rebalance_seconds=self.rebalance_seconds,
                queue_arguments=queue_arguments(spec),
                deliver=lambda message, abandoned: self._counted(
                    self._handle(spec, dispatcher, message, abandoned)
                ),
                declare_dead_letters=self._declare_dead_letters,
            )
            await partitioned.start()
            self._partitioned.append(partitioned)
            return
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=spec.prefetch)
        exchange = await channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        await self._declare_dead_letters(channel, spec)
        # The delay rides on each message (its expiration), not on the queue, so replicas
        # or tests with another CONSUMER_RETRY_DELAY_MS can still declare the same queue.
        await channel.declare_queue(
            spec.retry_queue,
            durable=True,
            arguments={
                **QUORUM,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": spec.name,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )
        queue = await channel.declare_queue(
            spec.name, durable=True, arguments=queue_arguments(spec)
        )
        for routing_key in spec.routing_keys:
            await queue.bind(exchange, routing_key=routing_key)

        async def on_message(message: AbstractIncomingMessage) -> None:
            handling = self._handle(spec, dispatcher, message, lambda: self._stopping)
            await run_to_end(self._counted(handling), self._running)

        tag = await queue.consume(on_message)
        self._consumers.append((queue, tag))
        self._consume_channels.append(channel)
        log.info("broker.consuming", extra={"queue": spec.name, "prefetch": spec.prefetch})

    async def _declare_dead_letters(self, channel: AbstractChannel, spec: QueueSpec) -> None:
        await channel.declare_queue(spec.dead_letter_queue, durable=True, arguments=QUORUM)

    async def _counted(self, handling: Awaitable[None]) -> None:
        """Run one message's handling, keeping count of those in hand for a clean stop."""
        self._in_flight += 1
        self._idle.clear()
        try:
            await handling
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def _handle(
        self,
        spec: QueueSpec,
        dispatcher: Dispatcher,
        message: AbstractIncomingMessage,
        abandoned: Callable[[], bool],
    ) -> None:
        headers = message.headers or {}
        raw_attempt = headers.get(ATTEMPT_HEADER, 1)
        attempt = raw_attempt if isinstance(raw_attempt, int) and raw_attempt > 0 else 1
        try:
            envelope = decode_envelope(message.body)
        except (ValidationError, UnknownEventError, ValueError) as exc:
            log.error("message.undecodable", extra={"queue": spec.name, "error": str(exc)[:300]})
            await self._forward(message, spec.dead_letter_queue, attempt, reason="undecodable")
            metrics.MESSAGES_HANDLED.labels(self.service, spec.name, Outcome.DEAD.value).inc()
            return
        outcome = await dispatcher.dispatch(
            envelope, attempt, message.redelivered or False, abandoned
        )
        if outcome is Outcome.ABANDONED:
            # Unacked, it goes back to the queue when its channel closes.
            return
        if outcome is Outcome.ACK:
            await self._ack(message)
        elif outcome is Outcome.RETRY:
            await self._forward(
                message,
                spec.retry_queue,
                attempt + 1,
                reason="retry",
                expiration_ms=spec.retry_delay_ms,
            )
        else:
            await self._forward(message, spec.dead_letter_queue, attempt, reason="failed")

    async def _forward(
        self,
        message: AbstractIncomingMessage,
        queue_name: str,
        attempt: int,
        reason: str,
        expiration_ms: int | None = None,
    ) -> None:
        """Move a message to the retry or dead-letter queue; requeue it if that fails."""
        copy = aio_pika.Message(
            body=message.body,
            content_type=message.content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message.message_id,
            type=message.type,
            correlation_id=message.correlation_id,
            headers={**(message.headers or {}), ATTEMPT_HEADER: attempt, "x-reason": reason},
            expiration=None if expiration_ms is None else expiration_ms / 1000,
        )
        try:
            if self._publish_channel is None:
                raise BrokerUnavailableError("no publish channel")
            await self._confirmed(self._publish_channel.default_exchange, copy, queue_name)
        except BrokerUnavailableError:
            with contextlib.suppress(*CHANNEL_GONE):
                await message.nack(requeue=True)
            return
        await self._ack(message)

    async def _ack(self, message: AbstractIncomingMessage) -> None:
        try:
            await message.ack()
        except CHANNEL_GONE:
            # The connection dropped after the handler committed: the broker delivers the
            # message again and the inbox recognises it.
            log.warning("message.ack_lost", extra={"message_id": message.message_id})

    async def stop_consuming(self) -> None:
        """Cancel every consumer, then wait (up to ``drain_timeout``) for the messages in
        hand to be handled and acked. Unacked ones return to the queue when the channel
        closes, for another replica."""
        self._stopping = True
        partitioned, self._partitioned = self._partitioned, []
        for consumer in partitioned:
            await consumer.stop(self.drain_timeout, self.stop_rpc_timeout)
        # Without a connection there is nothing to cancel: the consumers went with it, and
        # RabbitMQ has put back what they held.
        consumers = self._consumers if self.is_connected() else []
        for queue, tag in consumers:
            try:
                await asyncio.wait_for(queue.cancel(tag), self.stop_rpc_timeout)
            except (TimeoutError, aio_pika.exceptions.AMQPError, RuntimeError, ConnectionError):
                log.warning("broker.cancel_failed", extra={"queue": queue.name})
        self._consumers.clear()
        try:
            await asyncio.wait_for(self._idle.wait(), self.drain_timeout)
        except TimeoutError:
            log.warning("broker.drain_timed_out", extra={"in_flight": self._in_flight})

    async def close(self) -> None:
        await self.stop_consuming()
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                await asyncio.wait_for(connection.close(), self.stop_rpc_timeout)
            except (TimeoutError, aio_pika.exceptions.AMQPError, RuntimeError, ConnectionError):
                log.warning("broker.close_failed")


def queue_arguments(spec: QueueSpec) -> dict[str, Any]:
    """A consuming queue: quorum, with poison messages that kill consumers dead-lettered by
    the broker itself, since they never reach our own retry logic."""
    return {
        **QUORUM,
        "x-delivery-limit": DELIVERY_LIMIT,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": spec.dead_letter_queue,
    }
