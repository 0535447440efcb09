"""A throwaway podman storage for tests, so that the machine's images stay untouched."""

from __future__ import annotations

from pathlib import Path


def private_podman_env(directory: Path) -> dict[str, str]:
    """Returns the environment variables that point podman at a new store in DIRECTORY.

    The store uses the vfs driver (works on any file system) with its graph root, run
    root and temporary files below DIRECTORY, and keeps no event log.
    """
    storage, engine = directory / "storage.conf", directory / "containers.conf"
    storage.write_text(f'[storage]\ndriver = "vfs"\ngraphroot = "{directory}/graph"\nrunroot = "{directory}/run"\n')
    engine.write_text(f'[engine]\ntmp_dir = "{directory}/libpod"\nevents_logger = "none"\n')
    return {
        "CONTAINERS_STORAGE_CONF": str(storage),
        "CONTAINERS_CONF": str(engine),
        "PODMAN_IGNORE_CGROUPSV1_WARNING": "1",
    }
