"""The English spaCy pass, cheaper: entities for every text, part-of-speech tags and lemmas only when read.

The pipeline is tok2vec -> tagger -> attribute_ruler -> lemmatizer -> ner, and the NER has its own token
encoder (it does not listen to tok2vec) and reads only lexical features, so its entities do not depend on
the first four. Tags and lemmas are read by two consumers only: the PersonNameRecognizer (proper-noun tags,
when two capitalised words could be a name) and Presidio's context enhancer (lemmas around a match whose
recognizer has context words). On SciFact that is 18 % of the questions and 68 % of the abstracts, so the
tagging pipes run afterwards, on the one Doc, when ``TaggedOnDemand.tagged_doc()`` is first asked; a
component run later on the same Doc writes the same tags and lemmas it would have written in the pipe.

The pass also pins thinc's CPU ops in the calling context: thinc keeps them in a ContextVar, and a worker
thread of the gateway starts from a fresh copy of the context each call, so every call re-resolved them
(``require_cpu`` -> registry scan + failing imports of optional backends: ~4 % of a gateway search).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterable
from typing import Any

from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
from spacy.language import Language
from spacy.tokens import Doc
from thinc.api import Ops, set_current_ops
from thinc.backends import context_ops

__all__ = ["NLP_LOCK", "TAGGING_PIPES", "DeferredTaggingNlpEngine", "TaggedOnDemand", "tagged_doc"]

#: One spaCy pipeline per process: every call into it (the pass, a deferred tagging) holds this lock.
NLP_LOCK = threading.RLock()
#: The components that only feed tags and lemmas, in pipeline order.
TAGGING_PIPES = ("tok2vec", "tagger", "attribute_ruler", "lemmatizer")


class TaggedOnDemand(NlpArtifacts):
    """Presidio's NlpArtifacts whose lemmas and keywords (after tagging the Doc) and token offsets are
    computed on first read."""

    def __init__(
        self,
        entities: list[Any],
        doc: Doc,
        nlp_engine: SpacyNlpEngine,
        language: str,
        scores: list[float],
        tag: Callable[[Doc], None],
    ) -> None:
        # Not NlpArtifacts.__init__: it reads every token's lemma (and so needs the tagger) at once.
        self.entities = entities
        self.tokens = doc
        self._indices: list[int] | None = None
        self.nlp_engine = nlp_engine
        self.scores = scores
        self._language = language
        self._tag: Callable[[Doc], None] | None = tag
        self._lemmas: list[str] | None = None
        self._keywords: list[str] | None = None

    def tagged_doc(self) -> Doc:
        """The Doc with its tags, POS and lemmas set (runs the tagging pipes the first time)."""
        if self._tag is not None:
            self._tag(self.tokens)
            self._tag = None
        return self.tokens

    @property
    def is_tagged(self) -> bool:
        return self._tag is None

    @property
    def tokens_indices(self) -> list[int]:  # read by the context enhancer only: built on demand
        if self._indices is None:
            self._indices = [token.idx for token in self.tokens]
        return self._indices

    @tokens_indices.setter
    def tokens_indices(self, value: list[int]) -> None:
        self._indices = value

    @property
    def lemmas(self) -> list[str]:
        if self._lemmas is None:
            self._lemmas = [token.lemma_ for token in self.tagged_doc()]
        return self._lemmas

    @lemmas.setter
    def lemmas(self, value: list[str]) -> None:
        self._lemmas = value

    @property
    def keywords(self) -> list[str]:
        if self._keywords is None:
            self._keywords = self.set_keywords(self.nlp_engine, self.lemmas, self._language)
        return self._keywords

    @keywords.setter
    def keywords(self, value: list[str]) -> None:
        self._keywords = value


def tagged_doc(nlp_artifacts: NlpArtifacts | None) -> Doc | None:
    """The tagged Doc behind any NlpArtifacts (tagging it now if it was deferred); None without one."""
    if nlp_artifacts is None:
        return None
    if isinstance(nlp_artifacts, TaggedOnDemand):
        return nlp_artifacts.tagged_doc()
    doc = getattr(nlp_artifacts, "tokens", None)
    return doc if isinstance(doc, Doc) else None


class DeferredTaggingNlpEngine(SpacyNlpEngine):
    """A SpacyNlpEngine that runs the NER pass first and the tagging pipes per Doc when asked (module doc)."""

    def load(self) -> None:
        super().load()
        assert self.nlp is not None
        self._deferred: dict[str, tuple[str, ...]] = {
            lang: tuple(name for name in TAGGING_PIPES if name in nlp.pipe_names) for lang, nlp in self.nlp.items()
        }
        first = next(iter(self.nlp.values()))
        self._ops: Ops = first.get_pipe("ner").model.ops if "ner" in first.pipe_names else first.vocab.vectors.ops

    def use_model_ops(self) -> None:
        """Pin thinc's ops in this context (cheap) so thinc does not re-resolve them on every call."""
        if context_ops.get() is None:
            set_current_ops(self._ops)

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        self.use_model_ops()
        nlp = self._nlp(language)
        with NLP_LOCK:
            doc = nlp(text, disable=list(self._deferred[language]))
        return self._doc_to_nlp_artifact(doc, language)

    def process_batch(  # type: ignore[override]
        self,
        texts: Iterable[str] | Iterable[tuple[str, object]],
        language: str,
        batch_size: int = 1,
        n_process: int = 1,
        as_tuples: bool = False,
    ) -> Generator[Any, Any, None]:
        """As SpacyNlpEngine.process_batch (same outputs), without the tagging pipes; one text skips nlp.pipe."""
        if as_tuples or n_process != 1:
            raise ValueError("DeferredTaggingNlpEngine.process_batch takes plain texts in one process")
        items = [str(t) for t in texts]
        self.use_model_ops()
        nlp = self._nlp(language)
        disabled = list(self._deferred[language])
        with NLP_LOCK:
            if len(items) == 1:
                docs = [nlp(items[0], disable=disabled)]
            else:
                docs = list(nlp.pipe(items, batch_size=batch_size, disable=disabled))
        for doc in docs:
            yield doc.text, self._doc_to_nlp_artifact(doc, language)

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        deferred = self._deferred[language]
        if not deferred:
            return super()._doc_to_nlp_artifact(doc, language)
        entities, scores = self._get_updated_entities(self._get_entities(doc), self._get_scores_for_entities(doc))
        nlp = self._nlp(language)

        def tag(d: Doc) -> None:
            self.use_model_ops()
            with NLP_LOCK:
                for name in deferred:
                    nlp.get_pipe(name)(d)

        return TaggedOnDemand(list(entities), doc, self, language, list(scores), tag)

    def _nlp(self, language: str) -> Language:
        if not self.nlp:
            raise ValueError("NLP engine is not loaded")
        return self.nlp[language]
