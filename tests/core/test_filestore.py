"""Parcours et lecture par morceaux du stockage des fichiers, sur disque local et dans un seau S3."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from storages.backends.s3 import S3Storage

from cdv.core import filestore

NAMES = ["a.txt", "b/c.txt", "b/d/e.txt", "f g/é.txt"]


def fill(storage):
    for name in NAMES:
        storage.save(name, ContentFile(name.encode()))


def test_walk_and_stream_on_the_local_disk(tmp_path):
    storage = FileSystemStorage(location=tmp_path)
    assert list(filestore.walk(storage)) == []
    fill(storage)
    (tmp_path / "lien").symlink_to(tmp_path / "b")
    assert sorted(filestore.walk(storage)) == NAMES
    assert sorted(filestore.walk(storage, "b")) == ["b/c.txt", "b/d/e.txt"]
    with filestore.open_stream(storage, "b/d/e.txt") as handle:
        assert handle.read() == b"b/d/e.txt"
    with pytest.raises(FileNotFoundError):
        filestore.open_stream(storage, "absent.txt")


@pytest.mark.parametrize("location", ["", "instance-1"])
def test_walk_and_stream_in_a_bucket(s3_storage, location):
    storage = S3Storage(bucket_name="cdv-tests", region_name="eu-west-3", location=location)
    fill(storage)
    prefix = f"{location}/" if location else ""
    assert sorted(s3_storage.objects()) == sorted(prefix + name for name in NAMES)
    assert sorted(filestore.walk(storage)) == NAMES
    assert sorted(filestore.walk(storage, "b")) == ["b/c.txt", "b/d/e.txt"]
    with filestore.open_stream(storage, "f g/é.txt") as handle:
        assert handle.size == len("f g/é.txt".encode()) and handle.read(3) == b"f g"
    with pytest.raises(FileNotFoundError):
        filestore.open_stream(storage, "absent.txt")
    assert default_storage.__class__.__name__ == "S3Storage"
