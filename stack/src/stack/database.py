"""Creates the database named in DATABASE_URL if it does not exist yet."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shared.db import is_sqlite, sync_url


def ensure_database(url: str) -> bool:
    """True if it had to be created."""
    if is_sqlite(url):
        return False
    target = make_url(sync_url(url))
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            )
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{target.database}"'))
            return not exists
    finally:
        admin.dispose()


if __name__ == "__main__":
    created = ensure_database(os.environ["DATABASE_URL"])
    if created:
        print(f"created database {make_url(os.environ['DATABASE_URL']).database}")
