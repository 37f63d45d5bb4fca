"""Loading of the recorded frame vectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).parent / "vectors"


def load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def text(frame: Any) -> str:
    """A frame as a station would send it."""
    return json.dumps(frame)
