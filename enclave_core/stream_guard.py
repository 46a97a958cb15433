"""The output PII guard on a token stream: text is released word by word, as soon as it is safe.

Releasing a model's tokens one by one would hand a name to the client before the guard has seen
what follows it ("Smith" could be a surname or the start of "Smith & Nephew"; "+47 934" is half a
phone number). Holding a whole answer back, or a whole sentence, costs the user seconds. This
guard holds back only the tail of the text that the guard's decisions could still change.

Safety argument (what is released, and why the guard over the whole answer would not redact it):

1. Only whole words are released, at a whitespace boundary, and in order: a word the model is
   still writing (``jane.roe@exa``, ``<PERS``, ``+47``) is never released.
2. A function word (``the``, ``of``, ``is``; :data:`INERT_WORDS`), a bare punctuation mark, a
   citation marker ``[1]`` or a complete placeholder ``<PERSON_7>`` (the guard never redacts
   one) is released without analysis, but only once the next word has begun with a lowercase
   letter: such a word carries no personal data, and between lowercase words it cannot be part
   of a name, an address or a number the guard would redact ("the Hague", "in 1980").
3. Every other word is released only after the guard has analysed it together with at least
   ``left_chars`` of the text before it (the spaCy model's and the recognizers' context words,
   e.g. "born", "Dr.", "employee ID", lie to the left) and at least ``right_words`` complete
   words after it (en_core_web_sm's token vectors see four tokens to each side, and the
   look-alike checks read a few words to the right: "Parkinson('s disease)", "Smith Ltd"). A
   run of name-like words (capitalised, digits, ``@ < / +``), with up to two other words between
   them, is never cut: "Jean Claude Van Damme", "Calle de la Reforma 222, Col. Juárez" and a
   table's rows go out in one piece or not at all.
4. The release is verified, not assumed: the guarded text of the window up to the cut must be a
   prefix of the guarded text of the window with the right context (the extra words changed no
   decision before the cut), and must begin with exactly what was already released from that
   window (the new left context changed nothing either). Otherwise nothing is released until
   more text arrives, or the stream ends.
5. Text without spaces (Japanese) is released by clause instead of by word: a cut goes after a
   clause or sentence mark (``。、！？．，!?`` or a line break), only when the window and the answer
   so far read as Japanese (the guard then runs its Japanese engine on both, as on the whole
   answer). The Japanese engine decides per sentence whether GiNZA reads it (a sign anywhere in
   the sentence: an honorific, a proper noun, a romaji word), so the windows hold whole sentences
   only: the left context starts at a sentence start, and the right context ends at a sentence end
   at least ``right_chars`` characters after the end of the sentence that holds the cut (GiNZA's
   token vectors see eight tokens to each side, one to four characters each). A name, a phone
   number or a My Number holds no clause mark, so a cut never falls inside one; a value that did
   hold one ("1234、5678"), or a name whose sign comes later in its sentence ("田中花子は、...鈴木様の
   後任です"), is caught by the verification of point 4, since the window with the right context
   reads the whole sentence as the whole answer does.
6. At the end of the stream the rest is guarded with its left context, with the engine the whole
   answer gets; the released pieces joined are then the guarded answer. Should the final analysis
   disagree with text already released (``diverged``; never observed in the tests), the rest is
   guarded on its own and a warning is logged (no text, only that it happened).
7. The whole answer is read with one engine, chosen by the whole answer's script, which is not known
   until the end: a Japanese answer may turn mostly English, and the English engine then reads all
   of it (review finding 6: the Japanese engine missed an English name and an American phone number
   that the English one removes). So once the answer holds Japanese script, a release is also
   checked with every other engine of the guard (:class:`EngineGuard`): each character that another
   engine would redact in the window with its right context (or the window up to the cut) must lie
   inside a span that the released text redacts; otherwise nothing is released yet. What is
   released is then never something the whole-answer guard removes, whichever engine that is; it
   can hold more placeholders than the whole answer's guard gives (the answer then ends as
   ``diverged``, more redacted, not less). An answer without Japanese script so far is checked with
   its own engine only: English text released before Japanese script arrives is the one case not
   covered (the Japanese engine reading English text finds only what the English one also finds in
   the tests; running GiNZA over every English window would cost every English answer). Each
   engine's reading is itself mixed-script (``Redactor`` with ``language=``): that engine over the
   text, and the other engine over the other script's runs, so a name or phone of one script inside
   text of the other is found whichever engine a window goes to.

So the concatenation of the released pieces equals what the guard returns for the complete
answer in every case the tests exercise (real guard inputs, random token splits; a personal
value split at every character never appears), while the first words of an answer reach the
client with the model's first tokens.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any, Protocol, TypeGuard

from enclave_core.language import is_japanese, script_counts
from enclave_core.stopwords import STOP_WORDS

__all__ = ["INERT_WORDS", "EngineGuard", "Guard", "GuardedStream", "RedactorGuard"]

logger = logging.getLogger("enclave.stream_guard")


class Guard(Protocol):
    """The output PII guard (enclave_core.redaction.Redactor.guard)."""

    def __call__(self, text: str, /) -> tuple[str, dict[str, int]]: ...


class EngineGuard(Guard, Protocol):
    """A guard with one engine per language (point 7), each of which can be asked for by name."""

    @property
    def languages(self) -> tuple[str, ...]: ...

    def language_of(self, text: str) -> str:
        """The engine the guard gives ``text`` by its script."""
        ...

    def in_language(self, text: str, language: str) -> tuple[str, dict[str, int]]: ...

    def spans(self, text: str, language: str) -> list[tuple[int, int]]:
        """The character spans of ``text`` that ``language``'s engine redacts."""
        ...


