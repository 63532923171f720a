"""``tui/widgets/cells.py``: names cut with ``…`` only when short, whole status items."""

from __future__ import annotations

import pytest
from rich.text import Text

from tokentop.tui.widgets.cells import fit, share, whole_items


def test_fit_pads_or_marks_the_cut() -> None:
    assert fit("prod/github", 12) == "prod/github "
    assert fit("prod/filesystem", 14) == "prod/filesyst…"
    assert fit("prod/filesystem", 10) == "prod/file…"
    assert fit("x", 0) == ""


def test_share_gives_every_want_when_it_fits_and_shrinks_the_widest() -> None:
    assert share((18, 21, 11), (6, 8, 5), 60) == [18, 21, 11]
    widths = share((18, 21, 11), (6, 8, 5), 45)
    assert sum(widths) == 45 and widths[2] == 11  # the widest gave first
    assert share((18, 21, 11), (6, 8, 5), 5) == [6, 8, 5]  # never below the minimums


def test_whole_items_never_cut_a_number() -> None:
    items = [Text("recv 1,234"), Text("lost up 37"), Text("viewer 12")]
    line = whole_items(items, 30).plain
    assert line == "recv 1,234 · lost up 37 …"
    assert whole_items(items, 80).plain == "recv 1,234 · lost up 37 · viewer 12"
    told = whole_items(items, 46, tail=Text("connection refused by host")).plain
    assert told == "recv 1,234 · lost up 37 · viewer 12 · connect…"
    more = [*items, Text("duplicates 3"), Text("truncated 4")]
    told = whole_items(more, 60, tail=Text("connection refused by the upstream host")).plain
    assert told == "recv 1,234 · lost up 37 · viewer 12 · duplicates 3 …"  # 7 cells: counts
    kept = whole_items(items, 30, tail=Text("connection refused by host")).plain
    assert kept == "recv 1,234 · lost up 37 …"  # too little room for words: counts stay


@pytest.mark.parametrize(("line", "width", "shown"), [
    # the cut falls in a number: the word goes, "…" after the words before it
    ("tool=list_directory  duration=2330 ms", 34, "tool=list_directory …"),
    # the number is whole but its unit would be lost: it goes too
    ("tool=list_directory  duration=233 ms", 34, "tool=list_directory …"),
    # words without digits are cut where they are
    ("tool call completed for a directory", 20, "tool call completed…"),
    # one long word: cut as before, marked
    ("1234567890123", 6, "12345…"),
    ("short 12", 20, "short 12"),
])
def test_cut_line_never_leaves_a_number_beside_the_ellipsis(
        line: str, width: int, shown: str) -> None:
    from rich.text import Text

    from tokentop.tui.widgets.cells import cut_line

    out = cut_line(Text(line, overflow="ellipsis"), width)
    assert out.plain == shown
    assert out.cell_len <= width
