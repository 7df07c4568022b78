"""What one upload may cost, from the school's configuration.

Apart from `upload_checks`, which imports Pillow and pypdf, because every unit of work is given
the limits (dialogs.services.container) and most never check an upload.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UploadLimits:
    """What one upload may cost us, set by the school's configuration rather than by the sender."""

    max_bytes: int
    max_pixels: int
    max_video_bytes: int | None = None  # videos are larger; None: the same limit as pictures

    @property
    def largest(self) -> int:
        """The most any file may be, before its kind is known (what a channel may download)."""
        return max(self.max_bytes, self.max_video_bytes or 0)
