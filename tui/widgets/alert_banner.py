"""The alert banner: one line under the screen bar while an alert is not dismissed.

Why a banner and not a toast: a toast goes away after a few seconds, and a dashboard is
often glanced at minutes later; the banner stays until ``!`` (or a click) dismisses it.
Every screen has one and each follows the app's ``alerts_shown``, so the alert is on
whichever screen the user switches to. The alert's text (a quota's provider, from the
store) is plain ``Text``, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.events import Click
from textual.widgets import Static

if TYPE_CHECKING:
    from tokentop.store.alerts.rules import Alert

HINT = "! dismiss"


def banner_text(alerts: Sequence[Alert], width: int) -> Text:
    """The newest alert's message, how many more there are, and the key that dismisses
    them; the message is cut (with …) before the hint is."""
    newest = alerts[-1]
    more = f" (+{len(alerts) - 1} more)" if len(alerts) > 1 else ""
    head = "ALERT "
    room = max(1, width - len(head) - len(more) - len(HINT) - 3)
    message = newest.message
    if len(message) > room:
        message = message[: room - 1] + "…"
    text = Text(head, style="bold")
    text.append(message)
    text.append(more)
    pad = width - len(text) - len(HINT) - 1
    text.append(" " * max(1, pad))
    text.append(HINT, style="bold")
    return text


class AlertBanner(Static):
    """The app's undismissed alerts, on one docked line; hidden when there are none."""

    DEFAULT_CSS = """
    AlertBanner { height: 1; width: 1fr; display: none; }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "alerts_shown", self._show, init=True)

    def _show(self, alerts: tuple[Alert, ...]) -> None:
        self.display = bool(alerts)
        if alerts:
            self.update(banner_text(alerts, self.size.width or self.app.size.width))

    def on_resize(self) -> None:
        self._show(getattr(self.app, "alerts_shown", ()))

    async def on_click(self, event: Click) -> None:
        event.stop()
        await self.app.run_action("dismiss_alerts")
