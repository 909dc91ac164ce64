"""Shared fixtures: the real corpus (``../shared/corpus`` beside the repository) and servers."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from .http_server import RangeServer

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
CRISM = CORPUS / "crism"
TRDRS = sorted((CRISM / "trdr").glob("*.lbl"))


def pytest_configure(config: pytest.Config) -> None:
    if not CRISM.is_dir():
        raise pytest.UsageError(f"the test corpus is missing: expected {CORPUS} (../shared beside the repository)")


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the corpus' TRDR and CDR directories, flattened into one directory."""
    for sub in ("trdr", "cdr"):
        for f in (CRISM / sub).iterdir():
            shutil.copy(f, tmp_path / f.name)
    return tmp_path


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[Path, RangeServer]]:
    """A directory served over HTTP on loopback by a server that honours Range."""
    root = tmp_path / "www"
    root.mkdir()
    with RangeServer(root) as server:
        yield root, server
