"""Shared fixtures: the real corpus (``../shared/corpus`` beside the repository) and servers."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from xarray_crism.testing.volume import write_crism_volumes, write_mastcamz_bundle

from .http_server import RangeServer

if TYPE_CHECKING:
    from .s3_server import S3Server  # moto and boto3: imported by the S3 fixture only (the min-versions CI job has neither)

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


@pytest.fixture(scope="session")
def volumes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generated TRDR, DDR and CDR volumes in the SIS layout and a Mastcam-Z bundle (read-only)."""
    root = tmp_path_factory.mktemp("archive")
    roots = write_crism_volumes(root, CRISM)
    return {**roots, "mastcamz": write_mastcamz_bundle(root, sorted((CORPUS / "mastcamz" / "rad").glob("*.IMG")))}


@pytest.fixture(scope="session")
def volume_server(volumes: dict[str, Path]) -> Iterator[RangeServer]:
    """The generated volumes over HTTP (Range support), at ``server.url + "/mrocr_2104/"`` etc."""
    with RangeServer(volumes["trdr"].parent) as server:
        yield server


@pytest.fixture(scope="session")
def volume_s3(volumes: dict[str, Path]) -> Iterator[S3Server]:
    """The generated volumes in the public bucket ``archive`` and the private ``private`` of a moto S3 server."""
    from .s3_server import S3Server

    with S3Server() as server:
        server.upload("archive", volumes["trdr"].parent, public=True)
        server.upload("private", volumes["trdr"].parent, public=False)
        yield server
