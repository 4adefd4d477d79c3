"""The memory backend: the Store contract, plus the shared-by-name registry."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from durableflow.core.errors import StoreError
from durableflow.runtime.store import MemoryStore, Store, open_store
from tests.runtime.store_contract import StoreContract, start
from tests.runtime.store_lease_contract import LeaseContract
from tests.runtime.store_purge_contract import PurgeContract
from tests.runtime.store_step_contract import StepContract
from tests.runtime.store_workers_contract import WorkersContract
from tests.runtime.test_store_work_contract import WorkContract


class TestMemoryStoreContract(
    StoreContract, WorkContract, StepContract, LeaseContract, PurgeContract, WorkersContract
):
    """The contract on a private memory store."""

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        s = open_store("memory://")
        yield s
        s.close()


def _name() -> str:
    return f"memory://test-{uuid.uuid4().hex}"


def test_memory_urls_with_one_name_share_data() -> None:
    url = _name()
    a, b = open_store(url), open_store(url)
    start(a)
    assert b.get_instance("i1") is not None
    a.close()
    b.close()


def test_bare_memory_urls_are_private() -> None:
    a, b = open_store("memory://"), open_store("memory://")
    start(a)
    assert b.get_instance("i1") is None


def test_named_memory_store_is_freed_with_its_last_handle() -> None:
    url = _name()
    a, b = open_store(url), open_store(url)
    start(a)
    a.close()
    assert b.get_instance("i1") is not None
    b.close()
    assert open_store(url).get_instance("i1") is None


def test_memory_store_reports_its_url() -> None:
    assert MemoryStore("x").url == "memory://x"


def test_memory_store_takes_no_options() -> None:
    with pytest.raises(StoreError, match="no options"):
        open_store("memory://", busy_timeout=1)
