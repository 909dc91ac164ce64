"""A real S3 endpoint on loopback: moto in server mode, in a thread, with a bucket filled from a directory."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

KEY, SECRET = "testing-key", "testing-secret"


class S3Server:
    """Serve S3 on 127.0.0.1 (random port); ``upload`` copies a directory tree into a bucket."""

    def __init__(self) -> None:
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)

    @property
    def endpoint_url(self) -> str:
        host, port = self.server.get_host_and_port()
        return f"http://{host}:{port}"

    def storage_options(self, *, anon: bool) -> dict[str, Any]:
        """fsspec/s3fs options for this endpoint, anonymous or with the test credentials."""
        credentials: dict[str, Any] = {"anon": True} if anon else {"key": KEY, "secret": SECRET}
        return {**credentials, "client_kwargs": {"endpoint_url": self.endpoint_url, "region_name": "us-east-1"}}

    def client(self) -> Any:
        """A boto3 S3 client with the test credentials."""
        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, aws_access_key_id=KEY, aws_secret_access_key=SECRET, region_name="us-east-1",
        )

    def upload(self, bucket: str, root: Path, *, public: bool) -> None:
        """Copy ``root`` into a new bucket; ``public``: anyone may list and read it (as the PDS mirrors)."""
        client = self.client()
        client.create_bucket(Bucket=bucket, **({"ACL": "public-read"} if public else {}))
        extra = {"ACL": "public-read"} if public else {}
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            client.upload_file(str(path), bucket, path.relative_to(root).as_posix(), ExtraArgs=extra)

    def __enter__(self) -> S3Server:
        os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
        self.server.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.server.stop()

