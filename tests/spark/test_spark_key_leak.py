"""The key leak scan: the key (as text, hex, base64) and the HMAC pads (raw bytes, hex, base64)
are nowhere in what the Spark side wrote: the warehouse dir, the Derby metastore and its log,
Spark's event log and scratch files, dbt's target/ and logs/, and the build's output."""

from __future__ import annotations

import base64
from pathlib import Path

from dbt_harness import TEST_KEY
from pseudonym_key import hmac_pads


def needles(key: str) -> list[bytes]:
    raw = key.encode()
    ipad, opad = hmac_pads(raw)
    found = [raw, raw.hex().encode(), raw.hex().upper().encode(), base64.b64encode(raw)]
    for pad in (ipad, opad):
        found += [pad, pad.hex().encode(), pad.hex().upper().encode(), base64.b64encode(pad)]
    return found


def files_holding(paths: list[Path], key: str) -> list[Path]:
    searched = needles(key)
    return [p for p in paths if any(n in p.read_bytes() for n in searched)]


def test_the_scan_finds_a_planted_key(tmp_path):
    # The scan itself works: each form of the key and the pads is found when present.
    for index, needle in enumerate(needles(TEST_KEY)):
        planted = tmp_path / f"planted_{index}.bin"
        planted.write_bytes(b"prefix " + needle + b" suffix")
        assert files_holding([planted], TEST_KEY) == [planted]


def test_nothing_spark_wrote_holds_the_key_or_the_pads(spark_build):
    written = spark_build.written()
    # Not vacuous: the warehouse, the metastore, the event log and dbt's logs are there.
    names = {p.name for p in written}
    assert any(p.suffix == ".parquet" or "part-" in p.name for p in written)
    assert any("metastore_db" in p.parts for p in written)
    assert any("events" in p.parts for p in written)
    assert "dbt.log" in names
    leaked = files_holding(written, TEST_KEY)
    assert not leaked, f"{len(leaked)} files hold the key or the pads: " + ", ".join(
        str(p.relative_to(spark_build.root)) for p in leaked
    )
