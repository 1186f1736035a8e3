"""Content-Encoding undone as Chromium does: every coding, any chunking, bounded output."""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest
from backports import zstd
from hypothesis import given
from hypothesis import strategies as st

from conformance.capture.decoding import ContentDecoder, DecodeError, parse_codings

BODY = b"".join(b'id: %d\ndata: {"n": %d}\n\n' % (i, i) for i in range(2000))


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


ENCODERS = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": zstd.compress,
}


def decode_all(decoder: ContentDecoder, wire: bytes, step: int) -> bytes:
    out = bytearray()
    for i in range(0, len(wire), step):
        for piece in decoder.feed(wire[i : i + step]):
            assert len(piece) <= max(decoder.piece, 32 * 1024)  # brotli's soft limit
            out += piece
    return bytes(out)


@pytest.mark.parametrize("coding", sorted(ENCODERS))
@pytest.mark.parametrize("step", [1, 7, 4096, 10**9])
def test_every_coding_any_chunking(coding: str, step: int) -> None:
    wire = ENCODERS[coding](BODY)
    decoder = ContentDecoder(coding, piece=1000)
    assert decode_all(decoder, wire, step) == BODY
    assert decoder.ignored() == []


def test_raw_deflate_is_accepted_as_browsers_do() -> None:
    assert decode_all(ContentDecoder("deflate"), raw_deflate(BODY), 100) == BODY


def test_stacked_codings_are_undone_in_reverse() -> None:
    wire = brotli.compress(gzip.compress(BODY))
    assert parse_codings("gzip, br") == ["gzip", "br"]
    assert decode_all(ContentDecoder("gzip, br"), wire, 333) == BODY


def test_only_the_first_gzip_member_is_decoded_and_the_rest_counted() -> None:
    second = gzip.compress(b"data: lost\n\n")
    decoder = ContentDecoder("gzip")
    assert decode_all(decoder, gzip.compress(BODY) + second, 50) == BODY
    assert decoder.ignored() == [("gzip", len(second))]


def test_identity_and_unknown_codings_pass_through() -> None:
    for value in (None, "", "identity", " Identity "):
        decoder = ContentDecoder(value)
        assert not decoder.active
        assert not decoder.unsupported
        assert decode_all(decoder, BODY, 10) == BODY
    odd = ContentDecoder("compress")
    assert odd.unsupported == ["compress"]
    assert not odd.active
    assert decode_all(odd, b"abc", 1) == b"abc"


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_corrupt_data_raises_one_line(coding: str) -> None:
    wire = bytearray(ENCODERS[coding](BODY))
    wire[:8] = b"\xff" * 8  # a damaged header is always detected (a damaged literal may not be)
    with pytest.raises(DecodeError) as info:
        decode_all(ContentDecoder(coding), bytes(wire), 64)
    assert coding in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_a_bomb_is_decoded_lazily_in_bounded_pieces(coding: str) -> None:
    bomb = ENCODERS[coding](b"\0" * (64 * 1024 * 1024))  # 64 MiB of output from a few KiB
    decoder = ContentDecoder(coding, piece=64 * 1024)
    got = 0
    for piece in decoder.feed(bomb):
        got += len(piece)
        if got >= 1024 * 1024:
            break  # the caller's limit: nothing more is decompressed
    assert 1024 * 1024 <= got <= 1024 * 1024 + 64 * 1024


@given(st.binary(max_size=3000), st.lists(st.integers(1, 500), min_size=1, max_size=20))
def test_gzip_split_anywhere(data: bytes, cuts: list[int]) -> None:
    wire = gzip.compress(data)
    decoder = ContentDecoder("gzip", piece=97)
    out = bytearray()
    pos = 0
    for cut in [*cuts, len(wire)]:
        for piece in decoder.feed(wire[pos : pos + cut]):
            out += piece
        pos += cut
    while pos < len(wire):
        for piece in decoder.feed(wire[pos : pos + 500]):
            out += piece
        pos += 500
    assert bytes(out) == data
