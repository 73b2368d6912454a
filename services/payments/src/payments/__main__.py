"""Start the payments service: migrations, then API + consumers + outbox relay."""

from pathlib import Path

from payments.models import SCHEMA
from payments.service import build_service
from payments.settings import PaymentsSettings
from shared.standalone import run_service

MIGRATIONS = Path(__file__).parent / "migrations"

if __name__ == "__main__":
    run_service(PaymentsSettings(), build_service, migrations=MIGRATIONS, schema=SCHEMA)
