"""Small deterministic datasets, made on the fly (no downloads). Each takes a ``seed``.

    >>> xs, labels, vocab = sentiment(4, seed=0)
    >>> xs.shape, labels.shape                 # (T, batch) token ids, one label per sentence
    ((6, 4), (4,))
    >>> " ".join(vocab[i] for i in xs[:, 0])
    'the movie was really very boring'
"""

from __future__ import annotations

import codecs
import contextlib
import io
from dataclasses import dataclass

import numpy as np

from .flags import positive_int

__all__ = ["sentiment", "dna", "zen", "CharVocab", "char_windows", "melodies", "adding_problem", "BLOOD_TYPES",
           "temporal_order", "temporal_order_windows", "TEMPORAL_SYMBOLS", "TEMPORAL_CLASSES", "xor_in_time",
           "letters_in_time", "LETTERS", "LETTER_FEATURES", "SYLLABLES"]


# -- sentiment whose label hinges on negation ----------------------------------------------------------
_GOOD, _BAD = ["good", "great", "fun", "nice"], ["bad", "boring", "awful", "dull"]
_DETS, _NOUNS = ["the", "this"], ["movie", "film", "plot", "story"]
_MODIFIERS = ["not", "very", "really", "so", "quite"]
SENTIMENT_VOCAB = _DETS + _NOUNS + ["was"] + _MODIFIERS + _GOOD + _BAD


def sentiment(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``n`` six-word sentences "the movie was M1 M2 ADJ" and labels (1 positive, 0 negative).

    The label is the adjective's polarity, flipped by each "not" among M1, M2 — so a model must
    remember a word seen one or two steps before the adjective. Returns ids (6, n), labels (n,), vocab.
    """
    positive_int(n, "sentiment(n)")
    rng = np.random.default_rng(seed)
    index = {w: i for i, w in enumerate(SENTIMENT_VOCAB)}
    xs, labels = [], []
    for _ in range(n):
        good = rng.random() < 0.5
        mods = list(rng.choice(_MODIFIERS, size=2))
        adj = rng.choice(_GOOD if good else _BAD)
        words = [rng.choice(_DETS), rng.choice(_NOUNS), "was", *mods, adj]
        xs.append([index[w] for w in words])
        labels.append(int(good) ^ (mods.count("not") % 2))
    return np.array(xs).T, np.array(labels), list(SENTIMENT_VOCAB)


# -- DNA → blood type: a long-range dependency -----------------------------------------------------------
BASES = "ACGT"
BLOOD_TYPES = ["A", "B", "AB", "O"]
_MOTIFS = ["GAT", "CTA", "TCG", "AGC"]  # motif k at the start ⇒ blood type k


def dna(n: int, length: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random ACGT strings whose class (a "blood type") is set by the motif at the *start*.

    The rest is noise, so the label must be carried across ``length − 3`` steps: the notes' example of
    a long-range dependency. Returns ids (length, n) over "ACGT" and labels (n,) indexing BLOOD_TYPES.
    """
    positive_int(n, "dna(n)")
    if isinstance(length, bool) or not isinstance(length, int) or length < 4:
        raise ValueError(f"dna(length) must be an int ≥ 4 (a 3-base motif and at least one more base), got {length!r}")
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(_MOTIFS), size=n)
    xs = rng.integers(0, 4, size=(length, n))
    for j, k in enumerate(labels):
        xs[:3, j] = [BASES.index(c) for c in _MOTIFS[k]]
    return xs, labels


# -- characters: the Zen of Python -----------------------------------------------------------------------
def zen() -> str:
    """The Zen of Python, from the standard library's ``this`` module (decoded without printing it)."""
    with contextlib.redirect_stdout(io.StringIO()):
        import this  # noqa: F401  (importing it prints the Zen; we only want its text)
    return codecs.decode(this.s, "rot13")


@dataclass(frozen=True)
class CharVocab:
    """Characters ↔ ids, in sorted order.

    >>> v = CharVocab.of("hello")
    >>> v.encode("hel").tolist(), v.decode([3, 2])
    ([1, 0, 2], 'ol')
    """

    chars: str

    @classmethod
    def of(cls, text: str) -> CharVocab:
        if not text:
            raise ValueError("CharVocab.of needs a non-empty text")
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        missing = sorted(set(text) - set(self.chars))
        if missing:
            raise ValueError(f"characters not in the vocabulary: {missing}")
        index = {c: i for i, c in enumerate(self.chars)}
        return np.array([index[c] for c in text], dtype=np.int64)

    def decode(self, ids: object) -> str:
        return "".join(self.chars[int(i)] for i in np.asarray(ids).reshape(-1))


