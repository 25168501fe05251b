"""Texts to token ids with whole-array operations: no Python object per token.

The same tokens as ``text.tokenize_py`` on each text, and the same ids as
``Vocabulary.encode`` of them, found on the UTF-8 bytes of many texts at once:

1. the texts (a newline inside one becomes a space: it is a separator) are
   joined by newlines, lowercased in one ``str.lower`` and encoded as UTF-8
   (``surrogatepass``, so any ``str`` encodes);
2. each byte is a separator (0x00-0x20, 0x7F and the bytes of the non-ASCII
   separators; 0x0A ends a text), punctuation (``text.PUNCTUATION``: a token
   of one byte), an apostrophe, or part of a word (letters, digits and the
   other bytes >= 0x80), by one ``bytes.translate``. A token is a punctuation
   byte, or a run of word bytes and apostrophes with the apostrophes at its
   ends left out, as ``tokenize_py`` splits; its bytes are found as start and
   end offsets (bytes, int64);
3. each token gets a 64-bit key from its bytes read as little-endian 8-byte
   words: the first word itself for a token of at most 8 bytes (so the key of
   a short token is its bytes), mixed with the next words for a longer one.
   Reading words at each token's offset costs a few operations per token, not
   per byte;
4. :class:`TokenTable` finds each key in an open-addressing table of the
   vocabulary's keys and checks the match byte for byte (lengths, then the
   8-byte words), so a key shared by two different tokens can never give a
   wrong id; a token matching nothing is unknown.

Texts are processed in chunks of about ``CHUNK_CHARS`` characters (a longer
text gets a chunk of its own), so memory grows with the chunk, not the input.
Where the keys cannot tell a vocabulary's tokens apart (:meth:`TokenTable.build`
gives None), ``NumpyRecurrentEngine.encode`` keeps to the dict.

Every step is exact, none is a shortcut that could give another id than
``tokenize_py``: tests/test_encoding.py compares the two on arbitrary text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sentiment_rnn.engine.threads import in_threads
from sentiment_rnn.text import PUNCTUATION, SEPARATORS

CHUNK_CHARS = 1 << 20  # characters per chunk of texts, about (unless one text is longer)
_PAD = " " * 8  # after the last text: every 8-byte word read at a token's offset is inside the buffer
_MASKS = np.array([(1 << (8 * n)) - 1 for n in range(9)], dtype=np.uint64)  # the low n bytes of a word
_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd: multiplying by it mixes a word's bits upwards
_UNICODE_SEPARATORS = [c.encode("utf-8") for c in SEPARATORS if ord(c) > 0x7F]
_TWO_BYTE_SEPARATORS = sorted(s[1] for s in _UNICODE_SEPARATORS if len(s) == 2)
_THREE_BYTE_SEPARATORS = np.array(
    sorted(int.from_bytes(s, "big") for s in _UNICODE_SEPARATORS if len(s) == 3), dtype=np.int64
)
assert all(s[0] == 0xC2 for s in _UNICODE_SEPARATORS if len(s) == 2)
assert all(len(s) in (2, 3) for s in _UNICODE_SEPARATORS)

# Each byte's class: a separator, the end of a text, punctuation, an apostrophe
# or part of a word (bytes.translate maps a whole buffer to classes at C speed).
_SEPARATOR, _END, _PUNCTUATION, _APOSTROPHE, _WORD = range(5)


def _byte_class(byte: int) -> int:
    if byte > 0x7F:  # in a multi-byte character; those of the non-ASCII separators are taken out later
        return _WORD
    if byte == 0x0A:
        return _END
    if chr(byte) in SEPARATORS:
        return _SEPARATOR
    if chr(byte) in PUNCTUATION:
        return _PUNCTUATION
    return _APOSTROPHE if byte == 0x27 else _WORD


_BYTE_CLASSES = bytes(map(_byte_class, range(256)))


@dataclass
class Tokens:
    """The tokens of a chunk of n texts, as offsets into its bytes.

    Attributes:
        buffer: uint8 (bytes,): the lowercased texts in UTF-8, each ending with
            0x0A, then 8 spaces (the non-ASCII separators still in it: no token holds their bytes).
        starts, ends: int64 (tokens,): each token is ``buffer[start:end]``, in reading order.
        counts: int64 (n,): the number of tokens of each text.
    """

    buffer: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    counts: np.ndarray

    def words(self) -> np.ndarray:
        """uint64 (bytes - 7,): element i is the 8 bytes from offset i, little-endian (a strided view)."""
        return byte_words(self.buffer)

    def keys(self) -> np.ndarray:
        """uint64 (tokens,): each token's key (see the module docstring)."""
        return token_keys(self.words(), self.starts, self.ends - self.starts)


def byte_words(buffer: np.ndarray) -> np.ndarray:
    """The 8-byte little-endian word at every offset of ``buffer`` (uint8, C-contiguous): uint64 (len - 7,), a view."""
    return np.ndarray((len(buffer) - 7,), dtype="<u8", buffer=buffer, strides=(1,))


