"""Rules of the test suite itself. A transactional test flushes the database when it ends; one
without ``serialized_rollback`` leaves the data that migrations ship (acts, checklist version,
reason codes, norms) missing for every test after it, and content types then clash."""

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
TRANSACTIONAL = re.compile(r"django_db\(([^)]*)\)")


def test_every_transactional_test_restores_the_migrated_data():
    offenders = [
        f"{path.relative_to(TESTS)}: django_db({arguments})"
        for path in TESTS.rglob("*.py")
        for arguments in TRANSACTIONAL.findall(path.read_text())
        if "transaction=True" in arguments and "serialized_rollback=True" not in arguments
    ]

    assert offenders == []
