"""``tui/widgets/cells.py``: names cut with ``…`` only when short, whole status items."""

from __future__ import annotations

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
