"""`python -m shared.migrate SERVICE`, the deploy's migration step (compose and the
Kubernetes Job run it; tests/ops/test_backup_restore.py runs it on PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys

import pytest


def migrate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.migrate", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((), "usage: python -m shared.migrate SERVICE"),
        (("billing",), "no installed service called 'billing'"),
        (("gateway",), "gateway has no migrations"),
    ],
)
def test_the_migration_step_refuses_what_it_cannot_migrate(
    args: tuple[str, ...], says: str
) -> None:
    result = migrate(*args)
    assert result.returncode == 2
    assert says in result.stderr
