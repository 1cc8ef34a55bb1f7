"""Perceptual hashes of profile pictures (imagehash's pHash), to compare official and lookalike
accounts by what their pictures look like rather than by their bytes."""

from __future__ import annotations

from pathlib import Path

import imagehash
from PIL import Image, UnidentifiedImageError

from vigil.core.errors import ValidationError


def picture_hash(path: Path) -> str:
    """The 64-bit perceptual hash of an image file, as 16 hex digits."""
    try:
        with Image.open(path) as image:
            return str(imagehash.phash(image))
    except (OSError, UnidentifiedImageError) as e:
        raise ValidationError(f"{path}: not a readable image ({e})") from e
