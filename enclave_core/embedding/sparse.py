"""BM25 as sparse vectors, so lexical search runs inside Qdrant next to dense search.

Documents get the BM25 term-frequency part, ``tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avg_len))``;
queries get 1 per distinct term; the collection's sparse vector uses Qdrant's IDF modifier,
so the engine supplies the inverse document frequency from live statistics and the dot
product is the BM25 score. ``avg_len`` is a fixed setting because documents arrive one at
a time; BM25 is not sensitive to it within a factor of two.

Japanese has no spaces, so runs of Japanese script go to Sudachi (see ``japanese_tokens``)
and everything else keeps the English path unchanged: an English text gives the same terms,
hence the same vectors, as before Japanese support existed. Documents and queries share
``tokenize``, so both sides of the dot product always agree.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

from enclave_core.embedding.japanese_tokens import split_scripts

__all__ = ["BM25Encoder", "SparseVector", "tokenize"]

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)

# A short English stop list: frequent words that carry no topic.
_STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
    ]
)

_stemmer = Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def _term_id(term: str) -> int:
    # Stable across processes and machines (unlike hash()): 31 bits of blake2b.
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=4).digest(), "little") & 0x7FFFFFFF


# Placeholders left by redaction (<PERSON>, <PERSON_7>) are single terms: "<person_7>" must match
# only chunks about that person, not every chunk containing the word "person" or the number 7.
_PLACEHOLDER = re.compile(r"<([A-Z][A-Z0-9_]*)>")


def tokenize(text: str) -> list[str]:
    placeholders = [f"<{name.lower()}>" for name in _PLACEHOLDER.findall(text)]
    if placeholders:
        text = _PLACEHOLDER.sub(" ", text)
    other, japanese = split_scripts(text)
    return _english_terms(other) + japanese + placeholders


def _english_terms(text: str) -> list[str]:
    words = [w for w in _TOKEN.findall(text.lower()) if w not in _STOPWORDS and len(w) < 40]
    return list(_stemmer.stemWords(words))


@dataclass(frozen=True)
class SparseVector:
    indices: list[int]
    values: list[float]


class BM25Encoder:
    def __init__(self, k1: float = 1.2, b: float = 0.75, avg_len: float = 120.0) -> None:
        self.k1, self.b, self.avg_len = k1, b, avg_len

    def encode_document(self, text: str) -> SparseVector:
        terms = tokenize(text)
        norm = self.k1 * (1 - self.b + self.b * len(terms) / self.avg_len)
        weights: dict[int, float] = {}
        for term, tf in Counter(terms).items():
            idx = _term_id(term)
            weights[idx] = weights.get(idx, 0.0) + tf * (self.k1 + 1) / (tf + norm)
        return SparseVector(list(weights), list(weights.values()))

    def encode_query(self, text: str) -> SparseVector:
        ids = sorted({_term_id(t) for t in tokenize(text)})
        return SparseVector(ids, [1.0] * len(ids))