class RedactorGuard:
    """The redactor (enclave_core.redaction.Redactor) as an :class:`EngineGuard`."""

    def __init__(self, redactor: Any) -> None:
        self._redactor = redactor

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._redactor.policy.languages)

    def __call__(self, text: str, /) -> tuple[str, dict[str, int]]:
        result = self._redactor.redact(text)
        return result.text, result.counts

    def language_of(self, text: str) -> str:
        from enclave_core.redaction.redactor import analysis_text

        return str(self._redactor.language_of(analysis_text(text)))

    def in_language(self, text: str, language: str) -> tuple[str, dict[str, int]]:
        result = self._redactor.redact(text, language=language)
        return result.text, result.counts

    def spans(self, text: str, language: str) -> list[tuple[int, int]]:
        return [(d.start, d.end) for d in self._redactor.detect_many([text], language=language)[0]]


def _has_engines(guard: Guard) -> TypeGuard[EngineGuard]:
    return all(callable(getattr(guard, name, None)) for name in ("language_of", "in_language", "spans")) and (
        len(getattr(guard, "languages", ())) > 1
    )


# Function words: never a name, a number or an address on their own. Titlecase forms count too
# ("The", "In"), except words that are also given names or surnames.
INERT_WORDS = STOP_WORDS | frozenset(
    (  # noqa: SIM905 (a word list reads better as text)
        "about after also all any been before being both but did each had he her here him his if into its more "
        "most no not only other over she some such than them then under up us very while would should could "
        "because between during"
    ).split()
)
_NAME_LIKE_TITLECASE = frozenset({"long", "will", "may", "bill", "mark", "so", "van", "de", "le", "la", "da", "di"})
_WORD = re.compile(r"\S+")
_PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*>")  # the redactor's placeholders, which it never touches
_CITATIONS = re.compile(r"(?:\[\d{1,3}\])+")
_EDGE_PUNCT = ".,;:!?\"'()"
_BARE_PUNCT = frozenset(".,;:!?-\u2013\u2014\"'")
_NAME_LIKE_CHARS = frozenset("@<>_/+#&%$\u20ac\u00a3*=\\|")
# Clause and sentence ends of text written without spaces (point 5); a cut goes after the marks
# and any whitespace that follows them.
_CLAUSE_MARKS = "。、！？．，!?\n"
_CLAUSE_END = re.compile(f"[{_CLAUSE_MARKS}]+\\s*")
# Sentence ends as the Japanese NER gate reads them (enclave_core/redaction/japanese_gate.py): it
# decides per sentence whether GiNZA reads it, from signs anywhere in that sentence.
_SENTENCE_END = re.compile(r"[。！？!?]+|\n")
_AFTER_SENTENCE = re.compile(r"(?:[。！？!?]|\n)\s*$")


