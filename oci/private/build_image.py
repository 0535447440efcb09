"""Builds an OCI image layout directory from an optional base image and layer tars.

Each --layer TAR becomes one gzip layer (deterministic: mtime 0, no file name, level 6);
its diff_id is the sha256 of TAR. The config inherits the base's and applies the given
settings on top; every new layer gets one history entry naming where it came from.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import layout

EPOCH = "1970-01-01T00:00:00Z"
GZIP_LEVEL = 6
VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parses the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--output", required=True, type=Path, help="layout directory to create")
    parser.add_argument("--base", type=Path, help="layout directory of the base image")
    parser.add_argument(
        "--layer",
        nargs=2,
        action="append",
        default=[],
        metavar=("TAR", "CREATED_BY"),
        help="an uncompressed tar and the history text naming its source (repeatable, in order)",
    )
    parser.add_argument("--entrypoint", help="JSON list; also clears the base's Cmd")
    parser.add_argument("--cmd", help="JSON list")
    parser.add_argument("--env-file", type=Path, help="KEY=VALUE lines; $VAR/${VAR} expand from the base's Env")
    parser.add_argument("--labels-file", type=Path, help="KEY=VALUE lines, merged over the base's labels")
    parser.add_argument("--annotations-file", type=Path, help="KEY=VALUE lines: manifest annotations")
    parser.add_argument("--user", help="config User")
    parser.add_argument("--workdir", help="config WorkingDir")
    parser.add_argument("--exposed-port", action="append", default=[], help="PORT[/PROTO] (repeatable)")
    parser.add_argument("--volume", action="append", default=[], help="absolute path (repeatable)")
    parser.add_argument("--created-file", type=Path, help=f"file holding the creation time (default {EPOCH})")
    parser.add_argument("--os", help="default: the base's, else linux")
    parser.add_argument("--architecture", help="default: the base's, else amd64")
    parser.add_argument("--variant", help="CPU variant, e.g. v8")
    return parser.parse_args(argv)


def read_key_values(path: Path | None) -> dict[str, str]:
    """Reads KEY=VALUE lines (blank lines skipped) into a dict, keeping their order."""
    if path is None:
        return {}
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        key, separator, value = line.partition("=")
        if not separator or not key:
            raise ValueError(f"{path}:{number}: expected KEY=VALUE, got {line!r}")
        values[key] = value
    return values


def json_list(text: str | None, flag: str) -> list[str] | None:
    """Parses the JSON list of strings given to FLAG, or None when absent."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{flag} must be a JSON list of strings, got {text!r}")
    return value


def merge_env(base: list[str], updates: dict[str, str]) -> list[str]:
    """Applies UPDATES over the KEY=VALUE list BASE: same key replaced in place, new keys appended.

    $VAR and ${VAR} in an update expand to the base's value (empty when unset)."""
    merged = dict(entry.partition("=")[::2] for entry in base)
    previous = dict(merged)
    for key, value in updates.items():
        merged[key] = VARIABLE.sub(lambda m: previous.get(m.group(1) or m.group(2), ""), value)
    return [f"{key}={value}" for key, value in merged.items()]


def port_key(port: str) -> str:
    """Returns PORT in ExposedPorts form: '8080' -> '8080/tcp'."""
    number, _, protocol = port.partition("/")
    if not number.isdigit() or not 0 < int(number) < 65536 or protocol not in ("", "tcp", "udp", "sctp"):
        raise ValueError(f"invalid exposed port {port!r}; expected PORT or PORT/tcp|udp|sctp")
    return f"{int(number)}/{protocol or 'tcp'}"


