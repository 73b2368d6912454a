"""Start the notifier: migrations, then API + consumers."""

from pathlib import Path

from notifier.models import SCHEMA
from notifier.service import build_service
from notifier.settings import NotifierSettings
from shared.standalone import run_service

MIGRATIONS = Path(__file__).parent / "migrations"

if __name__ == "__main__":
    run_service(NotifierSettings(), build_service, migrations=MIGRATIONS, schema=SCHEMA)
