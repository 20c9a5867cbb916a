"""Fixtures of the recorder tests: Triton's JIT on a stand-in driver (no GPU needed)."""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

import pytest
from record_testing import load_fixture


@pytest.fixture(scope="session", autouse=True)
def triton_cache(tmp_path_factory) -> Path:
    """One Triton cache for the session, kept out of the home directory."""
    directory = tmp_path_factory.mktemp("triton_cache")
    saved = os.environ.get("TRITON_CACHE_DIR")
    os.environ["TRITON_CACHE_DIR"] = str(directory)
    yield directory
    if saved is None:
        del os.environ["TRITON_CACHE_DIR"]
    else:
        os.environ["TRITON_CACHE_DIR"] = saved


@pytest.fixture
def cpu_driver(monkeypatch):
    """Makes fixtures/cpu_driver.py's driver the active one for one test."""
    import triton

    driver = load_fixture("cpu_driver").CpuDriver(90)
    monkeypatch.setattr(triton.runtime.driver, "_active", driver)
    return driver


@pytest.fixture
def kernels(cpu_driver) -> ModuleType:
    """A fresh import of fixtures/kernels.py, run on the stand-in driver."""
    return load_fixture("kernels")