def char_windows(ids: np.ndarray, T: int, batch: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``batch`` random windows of ``T`` inputs and their next-character targets: shapes (T, batch)."""
    ids = np.asarray(ids)
    if len(ids) < T + 1:
        raise ValueError(f"char_windows: the text has {len(ids)} characters, need at least T + 1 = {T + 1}")
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(ids) - T, size=batch)
    xs = np.stack([ids[s:s + T] for s in starts], axis=1)
    ys = np.stack([ids[s + 1:s + T + 1] for s in starts], axis=1)
    return xs, ys


# -- one-to-many: melodies from a class vector -----------------------------------------------------------
MELODY_SHAPES = {"rising": [0, 1, 2, 3, 4, 5], "falling": [5, 4, 3, 2, 1, 0], "bouncing": [0, 2, 1, 3, 2, 4]}
N_NOTES, N_KEYS = 8, 3


def melodies(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``n`` pairs (class vector → melody). The vector is one-hot(shape) ⊕ one-hot(key); the melody is
    that shape transposed by the key, as note ids 0..7. Returns x (n, 6), notes (6, n), shape names."""
    positive_int(n, "melodies(n)")
    rng = np.random.default_rng(seed)
    names = list(MELODY_SHAPES)
    x = np.zeros((n, len(names) + N_KEYS))
    notes = np.zeros((6, n), dtype=np.int64)
    for j in range(n):
        shape, key = rng.integers(len(names)), rng.integers(N_KEYS)
        x[j, shape] = x[j, len(names) + key] = 1.0
        notes[:, j] = np.array(MELODY_SHAPES[names[shape]]) + key
    return x, notes, names


# -- the adding problem: long-range memory ------------------------------------------------------------------
def adding_problem(n: int, T: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (T, n, 2): a random number and a marker per step; two steps are marked, one in each
    half. Target (n, 1): the sum of the two marked numbers. Predicting the mean (1.0) scores MSE ≈ 1/6."""
    positive_int(n, "adding_problem(n)")
    if isinstance(T, bool) or not isinstance(T, int) or T < 2:
        raise ValueError(f"adding_problem(T) must be an int ≥ 2, got {T!r}")
    rng = np.random.default_rng(seed)
    xs = np.zeros((T, n, 2))
    xs[:, :, 0] = rng.random((T, n))
    first = rng.integers(0, T // 2, size=n)
    second = rng.integers(T // 2, T, size=n)
    cols = np.arange(n)
    xs[first, cols, 1] = 1.0
    xs[second, cols, 1] = 1.0
    ys = (xs[first, cols, 0] + xs[second, cols, 0])[:, None]
    return xs, ys


# -- the temporal-order problem: two symbols far apart, and their order ------------------------------------
TEMPORAL_SYMBOLS = ("a", "b", "c", "d", "B", "E", "X", "Y")  # distractors, start and end markers, the informative two
TEMPORAL_CLASSES = ("XX", "XY", "YX", "YY")  # class k: the symbols at t₁ and t₂, in that order


def temporal_order_windows(T: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Where the two informative symbols may sit (1-based, both ends included) in a sequence of length T:
    Hochreiter & Schmidhuber's windows t₁ ∈ [3, 12], t₂ ∈ [25, 40] at T = 50, scaled by T/50.

        >>> temporal_order_windows(50), temporal_order_windows(30)
        (((3, 12), (25, 40)), ((2, 7), (15, 24)))
    """
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 10:
        raise ValueError(f"temporal_order(T) must be an int ≥ 10 (room for B, E and two windows), got {T!r}")

    def at(k: int) -> int:  # k·T/50 rounded half up
        return int(k * T / 50 + 0.5)

    lo1 = max(2, at(3))  # after the start marker B at t = 1
    hi1 = max(lo1, at(12))
    lo2 = max(hi1 + 1, at(25))
    hi2 = min(T - 1, max(lo2, at(40)))  # before the end marker E at t = T
    return (lo1, hi1), (lo2, hi2)


def temporal_order(n: int, T: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` sequences of the temporal-order problem (Hochreiter & Schmidhuber 1997, experiment 6a).

    Each sequence of T symbols from ``TEMPORAL_SYMBOLS`` starts with B and ends with E; every other step
    is a random distractor a, b, c or d, except two: X or Y at a random t₁ and at a random t₂ later
    (windows from ``temporal_order_windows``). The class is their order — XX, XY, YX, YY (0..3, see
    ``TEMPORAL_CLASSES``) — so a model must carry what it saw at t₁ across about T/2 distractors;
    guessing scores 25 %. Returns ids (T, n) and labels (n,). A net built with ``token_ids=True``
    reads the ids (``W^X X_t`` is then column X_t of W^X: the product with the one-hot vector);
    ``np.eye(8)[ids]`` gives the one-hot vectors themselves, shape (T, n, 8).

        >>> ids, labels = temporal_order(2, T=12, seed=0)
        >>> ["".join(TEMPORAL_SYMBOLS[i] for i in ids[:, j]) for j in range(2)], labels.tolist()
        (['BcXaaccdcYbE', 'BbYadXcccddE'], [1, 2])
    """
    positive_int(n, "temporal_order(n)")
    (lo1, hi1), (lo2, hi2) = temporal_order_windows(T)
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, 4, size=(T, n))  # distractors a..d
    ids[0], ids[-1] = TEMPORAL_SYMBOLS.index("B"), TEMPORAL_SYMBOLS.index("E")
    first, second = rng.integers(0, 2, size=n), rng.integers(0, 2, size=n)  # 0: X, 1: Y
    cols = np.arange(n)
    X = TEMPORAL_SYMBOLS.index("X")
    ids[rng.integers(lo1, hi1 + 1, size=n) - 1, cols] = X + first  # 1-based t → row t − 1
    ids[rng.integers(lo2, hi2 + 1, size=n) - 1, cols] = X + second
    return ids, 2 * first + second


# -- XOR in time: Elman (1990), "Finding Structure in Time" ---------------------------------------------------
def xor_in_time(n: int, rows: int = 1, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Elman's stream of ``n`` bits in triples (a, b, a XOR b), as next-bit prediction: inputs (T, rows, 1)
    are bits t, targets (T, rows, 1) bits t + 1, and ``position`` (T, rows) is where the *target* sits in
    its triple — 2 (the XOR of the two before it) is predictable, 0 and 1 are coin flips. The stream is
    cut into ``rows`` consecutive pieces of T = n / rows steps (a batch; n must be a multiple of rows).

        >>> xs, ys, position = xor_in_time(12, rows=2)
        >>> xs.shape, position[:, 0].tolist()
        ((6, 2, 1), [1, 2, 0, 1, 2, 0])
        >>> bits = np.append(xs[:, 0, 0], ys[-1, 0, 0])
        >>> int(bits[2]) == int(bits[0]) ^ int(bits[1])
        True
    """
    positive_int(n, "xor_in_time(n)")
    positive_int(rows, "xor_in_time(rows)")
    if n % rows:
        raise ValueError(f"xor_in_time: n = {n} bits do not cut into {rows} rows of equal length")
    pairs = np.random.default_rng(seed).integers(0, 2, size=(n // 3 + 1, 2))
    bits = np.column_stack([pairs, pairs[:, 0] ^ pairs[:, 1]]).reshape(-1)[: n + 1].astype(float)
    T = n // rows

    def steps(a: np.ndarray) -> np.ndarray:  # (n,) in stream order → (T, rows): row r is piece r
        return a.reshape(rows, T).T

    return steps(bits[:-1])[..., None], steps(bits[1:])[..., None], steps(np.arange(1, n + 1) % 3)


# -- Elman 1990: letters in time ------------------------------------------------------------------------------
# Each letter is 6 phonetic features: consonantal, vocalic, interrupted, high, back, voiced (Elman 1990,
# Table 1). Every consonant is 1 on "consonantal" but b, d, g differ on "high" and "back": a net that knows
# a consonant comes next can predict the first bit but not which consonant, so its error on "high" stays up.
LETTER_FEATURES = ("consonantal", "vocalic", "interrupted", "high", "back", "voiced")
LETTERS = {"b": (1, 0, 1, 0, 0, 1), "d": (1, 0, 1, 1, 0, 1), "g": (1, 0, 1, 0, 1, 1),
           "a": (0, 1, 0, 0, 1, 1), "i": (0, 1, 0, 1, 0, 1), "u": (0, 1, 0, 1, 1, 1)}
SYLLABLES = {"b": "ba", "d": "dii", "g": "guuu"}  # each consonant brings its vowel, 1, 2 or 3 times


def letters_in_time(n: int, rows: int = 1, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Elman's letter stream: consonants b, d, g in random order, each followed by its vowels (b → ba,
    d → dii, g → guuu), as next-letter prediction. Inputs (T, rows, 6) are letter t's features, targets
    (T, rows, 6) letter t + 1's, and ``letter`` (T, rows) is the target letter itself. A consonant comes
    at random, so its error stays high; its vowels are predictable: the error is a sawtooth. The stream is
    cut into ``rows`` consecutive pieces of T = n / rows steps (a batch; n must be a multiple of rows).

        >>> xs, ys, letter = letters_in_time(12, rows=2)
        >>> xs.shape, "".join(letter[:, 0])
        ((6, 2, 6), 'uuudii')
        >>> [int(v) for v in ys[0, 0]] == list(LETTERS[letter[0, 0]])
        True
    """
    positive_int(n, "letters_in_time(n)")
    positive_int(rows, "letters_in_time(rows)")
    if n % rows:
        raise ValueError(f"letters_in_time: n = {n} letters do not cut into {rows} rows of equal length")
    consonants = np.random.default_rng(seed).integers(0, 3, size=n // 2 + 2)  # ≥ 2 letters per consonant
    stream = "".join(SYLLABLES["bdg"[k]] for k in consonants)[: n + 1]
    features = np.array([LETTERS[c] for c in stream], dtype=float)
    T = n // rows

    def steps(a: np.ndarray) -> np.ndarray:  # (n, …) in stream order → (T, rows, …): row r is piece r
        return a.reshape(rows, T, *a.shape[1:]).swapaxes(0, 1)

    return steps(features[:-1]), steps(features[1:]), steps(np.array(list(stream[1:])))
