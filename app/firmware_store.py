"""The artifact store firmware downloads read from.

The platform's own store (``platform.artifacts``, local files or S3 as the settings choose)
is used when the platform has one; otherwise the local files under ``data_dir/firmware``.
"""

from __future__ import annotations

from app.platform import Platform
from firmware.storage import ArtifactStore, LocalArtifactStore


def artifact_store(platform: Platform) -> ArtifactStore:
    store: ArtifactStore | None = getattr(platform, "artifacts", None)
    if store is not None:
        return store
    return LocalArtifactStore(platform.settings.data_dir / "firmware")
