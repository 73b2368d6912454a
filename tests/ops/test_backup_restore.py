"""The runbook's backup and restore, carried out on the real PostgreSQL: migrate a service's
schema with the deploy's migration step, fill it, dump it as the backup CronJob does, drop
it, restore it as RUNBOOK.md says, and find every row, sequence and migration as before,
with the other services' schemas untouched."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, MetaData, create_engine, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from conversation.models import Order, OrderLine, Product

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = "conversation"


def libpq(url: str) -> str:
    """The SQLAlchemy URL in the libpq form pg_dump, pg_restore and psql take."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def migrated(own_database_url: str) -> Iterator[Engine]:
    for tool in ("pg_dump", "pg_restore", "psql"):
        if shutil.which(tool) is None:
            message = f"{tool} is not installed (Debian: postgresql-client)"
            if os.environ.get("CI"):
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
    for service in ("conversation", "payments"):
        result = subprocess.run(
            [sys.executable, "-m", "shared.migrate", service],
            env={**os.environ, "DATABASE_URL": own_database_url},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert '"event": "migrations.applied"' in result.stderr
    engine = create_engine(own_database_url)
    yield engine
    engine.dispose()


def snapshot(engine: Engine, schema: str) -> dict[str, Any]:
    """Every row of every table in ``schema`` (ordered), each sequence's position, and
    the schema's indexes and constraints by name."""
    metadata = MetaData(schema=schema)
    metadata.reflect(engine)
    found: dict[str, Any] = {}
    inspector = inspect(engine)
    with engine.connect() as connection:
        for table in sorted(metadata.tables.values(), key=lambda t: t.name):
            order = list(table.primary_key.columns) or list(table.columns)
            rows = connection.execute(select(table).order_by(*order)).all()
            found[table.name] = [tuple(row) for row in rows]
            found[f"{table.name} indexes"] = sorted(
                i["name"] or "" for i in inspector.get_indexes(table.name, schema=schema)
            )
            found[f"{table.name} foreign keys"] = sorted(
                fk["name"] or "" for fk in inspector.get_foreign_keys(table.name, schema=schema)
            )
        for (name,) in connection.execute(
            text("SELECT sequencename FROM pg_sequences WHERE schemaname = :s"), {"s": schema}
        ):
            # Names come from pg_sequences, not from outside.
            position = text(f'SELECT last_value, is_called FROM "{schema}"."{name}"')  # noqa: S608
            found[f"sequence {name}"] = tuple(connection.execute(position).one())
    return found


def fill(engine: Engine) -> None:
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        products = [
            Product(
                sku=f"PACK-{n}",
                name=f"Pack {n} — ₦",
                price_minor=500_000 * n,
                currency="NGN",
                position=n,
            )
            for n in range(1, 6)
        ]
        session.add_all(products)
        for n in range(20):
            order = Order(
                id=uuid.uuid4(),
                reference=f"ORD-{n:06d}",
                phone_number=f"+23480{n:08d}",
                status="awaiting_payment",
                currency="NGN",
                total_minor=500_000 * (n + 1),
                created_at=now,
            )
            order.lines = [
                OrderLine(sku="PACK-1", name="Pack 1", quantity=n + 1, unit_price_minor=500_000)
            ]
            session.add(order)


def backup_script() -> str:
    """The backup CronJob's shell script, as deploy/k8s/base/backup-cronjob.yaml has it."""
    docs = yaml.safe_load_all((ROOT / "deploy/k8s/base/backup-cronjob.yaml").read_text())
    cron = next(d for d in docs if d["kind"] == "CronJob")
    (container,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return str(container["args"][0])


def runbook_command(tool: str) -> str:
    """The restore step's command for ``tool`` from RUNBOOK.md's Restore section."""
    runbook = (ROOT / "deploy" / "RUNBOOK.md").read_text()
    section = runbook.split("### Restore", 1)[1].split("\n### ", 1)[0]
    match = re.search(rf"`({tool} [^`]+)`", section)
    assert match, f"RUNBOOK.md's Restore section has no {tool} command"
    return match.group(1)


def test_a_schema_dumped_dropped_and_restored_as_the_runbook_says_has_the_same_data(
    migrated: Engine, own_database_url: str, tmp_path: Path
) -> None:
    fill(migrated)
    before = snapshot(migrated, SCHEMA)
    other_before = snapshot(migrated, "payments")
    assert len(before["orders"]) == 20 and len(before["order_lines"]) == 20
    assert before["alembic_version"], "the migration version is part of the schema"

    url = libpq(own_database_url)
    backups = tmp_path / "backups"
    backups.mkdir()
    # The CronJob's own script, with its paths pointed at this test's directory.
    script = backup_script().replace("/backups", str(backups))
    dumped = subprocess.run(
        ["sh", "-ec", script],
        env={
            **os.environ,
            "BACKUP_SCHEMAS": f"{SCHEMA} payments",
            "BACKUP_KEEP_DAYS": "14",
            "BACKUP_DATABASE_URL": url,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dumped.returncode == 0, dumped.stderr
    (dump,) = backups.glob(f"{SCHEMA}-*.dump")
    assert not list(backups.glob("*.partial"))

    # The runbook's commands as an operator types them, in the backups directory.
    operator = {**os.environ, "BACKUP_DATABASE_URL": url}
    drop = runbook_command("psql")
    dropped = subprocess.run(
        ["sh", "-ec", drop], cwd=backups, env=operator, capture_output=True, text=True
    )
    assert dropped.returncode == 0, dropped.stderr
    assert SCHEMA not in inspect(migrated).get_schema_names()

    restore = runbook_command("pg_restore").replace(f"{SCHEMA}-<stamp>.dump", dump.name)
    assert dump.name in restore
    restored = subprocess.run(
        ["sh", "-ec", restore], cwd=backups, env=operator, capture_output=True, text=True
    )
    assert restored.returncode == 0, restored.stderr

    assert snapshot(migrated, SCHEMA) == before
    assert snapshot(migrated, "payments") == other_before
    # The restored sequences go on where they were: a new row takes the next id.
    with Session(migrated) as session, session.begin():
        product = Product(sku="PACK-6", name="Pack 6", price_minor=1, currency="NGN", position=6)
        session.add(product)
        session.flush()
        assert product.id == max(row[0] for row in before["products"]) + 1
