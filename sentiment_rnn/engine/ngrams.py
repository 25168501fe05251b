"""The hybrid model's wide n-grams of many texts with array operations: no n-gram strings are built.

A wide vocabulary entry is an n-gram: 1 to ``ngrams`` tokens joined by one
space (``text.token_ngrams``). Instead of joining each text's tokens into
n-gram strings and looking them up in a dict, :class:`NgramTable` looks up
each token once in a ``TokenTable`` of the distinct words (parts) of the
entries, then follows a prefix tree of the entries' part ids: the node of the
bigram (a, b) is found from the pair (node of a, part b) in an integer hash
table, the node of (a, b, c) from (node of (a, b), part c), and so on. Every
step is exact (part ids are checked byte for byte by ``TokenTable``, node keys
are the integer pair itself), so an n-gram gets an entry's column exactly
when its string equals the entry: tokens hold no spaces, so an n-gram string
splits back into its tokens one way only.

Shapes, for n texts of T tokens in all: part ids (T,) int64 (-1: in no
entry); n-gram columns of each size k (T - k + 1,) int64; the distinct
(text, column) pairs of each text, deduplicated by one stable sort of their
int64 keys ``text * V + column``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import numpy as np

from sentiment_rnn.engine.encoding import TokenTable, chunks, split_chunk

_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd: multiplying by it mixes a key's bits upwards


class IntTable:
    """Exact lookup of int64 keys (distinct, >= 0) in an open-addressing table: each key's value, or -1.

    Args:
        keys: int64 (k,), distinct, non-negative.
        values: int64 (k,), what a lookup of each key gives.
    """

    def __init__(self, keys: np.ndarray, values: np.ndarray):
        size = 1 << max(4, int(2 * len(keys)).bit_length())  # at most half full
        self.mask = size - 1
        self.shift = np.uint64(64 - size.bit_length() + 1)
        self.slot_key = np.full(size, -1, dtype=np.int64)  # -1: an empty slot
        self.slot_value = np.full(size, -1, dtype=np.int64)
        slots = self._slots(keys)
        pending = np.arange(len(keys))
        while len(pending):  # linear probing, one step a round for the keys still without a slot
            free = self.slot_key[slots[pending]] < 0
            chosen = pending[free]
            self.slot_value[slots[chosen][::-1]] = chosen[::-1]  # of keys wanting one slot, the first wins
            placed = self.slot_value[slots[chosen]] == chosen
            self.slot_key[slots[chosen[placed]]] = keys[chosen[placed]]
            pending = np.concatenate([pending[~free], chosen[~placed]])
            slots[pending] = (slots[pending] + 1) & self.mask
        filled = self.slot_value >= 0
        self.slot_value[filled] = values[self.slot_value[filled]]

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        return ((keys.astype(np.uint64) * _MIX) >> self.shift).astype(np.int64)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """int64 (q,): the value of each of the int64 keys (q,), -1 for a key not in the table."""
        slots = self._slots(keys)
        found = np.where(self.slot_key[slots] == keys, self.slot_value[slots], -1)
        probe = np.flatnonzero((found < 0) & (self.slot_key[slots] >= 0))  # the slot holds another key
        while len(probe):
            slots[probe] = (slots[probe] + 1) & self.mask
            at = slots[probe]
            hit = self.slot_key[at] == keys[probe]
            found[probe[hit]] = self.slot_value[at[hit]]
            probe = probe[~hit & (self.slot_key[at] >= 0)]
        return found


class NgramTable:
    """The columns of a wide vocabulary's n-grams found in texts, as ``Vocabulary.encode`` of ``token_ngrams``.

    Build with :meth:`build`, which gives None where the dict must be used
    instead (duplicate entries, or two parts sharing a ``TokenTable`` key).
    """

    def __init__(
        self, parts: TokenTable, part_count: int, pairs: IntTable, column_of_node: np.ndarray, ngrams: int, width: int
    ):
        self.parts = parts
        self.part_count = part_count
        self.pairs = pairs
        self.column_of_node = column_of_node  # (nodes + 1,) int64: entry index or oov; the last one (-1): oov
        self.ngrams = ngrams
        self.width = width  # more than any column: (text, column) pairs are keyed text * width + column

    @classmethod
    def build(cls, entries: Sequence[str], ngrams: int, oov_id: int) -> NgramTable | None:
        """The table of ``entries`` (index = column) for 1- to ``ngrams``-grams; unknown n-grams get ``oov_id``.

        An entry's parts are ``entry.split(" ")``; entries with an empty part
        or more than ``ngrams`` parts equal no n-gram and are left out. The
        prefix tree is built level by level: the nodes of level k + 1 are the
        distinct (node of level k, part) pairs of the entries that long.
        """
        if len(set(entries)) != len(entries):
            return None  # the dict keeps the last of equal entries
        words = " ".join(entries).split(" ")  # every entry's parts, entry after entry
        part_index = dict(zip(dict.fromkeys(words), itertools.count()))
        parts = TokenTable.build(list(part_index))
        if parts is None:
            return None
        part_count = len(part_index)
        part_of_word = np.fromiter(map(part_index.__getitem__, words), dtype=np.int64, count=len(words))
        sizes = np.fromiter(map(str.count, entries, itertools.repeat(" ")), dtype=np.int64, count=len(entries)) + 1
        first_word = np.cumsum(sizes) - sizes
        usable = sizes <= ngrams
        if "" in part_index:  # an empty part: two spaces in a row, or one at an end
            empty_words = np.flatnonzero(part_of_word == part_index[""])
            usable[np.searchsorted(first_word, empty_words, side="right") - 1] = False
        columns = np.flatnonzero(usable)
        nodes = part_of_word[first_word[columns]]  # each usable entry's node: first that of its first part
        node_count, pair_keys, pair_nodes = part_count, [], []
        for level in range(1, ngrams):
            longer = np.flatnonzero(sizes[columns] > level)
            keys = nodes[longer] * part_count + part_of_word[first_word[columns[longer]] + level]
            order = np.argsort(keys, kind="stable")
            new = np.ones(len(keys), dtype=bool)
            new[1:] = keys[order[1:]] != keys[order[:-1]]
            sorted_nodes = node_count + np.cumsum(new) - 1
            nodes[longer[order]] = sorted_nodes
            pair_keys.append(keys[order[new]])
            pair_nodes.append(sorted_nodes[new])
            node_count += int(new.sum())
        column_of_node = np.full(node_count + 1, oov_id, dtype=np.int64)
        column_of_node[nodes] = columns
        pairs = IntTable(
            np.concatenate([np.zeros(0, dtype=np.int64), *pair_keys]),
            np.concatenate([np.zeros(0, dtype=np.int64), *pair_nodes]),
        )
        return cls(parts, part_count, pairs, column_of_node, ngrams, max(len(entries), oov_id + 1))

    def columns(self, texts: Sequence[str]) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
        """The distinct (text, column) pairs of the texts' n-grams, a chunk of texts at a time (``encoding.chunks``).

        Yields:
            (start, stop, rows, columns): for ``texts[start:stop]``, int64
            (pairs,) each; rows are text indexes from ``start``, non-decreasing,
            and columns ascending within a row. An unknown n-gram counts once
            a text, as ``oov_id``.
        """
        for start, stop in chunks(texts):
            yield start, stop, *self._chunk_columns(texts[start:stop])

    def _chunk_columns(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        tokens = split_chunk(texts)
        parts = self.parts.lookup(tokens, -1)  # (T,): a token in no entry is -1
        text_of = np.repeat(np.arange(len(texts)), tokens.counts)
        rows, columns = [text_of], [self.column_of_node[parts]]
        nodes = parts
        for size in range(2, self.ngrams + 1):
            # the n-grams of `size` tokens start at 0 .. T - size; keep those inside one text
            inside = np.flatnonzero(text_of[size - 1 :] == text_of[: len(text_of) - size + 1])
            nodes = nodes[: len(text_of) - size + 1]
            following = parts[size - 1 :]
            known = (nodes >= 0) & (following >= 0)
            keys = nodes * self.part_count + following
            nodes = np.full(len(keys), -1, dtype=np.int64)
            nodes[known] = self.pairs.lookup(keys[known])
            rows.append(text_of[inside])
            columns.append(self.column_of_node[nodes[inside]])
        width = self.width
        keys = np.sort(np.concatenate(rows) * width + np.concatenate(columns), kind="stable")
        distinct = np.ones(len(keys), dtype=bool)
        np.not_equal(keys[1:], keys[:-1], out=distinct[1:])
        keys = keys[distinct]
        return keys // width, keys % width
