"""The simulation's parameters: one TOML file, each value with its source."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

PARAMETERS = "parameters.toml"


def default_path() -> Path:
    return Path(str(resources.files("voltbook.city").joinpath(PARAMETERS)))


@dataclass(frozen=True)
class Parameters:
    """Values by "section.name"; `sources` says where each comes from."""

    values: dict[str, Any]
    sources: dict[str, str]
    sha256: str

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def num(self, key: str) -> float:
        return float(self.values[key])

    def with_values(self, **changes: Any) -> Parameters:
        """A copy with some values changed ("section__name" keys); its hash says so."""
        values = dict(self.values)
        for key, value in changes.items():
            name = key.replace("__", ".")
            if name not in values:
                raise KeyError(f"no parameter {name}")
            values[name] = value
        changed = ",".join(f"{k}={v}" for k, v in sorted(changes.items()))
        return replace(self, values=values, sha256=f"{self.sha256}+{changed}")


def load(path: Path | None = None) -> Parameters:
    path = path or default_path()
    raw = path.read_bytes()
    document = tomllib.loads(raw.decode("utf-8"))
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for section, entries in document.items():
        for name, entry in entries.items():
            if not isinstance(entry, dict) or "value" not in entry or not entry.get("source"):
                raise ValueError(f"{section}.{name} needs a value and a source")
            values[f"{section}.{name}"] = entry["value"]
            sources[f"{section}.{name}"] = str(entry["source"])
    return Parameters(values, sources, hashlib.sha256(raw).hexdigest())
