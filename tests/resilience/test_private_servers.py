"""The private servers the fault tests stop and start: a stop is real (clients lose their
connection, the port closes) and a start comes back with what was made durable."""

from __future__ import annotations

import asyncio

import aio_pika
import psycopg
import pytest

from tests.resilience.servers import PrivatePostgres, PrivateRabbitMQ


async def test_rabbitmq_node_stops_for_real_and_keeps_persistent_messages(
    private_rabbitmq: PrivateRabbitMQ,
) -> None:
    node = private_rabbitmq
    connection = await aio_pika.connect(node.url)
    channel = await connection.channel(publisher_confirms=True)
    queue = await channel.declare_queue("kept", durable=True, arguments={"x-queue-type": "quorum"})
    await channel.default_exchange.publish(
        aio_pika.Message(b"still here", delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
        routing_key=queue.name,
    )

    await asyncio.to_thread(node.stop)
    with pytest.raises((aio_pika.exceptions.AMQPError, ConnectionError, RuntimeError)):
        await asyncio.wait_for(
            channel.default_exchange.publish(aio_pika.Message(b"lost"), routing_key=queue.name),
            10,
        )
    with pytest.raises(aio_pika.exceptions.AMQPConnectionError):
        await aio_pika.connect(node.url, timeout=5)

    await asyncio.to_thread(node.start)
    connection = await aio_pika.connect(node.url)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(
            "kept", durable=True, arguments={"x-queue-type": "quorum"}
        )
        message = await queue.get(timeout=10)
        assert message.body == b"still here"
    finally:
        await connection.close()
    print(f"\nRabbitMQ node: boots {node.boot_seconds}, stops {node.stop_seconds} s")
    assert max(node.boot_seconds) < 60


def test_postgres_cluster_stops_for_real_and_keeps_committed_rows(
    private_postgres: PrivatePostgres,
) -> None:
    cluster = private_postgres
    dsn = f"host=127.0.0.1 port={cluster.port} user=postgres dbname={cluster.database}"
    session = psycopg.connect(dsn, autocommit=True)
    session.execute("CREATE TABLE kept (note text)")
    session.execute("INSERT INTO kept VALUES ('still here')")

    cluster.stop()
    with pytest.raises(psycopg.OperationalError):
        session.execute("SELECT 1")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(dsn, connect_timeout=5)

    cluster.start()
    with psycopg.connect(dsn) as again:
        assert again.execute("SELECT note FROM kept").fetchall() == [("still here",)]
    print(f"\nPostgreSQL cluster: boots {cluster.boot_seconds}, stops {cluster.stop_seconds} s")
    assert max(cluster.boot_seconds) < 60
