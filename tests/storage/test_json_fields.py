"""JSON fields encode with orjson and fall back to the standard encoder for what orjson
refuses: what is stored is the same compact text either way, and everything stored before
(by either encoder, or by an older Kindly) reads back."""

from __future__ import annotations

import json
import math
import zlib
from typing import Any

import pytest

from app.storage.models import json_text, json_utf8, read_json

STDLIB = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@pytest.mark.parametrize(
    "value",
    [
        {"id": "110", "content": '<p>Café ☕ 🌊 «ok» \u2028 \t "quoted" \\ </p>', "n": [1, 2.5]},
        [None, True, False, 0, -7, 2**63 - 1, "", {}],
        {"b": 1, "a": 2},  # key order kept, not sorted
        "plain",
    ],
)
def test_same_text_as_the_standard_encoder(value: Any) -> None:
    assert json_text(value) == STDLIB(value)
    assert json_utf8(value) == STDLIB(value).encode("utf-8")
    assert read_json(json_text(value)) == value


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ({1: "a", 2: "b"}, '{"1":"a","2":"b"}'),  # keys that are not strings
        ({"big": 2**70}, '{"big":1180591620717411303424}'),  # past 64 bits
        ({"text": "broken \ud83d emoji"}, '{"text":"broken \ufffd emoji"}'),  # lone surrogate
    ],
)
def test_what_orjson_refuses_is_stored_as_before(value: Any, stored: str) -> None:
    assert json_text(value) == stored
    assert read_json(stored.encode("utf-8")) is None  # bytes are zlib-packed or nothing
    assert read_json(zlib.compress(stored.encode("utf-8"))) == json.loads(stored)


def test_unencodable_values_still_raise() -> None:
    with pytest.raises(TypeError):
        json_text({"tags": {"a", "b"}})


def test_text_that_only_the_standard_reader_takes_still_reads() -> None:
    assert math.isnan(read_json('{"score": NaN}')["score"])
    assert read_json('{"x": "\\udc00"}') == {"x": "\udc00"}
    assert read_json("{not json") is None
    assert read_json("[" * 100_000 + "]" * 100_000) is None  # nested too deep to read
    assert json_text(None) is None and json_utf8(None) is None and read_json(None) is None