def _inert(word: str) -> bool:
    """A word released without analysis (safety argument, point 2)."""
    core = word.strip(_EDGE_PUNCT)
    if not core:
        return all(ch in _BARE_PUNCT for ch in word)
    if _PLACEHOLDER.fullmatch(core) or _CITATIONS.fullmatch(core):
        return True
    if not core.isalpha():
        return False
    lower = core.lower()
    if lower not in INERT_WORDS:
        return False
    return core.islower() or (core.istitle() and lower not in _NAME_LIKE_TITLECASE)


def _name_like(word: str) -> bool:
    """Could be part of a multi-word value the guard redacts as one span (point 3); a citation
    marker cannot (the redactor never touches one)."""
    if _CITATIONS.fullmatch(word.strip(_EDGE_PUNCT)):
        return False
    return any(ch.isupper() or ch.isdigit() or ch in _NAME_LIKE_CHARS for ch in word) or not any(
        ch.isascii() for ch in word
    )


def _may_cut(words: list[str], j: int) -> bool:
    """Whether a cut after ``words[j]`` leaves whole any run of name-like words, counting up to two
    other words inside a run ("Calle de la Reforma 222", "Ludwig van Beethoven", table rows)."""
    before = any(_name_like(w) for w in words[max(0, j - 2) : j + 1])
    return not (before and any(_name_like(w) for w in words[j + 1 : j + 4]))


def _starts_lowercase(word: str) -> bool:
    return word[:1].islower()


