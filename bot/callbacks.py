"""Compact, versioned callback data for buttons: `version|flow|state|trigger` (≤ 64 bytes)."""

from __future__ import annotations

from dataclasses import dataclass

MAX_BYTES = 64


@dataclass(frozen=True)
class Press:
    """A decoded button press."""

    version: str
    flow: str
    state: str
    trigger: str


def encode(version: str, flow: str, state: str, trigger: str) -> str:
    """The callback data of a button."""
    data = f"{version}|{flow}|{state}|{trigger}"
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data}")
    return data


def decode(data: str) -> Press | None:
    """A press from callback data, or None if it is not ours (forged or garbled)."""
    parts = data.split("|")
    if len(parts) != 4 or not all(p and p.replace("_", "").isalnum() for p in parts):
        return None
    return Press(*parts)
