"""The SQLite backend: the Store contract, plus file, locking and migration behaviour."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from durableflow.runtime.store import SqliteStore, Store
from tests.runtime.store_contract import StoreContract


class TestSqliteStoreContract(StoreContract):
    """The contract on a fresh database file."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        s = SqliteStore(str(tmp_path / "store.db"))
        yield s
        s.close()
