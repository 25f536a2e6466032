"""Change events for the explorer state: plain Python callbacks, no Qt.

A callback runs in the thread that changed the state (the GUI thread, for the app), in the order
it was connected. That is all the explorer needs, so no event library sits on the start-up path
(psygnal would add ~25 ms there; see docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Event:
    """One kind of change: `connect` a callback, `emit` calls each with the new value."""

    __slots__ = ("_callbacks", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """Call `callback(*args)` on every emit; returns it, so this works as a decorator."""
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., Any]) -> None:
        self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        for callback in tuple(self._callbacks):  # a callback may disconnect itself
            callback(*args)

    def __len__(self) -> int:
        return len(self._callbacks)

    def __repr__(self) -> str:
        return f"<Event {self.name}: {len(self)} callbacks>"
