"""Named objects of one kind (laws, observation models), the built-in ones loaded
on first use.

A registry imports the modules that define its built-in members the first time
it is read, so registering is the only step that makes a member usable, and no
package ``__init__`` has to import modules for their side effects.

Examples
--------
>>> from types import SimpleNamespace
>>> shapes = Registry("shape")
>>> _ = shapes.register(SimpleNamespace(name="circle"))
>>> shapes.names()
['circle']
>>> shapes.get("square")
Traceback (most recent call last):
...
ValueError: unknown shape 'square'; choose one of: circle
"""

from __future__ import annotations

import importlib
from typing import Any


class Registry[Item]:
    """Members by ``name``; ``builtin_modules`` are imported (and so register) first."""

    def __init__(self, kind: str, builtin_modules: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.builtin_modules = builtin_modules
        self._items: dict[str, Any] = {}

    def register(self, item: Item) -> Item:
        """Add (or replace) ``item`` under ``item.name``; returns it."""
        self._items[item.name] = item  # type: ignore[attr-defined]
        return item

    def get(self, name: str) -> Item:
        """The member called ``name``.

        Raises
        ------
        ValueError
            If there is none; the message lists the members.
        """
        items = self._loaded()
        try:
            return items[name]
        except KeyError:
            known = ", ".join(sorted(items))
            raise ValueError(f"unknown {self.kind} {name!r}; choose one of: {known}") from None

    def names(self) -> list[str]:
        """The members' names, sorted."""
        return sorted(self._loaded())

    def _loaded(self) -> dict[str, Any]:
        for module in self.builtin_modules:
            importlib.import_module(module)
        return self._items
