"""Shared fixtures: a private shm directory per test, so tests never see each other's rings."""

import sys
from pathlib import Path

import pytest

# Tests import their helper module (ringtool) from this directory.
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def shm_dir(tmp_path: Path) -> Path:
    d = tmp_path / "shm"
    d.mkdir()
    return d
