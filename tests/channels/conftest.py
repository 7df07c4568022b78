"""Channel tests run on one database unless they are marked `both_databases`.

A channel only translates: what a Slack or Teams request stores goes through the same services
and storage that tests/dialogs and tests/storage try on SQLite and on PostgreSQL. Running every
channel scenario on both databases again doubled the slowest part of the suite and tried no
new SQL. Where the database is what is under test - the same request delivered twice at once,
a replay racing the original - the module is marked `both_databases` and runs on both.
"""

from __future__ import annotations

import pytest

from tests.support import one_database_unless_marked


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    one_database_unless_marked(metafunc)
