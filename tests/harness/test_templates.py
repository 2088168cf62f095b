"""A world's data folders start from the session's templates: what one world's cloud changes stays its own."""

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.cloud.domain.signer import Signer
from flex_emulator.shared.keys import write_public
from flex_emulator.templates import CLOUD_SHARED, Templates


def test_a_cloud_that_replaces_its_key_changes_neither_the_template_nor_another_worlds_cloud(tmp_path: Path) -> None:
    templates = Templates.session()
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    templates.prepare_cloud(mine)
    templates.prepare_cloud(theirs)
    before = {name: (templates.cloud / name).read_bytes() for name in CLOUD_SHARED}
    assert Signer.load(mine).kid == Signer.load(theirs).kid  # a session's clouds share the signing key

    Signer.load(mine).replace(Ed25519PrivateKey.generate(), mine)  # as a restored state with another key does

    assert Signer.load(mine).kid != Signer.load(theirs).kid
    assert {name: (templates.cloud / name).read_bytes() for name in CLOUD_SHARED} == before
    assert {name: (theirs / name).read_bytes() for name in CLOUD_SHARED} == before
    assert (mine / "jwks.json").read_bytes() != before["jwks.json"]


def test_a_public_file_is_replaced_whole_and_only_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    write_public(path, '{"keys": []}')
    first = os.stat(path).st_ino
    write_public(path, '{"keys": []}')
    assert os.stat(path).st_ino == first  # the same text: not written again
    write_public(path, '{"keys": [1]}')
    assert os.stat(path).st_ino != first and path.read_text() == '{"keys": [1]}'  # a new file put in its place
    assert sorted(item.name for item in tmp_path.iterdir()) == ["jwks.json"]
