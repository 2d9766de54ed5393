"""FsspecStore on S3 costs one request per primitive where S3 allows it, counted at the server."""

from __future__ import annotations

import pytest

from modelyard.errors import KeyExistsError, NotFoundError
from modelyard.storage import FsspecStore

from ..conftest import S3Requests

pytestmark = pytest.mark.s3


@pytest.fixture
def store(s3_url: str, s3_endpoint: str, s3_requests: S3Requests) -> FsspecStore:
    pytest.importorskip("s3fs", minversion="2024.12.0")
    opened = FsspecStore(s3_url, endpoint_url=s3_endpoint, key="testing", secret="testing")
    opened.write("folder/value", b"x" * 100)
    opened.write("folder/deeper/value", b"y")
    s3_requests.take()
    return opened


def _methods(s3_requests: S3Requests) -> list[str]:
    return ["LIST" if "list-type=2" in query else method for method, _, query in s3_requests.take()]


def test_reads_are_one_get(store: FsspecStore, s3_requests: S3Requests) -> None:
    assert store.read("folder/value") == b"x" * 100
    assert _methods(s3_requests) == ["GET"]
    with pytest.raises(NotFoundError):
        store.read("folder/missing")  # a missing key: no HEAD, no folder probe
    assert _methods(s3_requests) == ["GET"]
    with pytest.raises(NotFoundError):
        store.read("folder/deeper")  # a folder is not a key, and costs no more
    assert _methods(s3_requests) == ["GET"]


def test_exists_is_one_head(store: FsspecStore, s3_requests: S3Requests) -> None:
    assert store.exists("folder/value")
    assert not store.exists("folder/missing")
    assert not store.exists("folder/deeper")
    assert _methods(s3_requests) == ["HEAD", "HEAD", "HEAD"]


def test_list_is_one_listing(store: FsspecStore, s3_requests: S3Requests) -> None:
    assert store.list("folder/d") == ["folder/deeper/value"]
    assert store.list("nothing/here/") == []
    assert _methods(s3_requests) == ["LIST", "LIST"]


def test_writes_are_one_put(store: FsspecStore, s3_requests: S3Requests) -> None:
    store.create("new/key", b"1")
    with pytest.raises(KeyExistsError):
        store.create("new/key", b"2")
    store.write("new/key", b"3")
    assert _methods(s3_requests) == ["PUT", "PUT", "PUT"]


def test_open_and_delete(store: FsspecStore, s3_requests: S3Requests) -> None:
    with store.open("folder/value") as handle:
        assert handle.read() == b"x" * 100
    # One HEAD for the size and ETag (reads pin it with If-Match), then the bytes.
    assert _methods(s3_requests) == ["HEAD", "GET"]
    with pytest.raises(NotFoundError):
        store.open("folder/deeper")
    s3_requests.take()
    store.delete("folder/value")  # S3 deletes silently: a HEAD first tells a missing key
    assert _methods(s3_requests) == ["HEAD", "DELETE"]
    with pytest.raises(NotFoundError):
        store.delete("folder/value")
    assert _methods(s3_requests) == ["HEAD"]
