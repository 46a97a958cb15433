"""Person names from large first-name / surname lists and capitalisation patterns.

en_core_web_sm misses many names, above all non-English ones ("Kwame Asante" comes out as an
ORG or nothing). This recognizer complements it; both run and overlapping spans are merged.

Lists: ``data/first_names.txt`` and ``data/surnames.txt``, generated offline from Faker's
Latin-script locales (MIT; see ``data/build_name_lists.py`` and ``data/SOURCES.md``). An
English-vocabulary check (WordNet lemma index shipped inside the spaCy model, plus spaCy's
stop words) keeps ordinary capitalised words ("Grace Period", "Will Park") from counting as
unknown names.

Patterns (scores before Presidio's context boost of +0.35 for words like "name", "dear"):

- First Last (both listed)                        0.85
- First [M.] Unknown ("Marcus Oyelaran")           0.75
- Unknown Last ("Cettina Fanucci")                 0.6 (first word tagged PROPN)
- Title + capitalised name ("Dr. Oyelaran")        0.85 (the title itself is not redacted)
- Last, First ("Asante, Kwame")                    0.7
- a lone listed first name ("Rubija")              0.3 (needs a context word)

Imported only when the analyzer is built.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import regex as re
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult

from enclave_core.redaction.nlp_pass import tagged_doc

if TYPE_CHECKING:
    from presidio_analyzer.nlp_engine import NlpArtifacts

__all__ = [
    "NAME_PARTICLES",
    "TITLES",
    "PersonNameRecognizer",
    "english_vocabulary",
    "load_name_list",
    "name_lists",
    "place_names",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
_RECOGNIZER_NAME = "PersonNameRecognizer"

# A word: letters (any script), inner apostrophes / hyphens ("O'Brien"); optionally a trailing dot
# (initials, titles). A possessive "'s" is not part of the name: "Frye's" and "Frye" are one person
# and must get one placeholder.
_WORD = re.compile(r"(?<![\w@.])(?<!\w['’])[^\W\d_](?:\w|-(?=\w)|['’](?=\w)(?![sS](?!\w)))*\.?")
TITLES = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "sir",
        "dame",
        "lord",
        "lady",
        "rev",
        "fr",
        "sr",
        "sra",
        "srta",
        "mme",
        "mlle",
        "herr",
        "frau",
        "hr",
        "fru",
    ]
)
# Lower-case particles inside names: "Ludwig van Beethoven", "Maria de la Cruz", "Omar al-Farsi".
NAME_PARTICLES = frozenset(
    [
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "di",
        "da",
        "das",
        "dos",
        "du",
        "la",
        "le",
        "ter",
        "ten",
        "bin",
        "ibn",
        "al",
        "el",
    ]
)
# Capitalised words that end a name candidate: organisations, places, street and document words.
_STOP_AFTER = frozenset(
    [
        "street",
        "st",
        "road",
        "rd",
        "avenue",
        "ave",
        "lane",
        "ln",
        "drive",
        "dr",
        "boulevard",
        "blvd",
        "way",
        "court",
        "ct",
        "place",
        "pl",
        "square",
        "inc",
        "ltd",
        "llc",
        "gmbh",
        "corp",
        "co",
        "company",
        "plc",
        "ag",
        "sa",
        "bank",
        "university",
        "college",
        "school",
        "hospital",
        "clinic",
        "center",
        "centre",
        "group",
        "foundation",
        "institute",
        "department",
        "ministry",
        "council",
        "city",
        "county",
        "state",
        "river",
        "lake",
        "mount",
        "park",
        "hotel",
        "airport",
        "station",
        "church",
        "team",
        "policy",
        "act",
    ]
)


def load_name_list(name: str) -> frozenset[str]:
    """A committed list under data/ (comment lines start with '#'), NFC-normalised."""
    lines = (DATA_DIR / name).read_text(encoding="utf-8").splitlines()
    return frozenset(unicodedata.normalize("NFC", ln.strip()) for ln in lines if ln.strip() and ln[0] != "#")


@lru_cache(maxsize=1)
def place_names() -> frozenset[str]:
    """Country and US state names (data/places.txt), loaded once per process."""
    return load_name_list("places.txt")


@lru_cache(maxsize=1)
def name_lists() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, surnames), loaded once per process."""
    return load_name_list("first_names.txt"), load_name_list("surnames.txt")


