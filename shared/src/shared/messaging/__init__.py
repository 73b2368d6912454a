"""Publishing and consuming events: the broker interface, RabbitMQ, in-memory, outbox, inbox."""

from shared.messaging.broker import (
    Broker,
    BrokerUnavailableError,
    Handler,
    PermanentFailure,
    QueueSpec,
)

__all__ = ["Broker", "BrokerUnavailableError", "Handler", "PermanentFailure", "QueueSpec"]
