"""Names fitted to a column: whole when they fit, else cut with ``…`` (never silently).

Issue 17: ``prod/filesyste`` read as a different server, and a tool column of 20 cells
beside 25 free ones hid ``get_pull_request_diff``. The Logs and Spans rows size their
name columns with ``share`` (each column its widest name, shrunk only when the row is
really short) and cut with ``fit``. Numbers are never passed here: they are formatted
whole or abbreviated by ``tokentop.tui.format``.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text


def fit(name: str, width: int) -> str:
    """``name`` padded to ``width`` cells, or cut to ``width - 1`` and ``…``."""
    if width <= 0:
        return ""
    if len(name) <= width:
        return name.ljust(width)
    return name[: width - 1] + "…"


def share(wants: Sequence[int], mins: Sequence[int], room: int) -> list[int]:
    """Widths for columns wanting ``wants`` cells within ``room``: each its want when all
    fit; else the widest shrinks first, never below its ``min``."""
    widths = [max(w, m) for w, m in zip(wants, mins, strict=True)]
    over = sum(widths) - max(room, sum(mins))
    while over > 0:
        i = max(range(len(widths)), key=lambda k: widths[k] - mins[k])
        if widths[i] <= mins[i]:
            break
        widths[i] -= 1
        over -= 1
    return widths


TAIL_MIN = 20  # cells a message needs to say anything; less, and the counts stay


def whole_items(items: Sequence[Text], width: int, sep: str = " · ",
                sep_style: str = "dim", *, tail: Text | None = None) -> Text:
    """``items`` joined by ``sep``, as many whole ones as fit in ``width`` cells, then
    ``…`` if any were left out: a status line never ends in a cut number (``viewer 1``
    for ``viewer 12``) or a dangling separator. ``tail`` (words: an error message) comes
    after the items that fit, in place of those that do not if it gets ``TAIL_MIN``
    cells, cut with ``…``."""
    line = Text(no_wrap=True, overflow="ellipsis")
    for i, item in enumerate(items):
        gap = len(sep) if i else 0
        rest = len(items) - i - 1
        if line.cell_len + gap + item.cell_len + (2 if rest else 0) > width:
            if i and tail is not None and (
                    width - line.cell_len - len(sep) >= min(tail.cell_len, TAIL_MIN)):
                break  # the message says more than the counts left out
            if i:
                line.append(" …", style=sep_style)
            else:  # not even the first: cut it, marked
                line.append_text(item)
                line.truncate(width, overflow="ellipsis")
            return line
        if gap:
            line.append(sep, style=sep_style)
        line.append_text(item)
    if tail is not None and tail.cell_len and line.cell_len + len(sep) + 2 <= width:
        if line.cell_len:
            line.append(sep, style=sep_style)
        line.append_text(tail)
        line.truncate(width, overflow="ellipsis")  # a Label cuts without a mark
    return line


def cut_line(line: Text, width: int, *, pad: bool = False) -> Text:
    """``line`` cut to ``width`` cells with ``…``, never right after a number.

    Log messages and event summaries are free text; a plain cut there left
    ``duration=233…`` for 2,330 ms (or for 233 ms, its unit lost), which reads as a
    value. When ``…`` would follow a standalone number (digits not glued to a name, as
    ``v1`` or ``pass20`` are), the word holding it goes (``duration=…`` would be no
    better) and ``…`` follows the words before it. A line that is one word is cut as
    before; text without such a number (URLs, names) is cut where it is.
    """
    width = max(1, width)
    if line.cell_len <= width:
        if pad:
            line.pad_right(width - line.cell_len)
        return line
    plain = line.plain
    at = width - 1  # "…" goes here; plain[:at] is kept
    if len(plain) == line.cell_len and _number_before(plain, at):
        start = plain.rfind(" ", 0, at) + 1
        keep = plain[:start].rstrip()
        if keep:
            line.truncate(len(keep), overflow="crop")
            line.append(" …" if len(keep) + 2 <= width else "…")
            if pad:
                line.pad_right(width - line.cell_len)
            return line
    line.truncate(width, overflow="ellipsis", pad=pad)
    return line


def _number_before(plain: str, at: int) -> bool:
    """Does ``plain[:at]`` end in a standalone number (``=233``, `` 1,91``, ``$3.``)?"""
    j = at
    while j > 0 and (plain[j - 1].isdigit() or plain[j - 1] in ".,"):
        j -= 1
    if not any(c.isdigit() for c in plain[j:at]):
        return False
    return j == 0 or not (plain[j - 1].isalpha() or plain[j - 1] in "_-/")