def english_vocabulary(nlp: object | None) -> frozenset[str]:
    """Lower-case English words: the spaCy model's lemma index (WordNet-derived) plus stop words."""
    from spacy.lang.en.stop_words import STOP_WORDS

    words: set[str] = set(STOP_WORDS)
    get_pipe = getattr(nlp, "get_pipe", None)
    pipe_names = getattr(nlp, "pipe_names", ())
    if get_pipe is not None and "lemmatizer" in pipe_names:
        lookups = get_pipe("lemmatizer").lookups
        if lookups.has_table("lemma_index"):
            table = lookups.get_table("lemma_index")
            for key in table:
                words.update(w for w in table[key] if "_" not in w)
    return frozenset(words)


class PersonNameRecognizer(EntityRecognizer):
    """PERSON from name lists + capitalisation (see the module doc). Thread-safe: no mutable state."""

    CONTEXT: ClassVar[tuple[str, ...]] = (
        "name",
        "named",
        "called",
        "dear",
        "hi",
        "hello",
        "thanks",
        "regards",
        "sincerely",
        "contact",
        "ask",
        "met",
        "colleague",
        "manager",
        "employee",
        "customer",
        "patient",
        "client",
        "signed",
        "spouse",
        "wife",
        "husband",
        "son",
        "daughter",
        "mother",
        "father",
        "mr",
        "mrs",
        "ms",
        "dr",
    )

    def __init__(
        self,
        vocabulary: Iterable[str] = (),
        context: list[str] | None = None,
        supported_language: str = "en",
        first_names: frozenset[str] | None = None,
        surnames: frozenset[str] | None = None,
    ) -> None:
        firsts, lasts = name_lists()
        self.first_names = first_names if first_names is not None else firsts
        self.surnames = surnames if surnames is not None else lasts
        self.vocabulary = frozenset(vocabulary)
        super().__init__(
            supported_entities=["PERSON"],
            name=_RECOGNIZER_NAME,
            supported_language=supported_language,
            context=context if context is not None else list(self.CONTEXT),
        )

    def load(self) -> None:  # lists are loaded in __init__
        return None

    # --- word classes -----------------------------------------------------------------------

    def _is_word(self, token: str) -> bool:
        return token.casefold() in self.vocabulary

    def _cap(self, token: str) -> bool:
        return (token[:1].isupper() and not token.isupper()) or (len(token) == 1 and token.isupper())

    def _first(self, token: str) -> bool:
        return token in self.first_names

    def _last(self, token: str) -> bool:
        if token in self.surnames:
            return True
        # hyphenated / particle-prefixed surnames: "Smith-Jones", "al-Farsi"
        parts = [p for p in re.split(r"[-’']", token) if p]
        return len(parts) > 1 and all(p in self.surnames or p.casefold() in NAME_PARTICLES for p in parts)

    def _unknown_name(self, token: str) -> bool:
        """Capitalised, not an English word, not a stop word: looks like a name we have not listed."""
        return (
            self._cap(token)
            and len(token) > 1
            and not self._is_word(token)
            and token.casefold() not in _STOP_AFTER
            and token.casefold() not in TITLES
        )

    # --- analysis ---------------------------------------------------------------------------

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if entities and "PERSON" not in entities:
            return []
        propn = _ProperNouns(nlp_artifacts)
        words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
        results: list[RecognizerResult] = []
        i = 0
        n = len(words)
        while i < n:
            found = self._match_at(text, words, i, propn)
            if found is None:
                i += 1
                continue
            start, end, score, next_i = found
            results.append(self._result(start, end, score))
            i = next_i
        return results

    def _result(self, start: int, end: int, score: float) -> RecognizerResult:
        return RecognizerResult(
            entity_type="PERSON",
            start=start,
            end=end,
            score=score,
            analysis_explanation=AnalysisExplanation(
                recognizer=_RECOGNIZER_NAME, original_score=score, textual_explanation="name list / capitalisation"
            ),
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: _RECOGNIZER_NAME,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )

    def _adjacent(self, text: str, a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
        """b follows a on the same line, separated by spaces only (a trailing dot allowed in a when a
        is an initial or a title); a tab separates table cells ("Rein Smirnov<TAB>Records manager"),
        not the parts of a name."""
        gap = text[a[1] : b[0]]
        if a[2].endswith(".") and len(a[2].rstrip(".")) >= 3 and a[2].rstrip(".").casefold() not in TITLES:
            return False  # "17 June. Reviewed", "Kenji Ito. He": a full stop after a word ends the sentence
        return 0 < len(gap) <= 2 and gap.strip(" ") == ""

    def _match_at(
        self, text: str, words: list[tuple[int, int, str]], i: int, propn: _ProperNouns
    ) -> tuple[int, int, float, int] | None:
        start, end, token = words[i]
        bare = token.rstrip(".")
        n = len(words)

        # Title + name: "Dr. Oyelaran", "Ms Priya Raman"
        if bare.casefold() in TITLES and self._cap(bare):
            j = i + 1
            last_end = None
            while j < n and j <= i + 3 and self._adjacent(text, words[j - 1], words[j]):
                w = words[j][2].rstrip(".")
                if not self._cap(w) or w.casefold() in _STOP_AFTER:
                    break
                if not (self._first(w) or self._last(w) or self._unknown_name(w) or len(w) == 1):
                    break
                last_end = words[j][0] + len(w)
                j += 1
            if last_end is not None:
                return words[i + 1][0], last_end, 0.85, j
            return None

        if not self._cap(bare) or len(bare) < 2:
            return None

        # Last, First: "Asante, Kwame"
        if i + 1 < n and (self._last(bare) and not self._is_word(bare)) and text[end : words[i + 1][0]] == ", ":
            nxt = words[i + 1][2].rstrip(".")
            if self._first(nxt) and not self._is_word(nxt) and not self._last(nxt):
                return start, words[i + 1][0] + len(nxt), 0.7, i + 2

        is_first = self._first(bare)
        unknown = self._unknown_name(bare)
        if not (is_first or unknown or self._last(bare)):
            return None

        # Collect the following name parts on the same line: initials, particles, capitalised words.
        parts = [(start, start + len(bare), bare)]
        j = i + 1
        while j < n and len(parts) < 4 and self._adjacent(text, words[j - 1], words[j]):
            w = words[j][2]
            wb = w.rstrip(".")
            if len(wb) == 1 and wb.isupper():  # middle initial
                parts.append((words[j][0], words[j][0] + len(w), wb))
            elif (wb in NAME_PARTICLES and j + 1 < n and self._cap(words[j + 1][2])) or (
                self._cap(wb) and wb.casefold() not in _STOP_AFTER and not wb.isupper()
            ):
                parts.append((words[j][0], words[j][0] + len(wb), wb))
            else:
                break
            if w.endswith(".") and len(wb) > 1:  # "Smith." ends the sentence
                j += 1
                break
            j += 1
        # Drop trailing initials / particles
        while len(parts) > 1 and (len(parts[-1][2]) == 1 or parts[-1][2] in NAME_PARTICLES):
            parts.pop()
            j -= 1

        for k in range(len(parts), 1, -1):
            score = self._pair_score(parts[0], parts[k - 1], is_first, unknown, propn)
            if score > 0:
                return parts[0][0], parts[k - 1][1], score, i + k

        # A lone first name: needs a context word ("My name is Rubija", "Dear Priya")
        if is_first and not self._is_word(bare):
            return start, start + len(bare), 0.3, i + 1
        return None

    def _pair_score(
        self,
        first_part: tuple[int, int, str],
        last_part: tuple[int, int, str],
        is_first: bool,
        unknown: bool,
        propn: _ProperNouns,
    ) -> float:
        first, last = first_part[2], last_part[2]
        if len(last) < 2:
            return 0.0
        last_known = self._last(last)
        last_unknown = self._unknown_name(last)
        first_word, last_word = self._is_word(first), self._is_word(last)
        first_propn, last_propn = first_part[0] in propn, last_part[0] in propn
        if is_first and last_known:
            if not (first_word and last_word) or (first_propn and last_propn):
                return 0.85
            return 0.0
        if is_first and last_unknown:
            return 0.75 if not first_word or first_propn else 0.0
        if unknown and last_known and (not last_word or last_propn) and first_propn:
            return 0.6
        if unknown and last_unknown and first_propn and last_propn:
            return 0.3  # two unknown proper nouns: only with a context word
        return 0.0


class _ProperNouns:
    """Offsets of the tokens the tagger calls proper nouns, read only when a name needs them.

    Most texts never ask (two adjacent capitalised name parts are rare), so the tagging pipes, which the
    NLP pass defers (nlp_pass.TaggedOnDemand), run only for the texts that do.
    """

    def __init__(self, nlp_artifacts: NlpArtifacts | None) -> None:
        self._artifacts = nlp_artifacts
        self._offsets: frozenset[int] | None = None

    def __contains__(self, offset: object) -> bool:
        if self._offsets is None:
            doc = tagged_doc(self._artifacts)
            self._offsets = frozenset(
                t.idx for t in (doc if doc is not None else ()) if t.pos_ == "PROPN" or t.tag_ in ("NNP", "NNPS")
            )
        return offset in self._offsets
