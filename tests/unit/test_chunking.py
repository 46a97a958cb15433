"""Tests for ingest.chunking: structure boundaries, size limits, overlap, determinism."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enclave_core.documents import Block, Chunk, LoadedDocument
from ingest.chunking import chunk_document, split_sentences


def doc_of(*blocks: Block) -> LoadedDocument:
    return LoadedDocument(source="d.txt", title="d", blocks=list(blocks), media_type="text/plain")


def words(text: str) -> list[str]:
    return text.split()


def numbered_sentences(count: int, start: int = 0) -> str:
    """Five words per sentence, each word unique, so overlaps are easy to locate."""
    return " ".join(f"Sentence s{i} has five w{i}." for i in range(start, start + count))


# -- merging and boundaries ---------------------------------------------------------------


def test_small_blocks_under_one_heading_and_page_are_merged() -> None:
    doc = doc_of(Block("One two.", page=1, heading="H"), Block("Three four.", page=1, heading="H"))
    assert chunk_document(doc) == [Chunk(index=0, text="One two.\n\nThree four.", page=1, heading="H")]


@pytest.mark.parametrize(
    ("second", "reason"),
    [
        (Block("Second.", page=2, heading="H"), "page"),
        (Block("Second.", page=1, heading="Other"), "heading"),
        (Block("Second.", page=1, heading=None), "heading removed"),
        (Block("Second.", page=None, heading="H"), "page removed"),
    ],
)
def test_a_chunk_never_spans_pages_or_headings(second: Block, reason: str) -> None:
    doc = doc_of(Block("First.", page=1, heading="H"), second)
    chunks = chunk_document(doc)
    assert [(c.text, c.page, c.heading) for c in chunks] == [
        ("First.", 1, "H"),
        ("Second.", second.page, second.heading),
    ], reason


def test_merging_stops_at_max_words() -> None:
    blocks = [Block(" ".join(f"b{i}w{j}" for j in range(8))) for i in range(5)]  # 8 words each
    chunks = chunk_document(doc_of(*blocks), max_words=20)
    assert [len(words(c.text)) for c in chunks] == [16, 16, 8]
    assert [c.index for c in chunks] == [0, 1, 2]


def test_separate_blocks_get_no_overlap() -> None:
    first, second = numbered_sentences(5), numbered_sentences(5, start=5)  # 25 words each
    chunks = chunk_document(doc_of(Block(first), Block(second)), max_words=30, overlap_words=10)
    assert [c.text for c in chunks] == [first, second]


def test_empty_document_and_blank_blocks_give_no_chunks() -> None:
    assert chunk_document(doc_of()) == []
    assert chunk_document(doc_of(Block("   "), Block("\n"))) == []


# -- splitting long blocks ------------------------------------------------------------------


def test_long_block_is_split_at_sentences_with_overlap() -> None:
    text = numbered_sentences(40)  # 200 words
    chunks = chunk_document(doc_of(Block(text, page=3, heading="Long")), max_words=50, overlap_words=10)
    assert len(chunks) > 4
    for chunk in chunks:
        assert len(words(chunk.text)) <= 50
        assert (chunk.page, chunk.heading) == (3, "Long")
    for previous, current in itertools.pairwise(chunks):
        assert words(current.text)[:10] == words(previous.text)[-10:]
        # after the overlap, the chunk starts on a sentence boundary
        assert words(current.text)[10] == "Sentence"
    # every sentence of the block is in some chunk, in order
    seen = [w for c in chunks for w in words(c.text) if w.startswith("s")]
    assert sorted(set(seen), key=lambda w: int(w[1:])) == [f"s{i}" for i in range(40)]


def test_sentence_without_boundaries_is_cut_into_word_windows() -> None:
    text = " ".join(f"w{i}" for i in range(1000))
    chunks = chunk_document(doc_of(Block(text)), max_words=100, overlap_words=20)
    assert all(len(words(c.text)) <= 100 for c in chunks)
    assert words(chunks[0].text)[0] == "w0"
    assert words(chunks[-1].text)[-1] == "w999"
    assert words(chunks[1].text)[:20] == words(chunks[0].text)[-20:]


def test_table_that_fits_is_kept_whole() -> None:
    table = "Country | Weeks\nFR | 16\nDE | 14"
    doc = doc_of(Block("Intro.", heading="T"), Block(table, heading="T", kind="table"))
    assert chunk_document(doc)[0].text == f"Intro.\n\n{table}"


def test_long_table_is_split_by_rows_repeating_the_header() -> None:
    header = "Name | Team | Office"
    rows = [f"Person{i} | Team{i % 3} | Room{i}" for i in range(60)]  # 7 words per row
    table = "\n".join([header, *rows])
    chunks = chunk_document(doc_of(Block(table, kind="table")), max_words=40, overlap_words=10)
    assert len(chunks) > 1
    seen: list[str] = []
    for chunk in chunks:
        lines = chunk.text.split("\n")
        assert lines[0] == header
        assert all(line in rows for line in lines[1:])  # rows are never cut
        assert len(words(chunk.text)) <= 40
        seen.extend(lines[1:])
    assert seen == rows  # no overlap between table pieces, nothing lost


def test_long_list_is_split_at_item_lines() -> None:
    items = [f"- item {i} with a few words" for i in range(30)]  # 7 words per item
    chunks = chunk_document(doc_of(Block("\n".join(items), kind="list")), max_words=50, overlap_words=0)
    assert len(chunks) > 1
    assert all(line in items for c in chunks for line in c.text.split("\n"))


@pytest.mark.parametrize(("max_words", "overlap"), [(20, 200), (1, 5), (3, 3), (10, 0)])
def test_overlap_larger_than_chunk_still_makes_progress(max_words: int, overlap: int) -> None:
    """Settings allow overlap_words up to 200 with max_words down to 20."""
    chunks = chunk_document(doc_of(Block(numbered_sentences(30))), max_words=max_words, overlap_words=overlap)
    assert chunks
    assert all(len(words(c.text)) <= max_words for c in chunks)
    assert "w29." in words(chunks[-1].text)


@pytest.mark.parametrize(("max_words", "overlap"), [(0, 0), (10, -1)])
def test_invalid_arguments(max_words: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        chunk_document(doc_of(Block("x")), max_words=max_words, overlap_words=overlap)


# -- sentences ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        ("See e.g. the guide. Then stop.", ["See e.g. the guide.", "Then stop."]),
        ('He said "go." She went.', ['He said "go."', "She went."]),
        ("Version 2.5 is out. 3 bugs fixed.", ["Version 2.5 is out.", "3 bugs fixed."]),
        ("Wait… Really", ["Wait…", "Really"]),
        ("", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


# -- determinism and properties -------------------------------------------------------------

_WORD = st.sampled_from(["alpha", "beta", "gamma.", "Delta", "eps!", "zeta?", "eta", "Theta."])
_BLOCK = st.builds(
    Block,
    text=st.lists(_WORD, min_size=1, max_size=120).map(" ".join),
    page=st.sampled_from([None, 1, 2]),
    heading=st.sampled_from([None, "A", "A > B"]),
    kind=st.sampled_from(["paragraph", "list", "table", "code"]),
)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(
    blocks=st.lists(_BLOCK, max_size=12),
    max_words=st.integers(1, 60),
    overlap=st.integers(0, 40),
)
def test_chunk_properties(blocks: list[Block], max_words: int, overlap: int) -> None:
    doc = doc_of(*blocks)
    chunks = chunk_document(doc, max_words=max_words, overlap_words=overlap)
    assert chunks == chunk_document(doc, max_words=max_words, overlap_words=overlap)  # deterministic
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert all(0 < len(words(c.text)) <= max_words for c in chunks)
    places = {(b.page, b.heading) for b in blocks}
    assert all((c.page, c.heading) in places for c in chunks)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(blocks=st.lists(_BLOCK, max_size=12), max_words=st.integers(1, 60))
def test_without_overlap_no_word_is_lost_or_duplicated(blocks: list[Block], max_words: int) -> None:
    prose = [Block(b.text, page=b.page, heading=b.heading) for b in blocks]
    chunks = chunk_document(doc_of(*prose), max_words=max_words, overlap_words=0)
    assert [w for c in chunks for w in words(c.text)] == [w for b in prose for w in words(b.text)]
