"""A real S3 server for tests (moto's, over HTTP on a free port), and buckets on it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import boto3
from moto.server import ThreadedMotoServer

from tests.serving import free_port

REGION: Final = "eu-west-2"


def aws_environment(home: Path) -> dict[str, str]:
    """Credentials as the standard AWS chain finds them, and none of this machine's own files."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(home / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
    }


@contextmanager
def s3_server() -> Iterator[str]:
    """moto's S3 server, running until the block ends; its endpoint URL."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def new_bucket(endpoint: str) -> str:
    """A bucket of its own (needs the credentials of `aws_environment` in the environment)."""
    name = f"evidence-{secrets.token_hex(6)}"
    boto3.client("s3", endpoint_url=endpoint, region_name=REGION).create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return name
