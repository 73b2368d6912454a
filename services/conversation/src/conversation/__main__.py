"""Start the conversation service: migrations, then API + consumers + outbox relay."""

from pathlib import Path

from conversation.models import SCHEMA
from conversation.service import build_service
from conversation.settings import ConversationSettings
from shared.standalone import run_service

MIGRATIONS = Path(__file__).parent / "migrations"

if __name__ == "__main__":
    run_service(ConversationSettings(), build_service, migrations=MIGRATIONS, schema=SCHEMA)