class GuardedStream:
    """Streamed text in, guarded pieces out (see the module doc for when a piece is safe).

    ``feed(delta)`` yields at most one piece per call; ``flush()`` releases the rest when the
    stream ends. ``text`` is everything released (the guarded answer once flushed), ``counts``
    the guard's redactions by type within it, ``guard_calls`` how often the guard ran.
    """

    def __init__(self, guard: Guard, *, right_words: int = 4, left_chars: int = 120, right_chars: int = 32) -> None:
        if right_words < 1 or left_chars < 0 or right_chars < 1:
            raise ValueError("right_words and right_chars must be >= 1 and left_chars >= 0")
        self._guard = guard
        self._engines = guard if _has_engines(guard) else None
        self._right = right_words
        self._left = left_chars
        self._right_chars = right_chars
        self._source = ""
        self._done = 0  # source offset released up to: always a word start or the end
        # Every cut so far: (source offset, offset in ``text``, redaction counts released before it).
        self._cuts: list[tuple[int, int, Counter[str]]] = [(0, 0, Counter())]
        self._tried: tuple[int, int, int] | None = None  # the last analysis that released nothing
        self._no_cut_upto = -1  # no cut after any of the first words (from the released end) up to this index
        self._counts: Counter[str] = Counter()
        self.text = ""
        self.guard_calls = 0
        self.diverged = False

    @property
    def counts(self) -> dict[str, int]:
        return {k: v for k, v in sorted(self._counts.items()) if v > 0}

    def feed(self, delta: str) -> Iterator[str]:
        if not delta:
            return
        word_went_on = not self._source[-1:].isspace() and not any(ch.isspace() for ch in delta)
        clause_ended = any(ch in _CLAUSE_MARKS for ch in delta)
        self._source += delta
        if word_went_on and not clause_ended:  # no word or clause completed or began: nothing new to decide
            return
        piece = self._release_inert() + self._release_analysed()
        if clause_ended:
            piece += self._release_clauses()
        if piece:
            yield piece

    def flush(self) -> Iterator[str]:
        if self._done >= len(self._source):
            return
        piece = self._release_rest()
        if piece:
            yield piece

    # --- the three ways text leaves -------------------------------------------------------------

    def _release_inert(self) -> str:
        """Function words, punctuation, citations and placeholders before a lowercase word (point 2)."""
        words = list(_WORD.finditer(self._source, self._done))
        end = self._done
        for i, word in enumerate(words[:-1]):  # the last word has no known successor yet
            if not (_inert(word.group()) and _starts_lowercase(words[i + 1].group())):
                break
            end = words[i + 1].start()
        if end == self._done:
            return ""
        piece = self._source[self._done : end]
        self._commit(end, piece, Counter())
        return piece

    def _release_analysed(self) -> str:
        """Words with their context on both sides, verified against the guard (points 3 and 4)."""
        source = self._source
        words = [w for w in _WORD.finditer(source, self._done) if w.end() < len(source)]  # complete
        texts = [w.group() for w in words]
        top = len(words) - 1 - self._right
        j = top
        while j > self._no_cut_upto and not _may_cut(texts, j):
            j -= 1
        if j <= self._no_cut_upto:
            self._no_cut_upto = max(self._no_cut_upto, top)  # those words are complete: never cuttable
            return ""
        cut, word_end, right_end = words[j + 1].start(), words[j].end(), words[-1].end()
        ctx_src, ctx_out, ctx_counts = self._context()
        if self._tried == (ctx_src, cut, right_end):
            return ""
        checked = self._checked(ctx_src, word_end, right_end, self.text[ctx_out:])
        if checked is None:
            self._tried = (ctx_src, cut, right_end)
            return ""
        before, counts = checked
        piece = before[len(self.text) - ctx_out :] + source[word_end:cut]
        self._commit(cut, piece, counts - (self._counts - ctx_counts))
        return piece

    def _release_clauses(self) -> str:
        """Japanese text by clause, with context on both sides, verified against the guard (point 5)."""
        source = self._source
        sentence_ends = [m.end() for m in _SENTENCE_END.finditer(source, self._done)]
        if not sentence_ends:
            return ""
        right_end = sentence_ends[-1]  # the right context: whole sentences only

        def room(cut_mark: int) -> int:
            """Right context after the end of the sentence that holds the cut."""
            own_end = next(e for e in sentence_ends if e >= cut_mark)
            return right_end - own_end

        cuts = [
            m.end()
            for m in _CLAUSE_END.finditer(source, self._done, right_end)
            if m.end() < right_end and room(m.end() - len(m.group()) + len(m.group().rstrip())) >= self._right_chars
        ]
        if not cuts:
            return ""
        cut = cuts[-1]
        ctx_src, ctx_out, ctx_counts = self._sentence_context()
        if self._tried == (ctx_src, cut, right_end):
            return ""
        if not (is_japanese(source[ctx_src:cut]) and is_japanese(source[ctx_src:right_end]) and is_japanese(source)):
            return ""  # the guard would read one of them with another engine than the whole answer
        checked = self._checked(ctx_src, cut, right_end, self.text[ctx_out:])
        if checked is None:
            self._tried = (ctx_src, cut, right_end)
            return ""
        before, counts = checked
        piece = before[len(self.text) - ctx_out :]
        self._commit(cut, piece, counts - (self._counts - ctx_counts))
        return piece

    def _release_rest(self) -> str:
        """The end of the stream: the rest, guarded with its left context (point 6)."""
        context = self._context()
        final = self._engines.language_of(self._source) if self._engines is not None else None
        for ctx_src, ctx_out, ctx_counts in [context] if context[0] == 0 else [context, self._cuts[0]]:
            # The window's own start lacks context; the whole answer (the start) decides then.
            guarded, counts = self._guarded(ctx_src, len(self._source), final)
            released = self.text[ctx_out:]
            if guarded.startswith(released):
                piece = guarded[len(released) :]
                self._commit(len(self._source), piece, counts - (self._counts - ctx_counts))
                return piece
        self.diverged = True
        logger.warning("stream guard: the guarded end of an answer differs from text already released")
        piece, counts = self._guarded(self._done, len(self._source), final)
        self._commit(len(self._source), piece, counts)
        return piece

    # --- helpers --------------------------------------------------------------------------------

    def _sentence_context(self) -> tuple[int, int, Counter[str]]:
        """As ``_context``, but a cut at a sentence start: the Japanese gate must see every sentence of
        the window whole, as it does in the whole answer."""
        for src, out, counts in reversed(self._cuts):
            if src <= self._done - self._left and (src == 0 or _AFTER_SENTENCE.search(self._source, 0, src)):
                return src, out, counts
        return self._cuts[0]

    def _context(self) -> tuple[int, int, Counter[str]]:
        """The latest cut at least ``left_chars`` before the released end (or the start)."""
        for src, out, counts in reversed(self._cuts):
            if src <= self._done - self._left:
                return src, out, counts
        return self._cuts[0]

    def _checked(self, start: int, cut: int, right_end: int, released: str) -> tuple[str, Counter[str]] | None:
        """The guarded window ``source[start:cut]`` when releasing up to ``cut`` is verified (points 4
        and 7), else None."""
        engines = self._engines
        own = engines.language_of(self._source[start:right_end]) if engines is not None else None
        before, counts = self._guarded(start, cut, own)
        with_right, _ = self._guarded(start, right_end, own)
        if not (with_right.startswith(before) and before.startswith(released)):
            return None
        if engines is None or own is None or not _holds_japanese(self._source):
            return before, counts
        if not self._others_covered(engines, own, start, cut, right_end):
            return None
        return before, counts

    def _others_covered(self, engines: EngineGuard, own: str, start: int, cut: int, right_end: int) -> bool:
        """Whether every character before ``cut`` that another engine would redact (in the window with
        its right context, or in the window up to the cut) lies in a span the own engine redacts."""
        window = self._source[start:right_end]
        lead = len(window) - len(window.lstrip())
        core = window.strip()
        self.guard_calls += 1
        covered = _chars(engines.spans(core, own))
        limit = cut - start - lead  # the cut as an offset into ``core``
        for other in engines.languages:
            if other == own:
                continue
            self.guard_calls += 2
            shorter = self._source[start:cut].strip()
            for found in (engines.spans(core, other), engines.spans(shorter, other) if shorter else []):
                for s, e in found:
                    if s < limit and not all(i in covered for i in range(s, e)):
                        return False
        return True

    def _guarded(self, start: int, end: int, language: str | None = None) -> tuple[str, Counter[str]]:
        """The guard over ``source[start:end]``, whose edge whitespace is kept as it is; ``language``:
        that engine of an :class:`EngineGuard` (point 7) instead of the guard's own choice."""
        text = self._source[start:end]
        core = text.strip()
        if not core:
            return text, Counter()
        lead = text[: len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()) :]
        self.guard_calls += 1
        if language is not None and self._engines is not None:
            clean, counts = self._engines.in_language(core, language)
        else:
            clean, counts = self._guard(core)
        return lead + clean.strip() + trail, Counter(counts)

    def _commit(self, cut: int, piece: str, counts: Counter[str]) -> None:
        self._done = cut
        self.text += piece
        self._counts.update({k: v for k, v in counts.items() if v > 0})
        self._cuts.append((cut, len(self.text), Counter(self._counts)))
        self._tried = None
        self._no_cut_upto = -1


def _holds_japanese(text: str) -> bool:
    """Kana or kanji anywhere: the whole answer may then be read by either engine (point 7)."""
    kana, kanji, _ = script_counts(text)
    return kana + kanji > 0


def _chars(spans: list[tuple[int, int]]) -> set[int]:
    return {i for s, e in spans for i in range(s, e)}
