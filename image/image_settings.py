"""The image's settings (image/settings.json), the one source of its port, user, paths,
environment, layer order and security settings, for Python tools and tests."""

import json
from functools import lru_cache
from pathlib import Path
from typing import Dict, List

SETTINGS_FILE = Path(__file__).resolve().with_name("settings.json")


@lru_cache(maxsize=None)
def settings() -> Dict[str, object]:
    """The parsed settings file."""
    return json.loads(SETTINGS_FILE.read_text(encoding="utf-8"))


def user_spec() -> str:
    """The user the workload runs as, as UID:GID (e.g. 1000:1000)."""
    user = settings()["user"]
    return "%d:%d" % (user["uid"], user["gid"])  # type: ignore[index]


def layer_index(name: str) -> int:
    """The index of the layer NAME (e.g. "app") in the image, bottom first."""
    layers: List[str] = settings()["layers"]  # type: ignore[assignment]
    return layers.index(name)
