"""Alembic environment for the payments schema."""

from payments.models import SCHEMA, Base
from shared.migrations import run_env

run_env(Base.metadata, SCHEMA)
