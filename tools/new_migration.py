"""Write a service's next Alembic revision from its models, against a scratch database.

Usage: python tools/new_migration.py SERVICE "what changed"
"""

from __future__ import annotations

import importlib
import os
import sys
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shared.migrations import autogenerate


def main() -> None:
    service, message = sys.argv[1], sys.argv[2]
    package = importlib.import_module(service)
    script_location = Path(package.__file__).parent / "migrations"
    base = make_url(
        os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres")
    )
    scratch = f"scratch_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{scratch}"'))
    try:
        autogenerate(base.set(database=scratch).render_as_string(False), script_location, message)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{scratch}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
