"""Content hashes: the documents written by hand hash exactly as the canonical encoder's."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from provenance.hashing import _ENCODER, HASH_VERSION, data_hash, process_hash


def _canonical_hash(document: dict[str, Any]) -> str:
    text = _ENCODER.encode(document)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


ATTRIBUTES = [
    pytest.param({"value": 5}, id="int"),
    pytest.param({"value": -(2**63)}, id="smallest-int"),
    pytest.param({"value": 2**63 - 1}, id="largest-int"),
    pytest.param({"value": 1.0}, id="integral-float"),
    pytest.param({"value": 0.1}, id="float"),
    pytest.param({"value": 1e16}, id="large-float"),
    pytest.param({"value": -0.0}, id="negative-zero"),
    pytest.param({"value": 5e-324}, id="subnormal"),
    pytest.param({"value": True}, id="true"),
    pytest.param({"value": False}, id="false"),
    pytest.param({"value": None}, id="null"),
    pytest.param({"value": 'é"\\\n\t\x00\x1f\u2028 \ud800 😀'}, id="text-to-escape"),
    pytest.param({"b": 1, "a": 2, "é": 3, "A": 4, "": 5, "a\x00": 6}, id="keys-to-sort"),
    pytest.param({}, id="empty"),
    pytest.param({"list": [1, "a", {"b": None}]}, id="nested-list"),
    pytest.param({"dict": {"y": 1, "x": [2.5]}}, id="nested-dict"),
    pytest.param({"value": float("nan")}, id="nan"),
    pytest.param({"value": float("-inf")}, id="infinity"),
    pytest.param({1: "one", 2: "two"}, id="int-keys"),
]


@pytest.mark.parametrize("attributes", ATTRIBUTES)
def test_a_data_hash_is_the_hash_of_the_canonical_document(attributes: dict[Any, Any]) -> None:
    node_type = 'data.ünusual"type'
    document = {"v": HASH_VERSION, "type": node_type, "attributes": attributes}
    assert data_hash(node_type, attributes) == _canonical_hash(document)


@pytest.mark.parametrize("attributes", ATTRIBUTES)
def test_a_process_hash_is_the_hash_of_the_canonical_document(
    attributes: dict[Any, Any],
) -> None:
    inputs = {str(name): repr(value) for name, value in attributes.items()}
    document = {"v": HASH_VERSION, "class": "m.Ç", "source": "f00d", "inputs": inputs}
    assert process_hash("m.Ç", "f00d", inputs) == _canonical_hash(document)


def test_a_float_subclass_is_written_by_the_encoder_itself() -> None:
    class Ratio(float):
        def __repr__(self) -> str:
            return "not what json writes"

    document = {"v": HASH_VERSION, "type": "data.float", "attributes": {"value": Ratio(0.5)}}
    assert data_hash("data.float", {"value": Ratio(0.5)}) == _canonical_hash(document)


def test_keys_of_several_types_fail_as_the_encoder_fails() -> None:
    with pytest.raises(TypeError, match="not supported between instances"):
        data_hash("data.dict", {1: "one", "two": 2})


def test_flat_documents_are_written_without_the_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = data_hash("data.int", {"value": 5}), process_hash("m.C", "f00d", {"a": "b"})

    class Refusing:
        def encode(self, document: object) -> str:
            raise AssertionError(f"the encoder was asked for {document!r}")

    monkeypatch.setattr("provenance.hashing._ENCODER", Refusing())
    assert (data_hash("data.int", {"value": 5}), process_hash("m.C", "f00d", {"a": "b"})) == (
        expected
    )
    with pytest.raises(AssertionError, match="the encoder was asked"):
        data_hash("data.list", {"list": [1]})
