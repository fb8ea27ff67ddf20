"""Whoosh's W3 codec, plus a side file of long posting lists in flat arrays.

Why: W3 stores a posting list as blocks of 128 postings, each block one
zlib-compressed pickle of (ids, weights, positions). Reading a term that half
the corpus has means unpickling hundreds of blocks, positions included, even
when the query only needs document numbers and weights; at 100,000 documents
that was most of the time of a slow query. The side file (``.sdp``, one per
segment, written while Whoosh writes the segment's postings, so rebuilds,
incremental commits and merges all produce it) keeps every posting list
longer than one W3 block a second time as

    ids: uint32 × n | weights: float32 × n | value ends: uint32 × n | values

so a reader takes ids and weights straight from a memory map, and the
positions of just the documents a phrase needs. Whoosh's own files are
unchanged: anything else (short lists, Whoosh's query classes, a segment
without a side file) reads them as before.
"""

from __future__ import annotations

import bisect
import mmap
import pickle
import struct
from array import array
from pathlib import Path

from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter
from whoosh.index import FileIndex

SIDE_EXT = ".sdp"
SIDE_MAGIC = b"SDP1"
# Lists up to one W3 block read fast enough through Whoosh; the side file
# would only grow the directory every reader loads.
SIDE_MIN_POSTINGS = 129
_TRAILER = struct.Struct("<Q4s")  # directory offset, magic


class SideCodec(W3Codec):
    """W3, whose field writer also writes the segment's side file."""

    def field_writer(self, storage, segment):
        return SideFieldWriter(self, storage, segment)


class SideFieldWriter(W3FieldWriter):
    def __init__(self, codec, storage, segment):
        super().__init__(codec, storage, segment)
        self._side = segment.create_file(storage, SIDE_EXT)
        self._side_pos = 0
        self._side_dir: dict[tuple[str, bytes], tuple[int, int, int]] = {}
        self._ids = array("I")
        self._weights = array("f")
        self._values: list[bytes] = []

    def start_term(self, btext):
        super().start_term(btext)
        self._ids = array("I")
        self._weights = array("f")
        self._values = []

    def add(self, docnum, weight, vbytes, length):
        self._postwriter.add_posting(docnum, weight, vbytes, length)
        self._ids.append(docnum)
        self._weights.append(weight)
        self._values.append(vbytes or b"")

    def finish_term(self):
        super().finish_term()
        n = len(self._ids)
        if n < SIDE_MIN_POSTINGS:
            return
        ends = array("I")
        end = 0
        for v in self._values:
            end += len(v)
            ends.append(end)
        values = b"".join(self._values)
        self._side_dir[(self._fieldname, self._btext)] = (self._side_pos, n, len(values))
        for part in (self._ids.tobytes(), self._weights.tobytes(), ends.tobytes(), values):
            self._side.write(part)
            self._side_pos += len(part)

    def close(self):
        self._side.write(pickle.dumps(self._side_dir, protocol=pickle.HIGHEST_PROTOCOL))
        self._side.write(_TRAILER.pack(self._side_pos, SIDE_MAGIC))
        self._side.close()
        super().close()


class SideIndex(FileIndex):
    """A Whoosh file index whose writers use :class:`SideCodec` (segments written
    by merges included), unless a caller chooses another codec."""

    def writer(self, procs=1, **kwargs):
        kwargs.setdefault("codec", SideCodec())
        return super().writer(procs, **kwargs)


class SidePostings:
    """The side file of one segment; ``None`` from :meth:`open` if the segment
    has none (written by plain W3) or it cannot be read."""

    def __init__(self, buf, directory: dict):
        self._buf = buf
        self._dir = directory

    @classmethod
    def open(cls, reader) -> SidePostings | None:
        segment = getattr(reader, "segment", lambda: None)()
        storage = getattr(reader, "_storage", None)
        if segment is None or storage is None:
            return None
        try:
            buf = _map_file(storage, segment, segment.make_filename(SIDE_EXT))
            if buf is None or len(buf) < _TRAILER.size:
                return None
            start, magic = _TRAILER.unpack(buf[len(buf) - _TRAILER.size:])
            if magic != SIDE_MAGIC:
                return None
            directory = pickle.loads(buf[start:len(buf) - _TRAILER.size])  # noqa: S301 - our own file
        except (OSError, ValueError, struct.error, pickle.UnpicklingError, EOFError):
            return None
        if not directory:  # a small segment: no long lists, so no mapping kept open
            return None
        return cls(buf, directory)

    def __contains__(self, key: tuple[str, bytes]) -> bool:
        return key in self._dir

    def _ids(self, fieldname: str, btext: bytes) -> tuple[int, int, array] | None:
        """(start, length, segment-local document numbers) of a term's entry."""
        entry = self._dir.get((fieldname, btext))
        if entry is None:
            return None
        start, n, _ = entry
        ids = array("I")
        ids.frombytes(self._buf[start:start + 4 * n])
        return start, n, ids

    def postings(self, fieldname: str, btext: bytes, offset: int = 0
                 ) -> tuple[array, array] | None:
        """(document numbers + ``offset``, weights) of a long posting list, or None."""
        found = self._ids(fieldname, btext)
        if found is None:
            return None
        start, n, ids = found
        if offset:
            ids = array("I", map(offset.__add__, ids))
        weights = array("f")
        weights.frombytes(self._buf[start + 4 * n:start + 8 * n])
        return ids, weights

    def values_of(self, fieldname: str, btext: bytes, docs: list[int]) -> dict[int, bytes] | None:
        """The encoded values (positions) of those of ``docs`` (segment-local
        numbers) that have the term; None if the term is not in the side file."""
        found = self._ids(fieldname, btext)
        if found is None:
            return None
        start, n, ids = found
        ends = array("I")
        ends.frombytes(self._buf[start + 8 * n:start + 12 * n])
        base = start + 12 * n
        out: dict[int, bytes] = {}
        for d in docs:
            j = bisect.bisect_left(ids, d)
            if j < n and ids[j] == d:
                lo = ends[j - 1] if j else 0
                out[d] = bytes(self._buf[base + lo:base + ends[j]])
        return out


def _map_file(storage, segment, name: str):
    """The bytes of a segment file: memory-mapped where it is a real file or
    part of the segment's compound file (Whoosh's default), else read whole.
    None if the segment has no such file."""
    compound = getattr(storage, "a", None)  # an OverlayStorage over the compound file
    if compound is not None and hasattr(compound, "range"):
        if not compound.file_exists(name):
            return None
        offset, length = compound.range(name)
        folder = getattr(getattr(storage, "b", None), "folder", None)
        if folder is None:
            return _read_whole(compound, name)
        with open(Path(folder) / segment.make_filename(segment.COMPOUND_EXT), "rb") as f:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        return memoryview(mapped)[offset:offset + length]
    if not storage.file_exists(name):
        return None
    folder = getattr(storage, "folder", None)
    if folder is not None:
        with open(Path(folder) / name, "rb") as f:
            return memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))
    return _read_whole(storage, name)


def _read_whole(storage, name: str) -> bytes:
    f = storage.open_file(name)
    try:
        return f.read()
    finally:
        f.close()
