"""LOCATION from a gazetteer of real city names, with the NER's own reading as a tie-breaker.

The NER learns what a place looks like from its training text; a town it has never seen
("Delfgauw", "Altônia", "Paulo Afonso") often comes out as a person, or not at all. A list of
real cities (``data/cities.txt``: GeoNames' cities of 5,000+ inhabitants and their
diacritic-free spellings, see ``data/build_name_lists.py``) names them whatever the sentence.

A list of 76,000 names also holds ordinary words and people's names, so a match counts only when

- it is written with its capitals (the list is matched case-sensitively);
- a one-word name is not an English word ("Orange", "Mobile", "Reading", "Police" are towns too);
- it is not the start of a longer proper noun ("Boston Scientific", "San Clara") nor inside an
  organisation or a longer person's name the NER found ("Bank of Boston", "Hideki Yamaguchi");
- it is not a person's name in this sentence: never after a title ("Mr Jackson"); and when every
  word of it is a listed first name or surname ("Florence", "Raman", "Cochrane"), only with place
  evidence: the NER reads a place there, a place preposition stands right before it ("in
  Florence"), or a state or country follows it ("Lyon, France", "Jackson, MS").

Matches score above the NER's constant 0.85, so on an equal span the city wins the merge over
the NER's PERSON reading ("Lyon", "Niedersachsen" taken for people).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

import regex as re
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult

from enclave_core.redaction.person import TITLES, load_name_list, place_names

if TYPE_CHECKING:
    from presidio_analyzer.nlp_engine import NlpArtifacts

__all__ = ["CityNameRecognizer", "city_names"]

_RECOGNIZER_NAME = "CityNameRecognizer"
SCORE = 0.9
_MAX_WORDS = 6
_MIN_LETTERS = 4  # one-word names of three letters ("Bla", "Ede") are more often abbreviations
_PREFIX_NAMES = 3  # a one-word name that starts this many longer names is a prefix ("San", "Port")
# A word of a place name: letters, inner apostrophes and hyphens ("Ust'-Kut", "Ado-Ekiti").
_WORD = re.compile(r"(?<![\w'’-])[^\W\d_](?:[\w'’]|-(?=\w))*")
# What may stand between two words of one name: spaces or tabs, after an abbreviation's dot ("St. Louis").
_GAP = re.compile(r"\.?[ \t]+")
_COMMA = re.compile(r",[ \t]*")
_ET_AL = re.compile(r"[ \t]+et[ \t]+al\b")
# Words after which a listed name is a place even where the NER reads a person ("moved to Florence").
_PLACE_PREPOSITION_TEXT = """
in into from to near at via around outside inside towards toward across through
visiting visit visited reach reached leave left
"""
_PLACE_PREPOSITIONS = frozenset(_PLACE_PREPOSITION_TEXT.split())


@lru_cache(maxsize=1)
def city_names() -> frozenset[str]:
    """The committed city list, loaded once per process (~76k names)."""
    return load_name_list("cities.txt")


class CityNameRecognizer(EntityRecognizer):
    """Real city names as LOCATION (see the module doc for when a match counts). Thread-safe."""

    def __init__(
        self,
        vocabulary: frozenset[str],
        first_names: frozenset[str],
        surnames: frozenset[str],
        cities: Iterable[str] | None = None,
        supported_language: str = "en",
    ) -> None:
        names = frozenset(cities) if cities is not None else city_names()
        # One-word names that are English words never count; longer ones ("Grand Rapids") do. Nor do
        # words that begin many other names ("San", "Port", "Nova"): alone they are a fragment.
        first_words = Counter(n.split()[0] for n in names if " " in n)
        self._cities = frozenset(
            n
            for n in names
            if any(c.islower() for c in n)  # "LMS" is an acronym in English text
            and (
                " " in n
                or (len(n) >= _MIN_LETTERS and n.casefold() not in vocabulary and first_words[n] < _PREFIX_NAMES)
            )
        )
        self._person_words = first_names | surnames
        self._places = place_names()
        super().__init__(
            supported_entities=["LOCATION"],
            name=_RECOGNIZER_NAME,
            supported_language=supported_language,
            context=[],
        )

    def load(self) -> None:  # the list is loaded in __init__
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if "LOCATION" not in entities:
            return []
        ner = [(e.start_char, e.end_char, e.label_) for e in (nlp_artifacts.entities if nlp_artifacts else [])]
        words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        results: list[RecognizerResult] = []
        i = 0
        while i < len(words):
            found = self._longest_at(text, words, i)
            if found is None:
                i += 1
                continue
            j, start, end = found
            if j + 1 < len(words) and _GAP.fullmatch(text, end, words[j + 1][0]) and text[words[j + 1][0]].isupper():
                i = j + 1  # part of a longer proper noun that is not a listed city ("Boston Scientific")
                continue
            if self._counts(text, words, i, j, ner):
                results.append(self._result(start, end))
            i = j + 1
        return results

    def _longest_at(self, text: str, words: list[tuple[int, int]], i: int) -> tuple[int, int, int] | None:
        """(index of the last word, start, end) of the longest listed name starting at word ``i``."""
        start = words[i][0]
        if not text[start].isupper():
            return None
        last = i
        for j in range(i + 1, min(len(words), i + _MAX_WORDS)):
            if not _GAP.fullmatch(text, words[j - 1][1], words[j][0]):
                break
            last = j
        for j in range(last, i - 1, -1):
            end = words[j][1]
            if not text[words[j][0]].isupper() and j > i:
                continue  # a name ends on a capitalised word ("Rothenburg ob der Tauber")
            key = " ".join(text[start:end].split())
            if key in self._cities:
                return j, start, end
        return None

    def _counts(self, text: str, words: list[tuple[int, int]], i: int, j: int, ner: list[tuple[int, int, str]]) -> bool:
        start, end = words[i][0], words[j][1]
        previous = text[words[i - 1][0] : words[i - 1][1]].casefold() if i > 0 else ""
        if previous in TITLES or _ET_AL.match(text, end):  # "Luján et al. 1993" cites an author
            return False
        overlapping = [(e_start, e_end, label) for e_start, e_end, label in ner if e_start < end and e_end > start]
        labels = {label for _, _, label in overlapping}
        if "ORGANIZATION" in labels:
            return False
        if text[end : end + 1] != "," and any(
            label == "PERSON" and e_end - e_start > end - start for e_start, e_end, label in overlapping
        ):
            return False  # a word of a longer name: "Hideki Yamaguchi" (but "Gansbaai, Denise Manning" is two)
        if labels & {"LOCATION", "STREET_ADDRESS"}:
            return True
        if all(text[a:b] in self._person_words for a, b in words[i : j + 1]):
            # "Raman scattering", "Cochrane databases", "Florence called": a listed name needs place evidence.
            return previous in _PLACE_PREPOSITIONS or self._place_follows(text, words, j)
        return True

    def _place_follows(self, text: str, words: list[tuple[int, int]], j: int) -> bool:
        """ ", Finland" / ", TX" / ", New South Wales" right after the match."""
        if j + 1 >= len(words) or not _COMMA.fullmatch(text, words[j][1], words[j + 1][0]):
            return False
        a, b = words[j + 1]
        if b - a == 2 and text[a:b].isupper():
            return True
        return self._longest_at(text, words, j + 1) is not None or any(
            " ".join(text[a : words[k][1]].split()) in self._places for k in range(j + 1, min(len(words), j + 5))
        )

    def _result(self, start: int, end: int) -> RecognizerResult:
        explanation = AnalysisExplanation(
            recognizer=_RECOGNIZER_NAME, original_score=SCORE, textual_explanation="listed city name"
        )
        return RecognizerResult(
            entity_type="LOCATION",
            start=start,
            end=end,
            score=SCORE,
            analysis_explanation=explanation,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: _RECOGNIZER_NAME,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )
