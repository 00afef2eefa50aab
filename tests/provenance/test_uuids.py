"""New uuids are valid random RFC 4122 uuids in the usual text form, and distinct."""

import uuid

from provenance.uuids import new_uuid


def test_a_new_uuid_is_a_version_4_uuid_in_canonical_text() -> None:
    for _ in range(2_000):
        text = new_uuid()
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def test_new_uuids_do_not_repeat() -> None:
    assert len({new_uuid() for _ in range(10_000)}) == 10_000
