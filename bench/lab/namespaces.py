"""Named namespaces of one benchmark run: find them, and remove them in every outcome."""
from __future__ import annotations

import json
import subprocess


def named_namespaces() -> list[str]:
    out = subprocess.run(["ip", "-j", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return [entry["name"] for entry in json.loads(out or "[]")]


def with_prefix(prefix: str) -> list[str]:
    return [name for name in named_namespaces() if name.startswith(prefix)]


def remove_with_prefix(prefix: str) -> list[str]:
    """Delete every named namespace starting with `prefix` (links inside go with them)."""
    leftovers = with_prefix(prefix)
    if leftovers:
        batch = "".join(f"netns del {name}\n" for name in leftovers)
        subprocess.run(["ip", "-force", "-batch", "-"], input=batch, text=True, capture_output=True, check=False)
    return leftovers
