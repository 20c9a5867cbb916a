"""Options and fixtures shared by every ttlink test suite."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite golden files from the current output instead of comparing against them",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden")) or os.environ.get("TTLINK_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="session")
def cuda_include_dir() -> Path:
    """Directory holding cuda.h: TTLINK_CUDA_INCLUDE, else the one the Triton wheel ships."""
    override = os.environ.get("TTLINK_CUDA_INCLUDE")
    if override:
        return Path(override)
    spec = importlib.util.find_spec("triton")
    if spec is None or spec.origin is None:
        pytest.fail("cuda.h not found: install the pinned triton wheel or set TTLINK_CUDA_INCLUDE")
    include = Path(spec.origin).parent / "backends" / "nvidia" / "include"
    if not (include / "cuda.h").is_file():
        pytest.fail(f"cuda.h not found under {include}")
    return include