def token_keys(words: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Keys uint64 (tokens,) of the tokens at byte offsets ``starts`` of ``lengths`` bytes (int64).

    A token of at most 8 bytes has its bytes as key (little-endian, zero above);
    a longer one ``h = h * _MIX + word`` over its further 8-byte words.
    """
    keys = words[starts] & _MASKS[np.minimum(lengths, 8)]
    long = np.flatnonzero(lengths > 8)
    offset = 8
    while len(long):
        remaining = lengths[long] - offset
        word = words[starts[long] + offset] & _MASKS[np.minimum(remaining, 8)]
        keys[long] = keys[long] * _MIX + word
        long = long[remaining > 8]
        offset += 8
    return keys


def split_chunk(texts: Sequence[str]) -> Tokens:
    """The tokens of one chunk of texts, exactly as ``tokenize_py`` gives them text by text."""
    # One str.lower of the joined texts lowercases each text as on its own (a
    # newline is neither cased nor case-ignorable, so the final-sigma rule does
    # not see across it); separators are neither, so lowercasing before they
    # become spaces is the same as after (tests check both).
    lowered = "\n".join([*texts, _PAD]).lower()
    data = lowered.encode("utf-8", "surrogatepass")
    classes = np.frombuffer(data.translate(_BYTE_CLASSES), dtype=np.uint8)
    text_ends = np.flatnonzero(classes == _END)
    if len(text_ends) != len(texts):  # a text holds a newline: a separator, so a space
        return split_chunk([text.replace("\n", " ") for text in texts])
    word = classes == _WORD
    punctuation = classes == _PUNCTUATION
    if not lowered.isascii():
        word[_unicode_separators(data)] = False
    if "'" in lowered:
        word[_inner_apostrophes(classes, word)] = True
    # Token bytes are `word` (now with the apostrophes inside tokens); a
    # punctuation byte is a token and never a token byte, so it bounds both.
    start_mask = punctuation.copy()
    start_mask[0] |= word[0]
    start_mask[1:] |= word[1:] > word[:-1]
    end_mask = punctuation
    end_mask[:-1] |= word[:-1] > word[1:]  # the last byte is padding: never in a token
    starts = np.flatnonzero(start_mask)
    ends = np.flatnonzero(end_mask) + 1
    counts = np.diff(np.searchsorted(starts, text_ends), prepend=0)
    return Tokens(np.frombuffer(data, dtype=np.uint8), starts, ends, counts)


def _unicode_separators(data: bytes) -> np.ndarray:
    """Offsets int64 of the UTF-8 bytes of every non-ASCII separator (U+0080-U+00A0, U+1680, U+2000-...).

    A lead byte 0xC2 or 0xE1-0xE3 starts a character (continuation bytes are
    0x80-0xBF), so matching it and the bytes after it finds exactly those characters.
    """
    buffer = np.frombuffer(data, dtype=np.uint8)
    two = np.flatnonzero(buffer[:-1] == 0xC2)
    two = two[np.isin(buffer[two + 1], _TWO_BYTE_SEPARATORS)]
    three = np.flatnonzero((buffer[:-2] - 0xE1) < 3)
    codes = (buffer[three].astype(np.int64) << 16) | (buffer[three + 1].astype(np.int64) << 8) | buffer[three + 2]
    three = three[np.isin(codes, _THREE_BYTE_SEPARATORS)]
    return np.concatenate([two, two + 1, three, three + 1, three + 2])


def _inner_apostrophes(classes: np.ndarray, word: np.ndarray) -> np.ndarray:
    """Offsets int64 of the apostrophes that stay in a token: in a run of them with word bytes on both sides."""
    apostrophes = np.flatnonzero(classes == _APOSTROPHE)
    run_start = np.ones(len(apostrophes), dtype=bool)
    run_start[1:] = apostrophes[1:] != apostrophes[:-1] + 1
    firsts = np.flatnonzero(run_start)
    lasts = np.append(firsts[1:], len(apostrophes)) - 1
    before, after = apostrophes[firsts] - 1, apostrophes[lasts] + 1  # after < len: the last byte is padding
    inner = (before >= 0) & word[before] & word[after]
    sizes = (lasts - firsts + 1)[inner]
    rank = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)  # place within its run
    return np.repeat(apostrophes[firsts[inner]], sizes) + rank


def chunks(texts: Sequence[str], chunk_chars: int | None = None) -> list[tuple[int, int]]:
    """(start, stop) index ranges over ``texts``, each about ``chunk_chars`` characters, at least one text."""
    chunk_chars = chunk_chars or CHUNK_CHARS
    bounds = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1)
    ranges, start = [], 0
    while start < len(texts):
        base = bounds[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(bounds, base + chunk_chars, side="right")))
        ranges.append((start, stop))
        start = stop
    return ranges


class TokenTable:
    """Exact lookup of tokens (as byte offsets) in a list of token strings: each one's index, or -1.

    Build with :meth:`build`, which gives None when two of the strings share a
    key (a duplicate, or a collision of long tokens): then look up another way.
    """

    def __init__(
        self, keys: np.ndarray, indexes: np.ndarray, blob: np.ndarray, starts: np.ndarray, lengths: np.ndarray
    ):
        size = 1 << max(4, int(2 * len(keys)).bit_length())  # at most half full
        self.shift = np.uint64(64 - size.bit_length() + 1)
        self.slot_index = np.full(size, -1, dtype=np.int64)  # position in keys/indexes, -1 = empty
        self.slot_key = np.zeros(size, dtype=np.uint64)
        slots = self._slots(keys)
        pending = np.arange(len(keys))
        while len(pending):  # linear probing, one step per round for the keys still without a slot
            free = self.slot_index[slots[pending]] < 0
            # of several keys wanting the same free slot, the first one written wins
            chosen = pending[free]
            self.slot_index[slots[chosen][::-1]] = chosen[::-1]
            placed = self.slot_index[slots[chosen]] == chosen
            self.slot_key[slots[chosen[placed]]] = keys[chosen[placed]]
            pending = np.concatenate([pending[~free], chosen[~placed]])
            slots[pending] = (slots[pending] + 1) & (size - 1)
        self.indexes, self.blob_words, self.starts = indexes, byte_words(blob), starts
        self.lengths = np.append(lengths, -1)  # entry -1 (no entry) has a length no token has

    @classmethod
    def build(cls, strings: Sequence[str], skip: Sequence[int] = ()) -> TokenTable | None:
        """The table of ``strings`` (their index in the list is what lookups give), leaving out indexes ``skip``."""
        keep = np.setdiff1d(np.arange(len(strings)), np.asarray(skip, dtype=np.int64))
        encoded = [strings[i].encode("utf-8", "surrogatepass") for i in keep]
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        starts = np.cumsum(lengths) - lengths
        blob = np.frombuffer(b"".join([*encoded, _PAD.encode()]), dtype=np.uint8)
        keys = token_keys(byte_words(blob), starts, lengths)
        if len(np.unique(keys)) != len(keys):
            return None
        return cls(keys, keep, blob, starts, lengths)

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        return ((keys * _MIX) >> self.shift).astype(np.int64)

    def lookup(self, tokens: Tokens, default: int = -1) -> np.ndarray:
        """int64 (tokens,): each token's index in the strings, or ``default`` when it is none of them."""
        keys = tokens.keys()
        slots = self._slots(keys)
        found = self.slot_index[slots]  # position in the table's entries, -1 = empty slot: unknown
        probe = np.flatnonzero((self.slot_key[slots] != keys) & (found >= 0))
        found[probe] = -1
        mask = len(self.slot_index) - 1
        while len(probe):  # the few keys whose first slot holds another key: linear probing
            slots[probe] = (slots[probe] + 1) & mask
            at = slots[probe]
            index = self.slot_index[at]
            hit = (self.slot_key[at] == keys[probe]) & (index >= 0)
            found[probe[hit]] = index[hit]
            probe = probe[~hit & (index >= 0)]
        lengths = tokens.ends - tokens.starts
        found[~self._same_bytes(tokens.words(), tokens.starts, lengths, found)] = -1
        return np.append(self.indexes, default)[found]

    def _same_bytes(
        self, words: np.ndarray, starts: np.ndarray, lengths: np.ndarray, entries: np.ndarray
    ) -> np.ndarray:
        """bool (k,): whether each token (offsets into ``words``) has the bytes of its entry (-1: none, False)."""
        same = lengths == self.lengths[entries]  # self.lengths[-1] is -1: never a token's length
        # A key of at most 8 bytes is those bytes: equal keys and lengths are equal tokens.
        check = np.flatnonzero(same & (lengths > 8))
        offset = 0
        while len(check):
            remaining = lengths[check] - offset
            mask = _MASKS[np.minimum(remaining, 8)]
            mine = words[starts[check] + offset] & mask
            theirs = self.blob_words[self.starts[entries[check]] + offset] & mask
            same[check[mine != theirs]] = False
            check = check[(mine == theirs) & (remaining > 8)]
            offset += 8
        return same


def encode_texts(
    texts: Sequence[str], table: TokenTable, oov_id: int, output_sequence_length: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """All texts' ids end to end, int64 (total,), and each text's token count, int64 (n,).

    An unknown token gets ``oov_id``; with ``output_sequence_length`` > 0 each
    text keeps only its first that many tokens. Chunks are encoded on several
    threads (``engine.threads``).
    """
    ranges = chunks(texts)
    flat, lengths = [None] * len(ranges), [None] * len(ranges)

    def encode_chunk(index: int) -> None:
        start, stop = ranges[index]
        tokens = split_chunk(texts[start:stop])
        ids = table.lookup(tokens, oov_id)
        counts = tokens.counts
        if output_sequence_length and len(ids):
            position = np.arange(len(ids)) - np.repeat(np.cumsum(counts) - counts, counts)
            ids = ids[position < output_sequence_length]
            counts = np.minimum(counts, output_sequence_length)
        flat[index], lengths[index] = ids, counts

    in_threads(encode_chunk, range(len(ranges)))
    if not ranges:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(flat), np.concatenate(lengths)
