"""The PostgreSQL backend: every Store contract suite, plus URLs, schemas, migrations,
errors, fencing and notifications."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from durableflow.runtime.store import PostgresStore, Store, open_store
from tests.runtime.store_contract import StoreContract
from tests.runtime.store_lease_contract import LeaseContract
from tests.runtime.store_purge_contract import PurgeContract
from tests.runtime.store_step_contract import StepContract
from tests.runtime.store_workers_contract import WorkersContract
from tests.runtime.test_store_work_contract import WorkContract

pytestmark = pytest.mark.postgres


class TestPostgresStoreContract(
    StoreContract, WorkContract, StepContract, LeaseContract, PurgeContract, WorkersContract
):
    """The contract on a fresh schema."""

    @pytest.fixture
    def store(self, pg_url: str) -> Iterator[Store]:
        s = open_store(pg_url)
        assert isinstance(s, PostgresStore)
        yield s
        s.close()
