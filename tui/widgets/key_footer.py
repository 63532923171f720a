"""The key footer: Textual's footer, but whole hints only and ``? Help`` always shown.

Textual's ``Footer`` lays every hint in a row and the terminal's edge cuts the last
ones, ``? Help`` among them at 80 columns. This one measures the hints and, when they
do not fit, leaves out the least useful ones (the screen bar already shows ``tab``'s
screens; then the screen's own hints from the last) so every hint shown is whole and
help and quit stay.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# Binding id -> rank: lower stays longer. Unlisted (a screen's own) rank by order.
ALWAYS = ("app.help", "app.quit")
LAST = ("app.next-screen", "app.pause")  # shown elsewhere: the screen bar, PAUSED


def hint_width(key: str, description: str, compact: bool) -> int:
    """Cells one hint takes, with its padding and margin (Footer's own CSS)."""
    if compact:  # key, a space, the description, a margin
        return len(key) + 1 + len(description) + 1
    return 1 + len(key) + 1 + len(description) + 1  # " key " + description + " "


def fit_hints(hints: list[tuple[str, int]], width: int) -> set[int]:
    """Indexes of the hints to show: (binding id, width) in display order.

    ``? Help`` and ``q Quit`` always; then the screen's hints in order; the app's
    ``space`` and ``tab`` hints last. Whatever does not fit whole is left out.
    """
    def rank(i: int) -> tuple[int, int]:
        hint_id = hints[i][0]
        if hint_id in ALWAYS:
            return (0, ALWAYS.index(hint_id))
        if hint_id in LAST:
            return (2, LAST.index(hint_id))
        return (1, i)

    kept: set[int] = set()
    used = 0
    for i in sorted(range(len(hints)), key=rank):
        w = hints[i][1]
        if used + w <= width or rank(i)[0] == 0:
            kept.add(i)
            used += w
    return kept


class KeyFooter(Footer):
    """A footer that fits its width with whole hints (see ``fit_hints``)."""

    DEFAULT_CSS: ClassVar[str] = """
    KeyFooter { overflow: hidden hidden; }
    """

    def __init__(self, *, compact: bool = False) -> None:
        super().__init__(show_command_palette=False, compact=compact)
        self._width = 0

    def _shown_bindings(self) -> Iterator[tuple[Binding, bool, str]]:
        """One shown binding per action, in the order Textual's footer shows them."""
        seen: set[str] = set()
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in seen:
                seen.add(binding.action)
                yield binding, enabled, tooltip

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        shown = list(self._shown_bindings())
        hints = [(b.id or "", hint_width(self.app.get_key_display(b), b.description,
                                         self.compact)) for b, _, _ in shown]
        width = self.size.width
        keep = fit_hints(hints, width) if width > 0 else set(range(len(shown)))
        for i, (binding, enabled, tooltip) in enumerate(shown):
            if i in keep:
                yield FooterKey(binding.key, self.app.get_key_display(binding),
                                binding.description, binding.action,
                                disabled=not enabled, tooltip=tooltip,
                                ).data_bind(compact=Footer.compact)

    def on_resize(self) -> None:
        if self.size.width != self._width:
            self._width = self.size.width
            self.call_after_refresh(self.recompose)