def add_layer(output: Path, tar: Path) -> tuple[dict[str, Any], str]:
    """Compresses TAR into a blob of OUTPUT; returns (layer descriptor, diff_id)."""
    blobs = output / "blobs" / "sha256"
    uncompressed = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=blobs, delete=False) as temporary:
        with open(tar, "rb") as source, gzip.GzipFile(
            filename="", mode="wb", fileobj=temporary, compresslevel=GZIP_LEVEL, mtime=0
        ) as compressor:
            while chunk := source.read(layout.CHUNK):
                uncompressed.update(chunk)
                compressor.write(chunk)
    with open(temporary.name, "rb") as compressed:
        digest, size = layout.sha256_stream(compressed)
    os.chmod(temporary.name, 0o644)
    os.replace(temporary.name, layout.blob_path(output, digest))
    descriptor = {"mediaType": layout.LAYER_GZIP_MEDIA_TYPE, "digest": digest, "size": size}
    return descriptor, "sha256:" + uncompressed.hexdigest()


def build(args: argparse.Namespace) -> None:
    """Writes the image layout described by ARGS."""
    output: Path = args.output
    (output / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    if args.base:
        _, base_manifest, config = layout.read_image(args.base)
        layers = list(base_manifest["layers"])
        for descriptor in layers:
            layout.copy_blob(args.base, output, descriptor["digest"])
    else:
        layers, config = [], {"rootfs": {"type": "layers", "diff_ids": []}}

    created = args.created_file.read_text(encoding="utf-8").strip() if args.created_file else EPOCH
    config["created"] = created
    config["os"] = args.os or config.get("os") or "linux"
    config["architecture"] = args.architecture or config.get("architecture") or "amd64"
    if args.variant:
        config["variant"] = args.variant
    history = config.setdefault("history", [])
    diff_ids = config["rootfs"]["diff_ids"]
    for tar, created_by in args.layer:
        descriptor, diff_id = add_layer(output, Path(tar))
        layers.append(descriptor)
        diff_ids.append(diff_id)
        history.append({"created": created, "created_by": created_by})

    settings = config.setdefault("config", {})
    entrypoint = json_list(args.entrypoint, "--entrypoint")
    cmd = json_list(args.cmd, "--cmd")
    if entrypoint is not None:
        settings["Entrypoint"] = entrypoint
        settings.pop("Cmd", None)
    if cmd is not None:
        settings["Cmd"] = cmd
    env = read_key_values(args.env_file)
    if env:
        settings["Env"] = merge_env(settings.get("Env") or [], env)
    labels = read_key_values(args.labels_file)
    if labels:
        settings["Labels"] = {**(settings.get("Labels") or {}), **labels}
    if args.user is not None:
        settings["User"] = args.user
    if args.workdir is not None:
        settings["WorkingDir"] = args.workdir
    for port in args.exposed_port:
        settings.setdefault("ExposedPorts", {})[port_key(port)] = {}
    for volume in args.volume:
        settings.setdefault("Volumes", {})[volume] = {}

    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": layout.MANIFEST_MEDIA_TYPE,
        "config": layout.write_blob(output, layout.canonical_json(config), layout.CONFIG_MEDIA_TYPE),
        "layers": layers,
    }
    annotations = read_key_values(args.annotations_file)
    if annotations:
        manifest["annotations"] = annotations
    descriptor = layout.write_blob(output, layout.canonical_json(manifest), layout.MANIFEST_MEDIA_TYPE)
    if layout.REF_NAME in annotations:
        descriptor["annotations"] = {layout.REF_NAME: annotations[layout.REF_NAME]}
    index = {"schemaVersion": 2, "mediaType": layout.INDEX_MEDIA_TYPE, "manifests": [descriptor]}
    (output / "index.json").write_bytes(layout.canonical_json(index))
    (output / "oci-layout").write_bytes(layout.canonical_json({"imageLayoutVersion": "1.0.0"}))


def main(argv: list[str]) -> int:
    """Entry point: builds the layout, reporting bad input in one line."""
    args = parse_args(argv)
    try:
        build(args)
    except (OSError, ValueError, layout.LayoutError) as error:
        print(f"build_image: {error}", file=sys.stderr)
        return 1
    except KeyError as error:
        print(f"build_image: the base image's manifest or config lacks {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
