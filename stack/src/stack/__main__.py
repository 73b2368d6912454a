"""`make run`: embedded with nothing configured, one process per service with
RABBITMQ_URL and DATABASE_URL set."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from stack.embedded import run_embedded
from stack.supervisor import run_processes


def main() -> int:
    has_broker = bool(os.environ.get("RABBITMQ_URL"))
    has_database = bool(os.environ.get("DATABASE_URL"))
    if has_broker and has_database:
        return asyncio.run(run_processes())
    if has_broker or has_database:
        print(
            "Set both RABBITMQ_URL and DATABASE_URL to run one process per service, "
            "or neither for the embedded default.",
            file=sys.stderr,
        )
        return 2
    asyncio.run(run_embedded(Path(os.environ.get("VAR_DIR", "var"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
