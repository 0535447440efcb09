"""Builds an OCI image layout holding one image index over several single-image layouts.

Each --image layout (as oci_image writes it) contributes its manifest, config and layers;
the index lists the manifests in the order given, each with the platform its config
names (os, architecture, variant). The layout's index.json then lists the index alone,
as `skopeo copy --all` reads and writes it. Two images of the same platform, or an
image without one, are an error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import layout


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parses the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--output", required=True, type=Path, help="layout directory to write")
    parser.add_argument("--image", action="append", required=True, type=Path, help="an image layout (repeatable, in index order)")
    return parser.parse_args(argv)


def platform(config: dict[str, Any], image: Path) -> dict[str, str]:
    """The index platform of an image config: its os, architecture and variant."""
    if not config.get("os") or not config.get("architecture"):
        raise layout.LayoutError(f"{image}: the config names no os and architecture")
    result = {"os": config["os"], "architecture": config["architecture"]}
    if config.get("variant"):
        result["variant"] = config["variant"]
    return result


def build(output: Path, images: list[Path]) -> dict[str, Any]:
    """Writes the index layout; returns the index's descriptor."""
    manifests, seen = [], {}
    for image in images:
        descriptor, manifest, config = layout.read_image(image)
        for blob in [manifest["config"], *manifest["layers"], descriptor]:
            layout.copy_blob(image, output, blob["digest"])
        entry = {key: descriptor[key] for key in ("mediaType", "digest", "size")}
        entry["platform"] = platform(config, image)
        key = layout.canonical_json(entry["platform"])
        if key in seen:
            raise layout.LayoutError(f"{image} and {seen[key]} are both for {entry['platform']}")
        seen[key] = image
        manifests.append(entry)
    index = {"schemaVersion": 2, "mediaType": layout.INDEX_MEDIA_TYPE, "manifests": manifests}
    descriptor = layout.write_blob(output, layout.canonical_json(index), layout.INDEX_MEDIA_TYPE)
    top = {"schemaVersion": 2, "mediaType": layout.INDEX_MEDIA_TYPE, "manifests": [descriptor]}
    (output / "index.json").write_bytes(layout.canonical_json(top))
    (output / "oci-layout").write_bytes(layout.canonical_json({"imageLayoutVersion": "1.0.0"}))
    return descriptor


def main(argv: list[str]) -> int:
    """Entry point: builds the layout, reporting bad input in one line."""
    args = parse_args(argv)
    try:
        build(args.output, args.image)
    except (OSError, KeyError, layout.LayoutError) as error:
        print(f"build_index: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
