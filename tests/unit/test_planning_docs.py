"""docs/operations.md's sizing and cost tables are the planner's output, not hand-typed numbers."""

from enclave_core.planning.tables import BEGIN, DOC, END, render


def test_operations_tables_match_the_planner() -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    assert text[start:end] == render(), "regenerate: python -m enclave_core.planning.tables --write"
