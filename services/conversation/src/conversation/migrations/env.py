"""Alembic environment for the conversation schema."""

from conversation.models import SCHEMA, Base
from shared.migrations import run_env

run_env(Base.metadata, SCHEMA)
