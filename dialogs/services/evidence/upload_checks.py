"""Checks an uploaded evidence file by what it contains, before anything keeps or shows it.

Staff send screenshots of online abuse straight from phones and laptops, and anyone who can reach
the bot can send anything at all. A file's name and declared type are only claims, so the kind of
file is decided from its first bytes, and then the whole file is decoded with the library that will
later read it: evidence that cannot be opened later is worthless, and a file crafted to exhaust
memory or to exploit a viewer must be turned away here rather than by whoever opens it next.

Every refusal is an ``UploadRejected`` whose message is read by a member of school staff, so the
messages are kind, name the file, avoid technical words and never carry a library's error text.
"""

from __future__ import annotations

import hashlib
import io
import struct
import threading
import warnings
from dataclasses import dataclass
from pathlib import PureWindowsPath
from typing import Final

from PIL import Image, ImageFile
from pypdf import PdfReader

from dialogs.services.errors import UploadRejected
from dialogs.services.evidence.upload_limits import UploadLimits
from dialogs.services.school.file_names import file_subject, megabytes

__all__ = ["CheckedUpload", "UploadLimits", "check_upload"]


@dataclass(frozen=True)
class CheckedUpload:
    """What is known for certain about an accepted file; none of it comes from the sender's claims.

    ``extension`` is derived from the content so stored copies are named for what they really are,
    and ``sha256`` covers the exact bytes received so the evidence can later be shown unaltered.
    """

    media_type: str
    extension: str
    size: int
    sha256: str
    width: int | None
    height: int | None
    pages: int | None


@dataclass(frozen=True)
class _Kind:
    """One accepted kind of file, with everything needed to check it and to talk about it."""

    media_type: str
    extension: str
    described: str
    # The Pillow plugins allowed to open it, so a file is never handed to a decoder it did not
    # announce itself to; empty for PDFs.
    pillow_formats: tuple[str, ...]
    # The format names Pillow may report once decoded (a JPEG with extra pictures reports "MPO").
    decoded_formats: frozenset[str]


_PNG: Final = _Kind("image/png", ".png", "PNG picture", ("PNG",), frozenset({"PNG"}))
_JPEG: Final = _Kind("image/jpeg", ".jpg", "JPEG photo", ("JPEG",), frozenset({"JPEG", "MPO"}))
_GIF: Final = _Kind("image/gif", ".gif", "GIF picture", ("GIF",), frozenset({"GIF"}))
_WEBP: Final = _Kind("image/webp", ".webp", "WebP picture", ("WEBP",), frozenset({"WEBP"}))
_HEIC: Final = _Kind("image/heic", ".heic", "HEIC photo", ("HEIF",), frozenset({"HEIF"}))
_PDF: Final = _Kind("application/pdf", ".pdf", "PDF document", (), frozenset())
_MP4: Final = _Kind("video/mp4", ".mp4", "MP4 video", (), frozenset())
_MOV: Final = _Kind("video/quicktime", ".mov", "QuickTime video", (), frozenset())
_VIDEOS: Final = frozenset({_MP4, _MOV})

# What a file's name claims, used only to explain a refusal better, never to accept anything.
_CLAIMED_BY_SUFFIX: Final[dict[str, _Kind]] = {
    ".png": _PNG,
    ".jpg": _JPEG,
    ".jpeg": _JPEG,
    ".jpe": _JPEG,
    ".jfif": _JPEG,
    ".gif": _GIF,
    ".webp": _WEBP,
    ".heic": _HEIC,
    ".heif": _HEIC,
    ".hif": _HEIC,
    ".pdf": _PDF,
    ".mp4": _MP4,
    ".m4v": _MP4,
    ".mov": _MOV,
}

# The ISO BMFF major brands that mean an HEVC-coded HEIF picture or sequence. Only the major brand
# counts because that is what pillow-heif checks too; an AVIF file also lists "mif1" among its
# compatible brands but cannot be decoded here, so it must not be sniffed as HEIC.
_HEIC_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"hevc", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
)

# Brands of the ISO base media files phones and cameras record video in.
_MP4_BRANDS: Final = frozenset(
    {
        b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
        b"M4VP", b"MSNV", b"dash", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"mmp4",
    }
)  # fmt: skip
_MOV_BRANDS: Final = frozenset({b"qt  "})
_ACCEPTED_IN_WORDS: Final = (
    "a picture (PNG, JPEG, GIF, WebP, or HEIC, the kind iPhones take), a video (MP4 or MOV) "
    "or a PDF document"
)

_heif_lock = threading.Lock()
_warnings_lock = threading.Lock()
_heif_registered = False


def check_upload(
    data: bytes, *, original_name: str, limits: UploadLimits, declared_size: int | None = None
) -> CheckedUpload:
    """Accept a file only if it is one of the kinds we keep and it decodes completely and cheaply.

    The name is used only to word refusals. Raises ``UploadRejected`` for every problem with the
    file; no exception from a decoding library ever escapes.
    """
    subject = file_subject(original_name)
    size = len(data)
    if size == 0 and declared_size:
        # Nothing was read because the platform's file was over what may be downloaded.
        raise UploadRejected(
            f"{subject} is {megabytes(declared_size, round_up=True)} MB, which is more than the "
            f"{megabytes(limits.largest)} MB I can keep for one file. Could you send a smaller "
            "file, or a screenshot of the part that matters?"
        )
    if size == 0:
        raise UploadRejected(
            f"{subject} is empty, so there is nothing in it I can keep as evidence. "
            "Could you try attaching it again?"
        )
    kind = _sniff(data)
    # A platform may report the size of a file it did not send whole: the larger size counts.
    size = max(size, declared_size or 0)
    limit_bytes = limits.max_bytes
    if kind in _VIDEOS and limits.max_video_bytes is not None:
        limit_bytes = limits.max_video_bytes
    if size > (limit_bytes if kind is not None else limits.largest):
        actual, limit = megabytes(size, round_up=True), megabytes(limit_bytes)
        smaller = "a shorter clip" if kind in _VIDEOS else "a smaller screenshot, or crop it"
        raise UploadRejected(
            f"{subject} is {actual} MB, which is more than the {limit} MB I can keep for"
            f" one file. Could you send {smaller}?"
        )
    if kind is None:
        raise UploadRejected(_not_accepted_message(subject, original_name))
    sha256 = hashlib.sha256(data).hexdigest()

    width: int | None = None
    height: int | None = None
    pages: int | None = None
    if kind is _PDF:
        pages = _check_pdf(data, subject)
    elif kind in _VIDEOS:
        _check_video(data, kind, subject)
    else:
        width, height = _check_image(data, kind, subject, limits)
    return CheckedUpload(
        media_type=kind.media_type,
        extension=kind.extension,
        size=size,
        sha256=sha256,
        width=width,
        height=height,
        pages=pages,
    )


def _sniff(data: bytes) -> _Kind | None:
    """Decide the kind from the signature every real file of that kind starts with."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _PNG
    if data.startswith(b"\xff\xd8\xff"):
        return _JPEG
    if data.startswith((b"GIF87a", b"GIF89a")):
        return _GIF
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return _WEBP
    if data[4:8] == b"ftyp" and data[8:12] in _HEIC_BRANDS:
        return _HEIC
    if data[4:8] == b"ftyp" and data[8:12] in _MP4_BRANDS:
        return _MP4
    if data[4:8] == b"ftyp" and data[8:12] in _MOV_BRANDS:
        return _MOV
    if data.startswith(b"%PDF-"):
        return _PDF
    return None


def _check_image(data: bytes, kind: _Kind, subject: str, limits: UploadLimits) -> tuple[int, int]:
    """Decode the picture fully, but only after its declared size shows that doing so is safe.

    Our own limit is checked against the header, before any pixel memory exists; Pillow's
    process-wide limit is left alone because other code relies on it.
    """
    if kind is _HEIC:
        _ensure_heif_opener()
    too_large = _too_many_pixels_message(subject, limits.max_pixels)
    try:
        if kind is _HEIC:
            _check_heif_frames(data, limits.max_pixels, too_large)
        elif kind is _GIF:
            _check_gif_frames(data, limits.max_pixels, too_large)
        with _open_image(data, kind) as img:
            if img.format not in kind.decoded_formats:
                raise UploadRejected(_damaged_message(subject, kind))
            _require_pixels_within(img.size, limits.max_pixels, too_large)
            # Animated GIF and WebP: only the first frame is decoded; the frame checks above (GIF)
            # or the canvas size (WebP and APNG, whose frames must fit inside it, which libwebp
            # and Pillow enforce) bound all other frames without decoding them.
            img.load()
            # Some decoders learn the true size only while decoding (HEIF grids).
            _require_pixels_within(img.size, limits.max_pixels, too_large)
            width, height = img.size
    except UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadRejected(too_large) from exc
    except Exception as exc:
        # Any failure of a decoder on this content means the file is damaged or not what it claims.
        raise UploadRejected(_damaged_message(subject, kind)) from exc
    return width, height


def _open_image(data: bytes, kind: _Kind) -> ImageFile.ImageFile:
    """Open the header with Pillow's own bomb guard refusing rather than merely warning.

    Pillow only warns between its limit and twice its limit, and a warning would let the file
    through, so it is made an error here. ``catch_warnings`` swaps the process-wide filter list,
    and two threads doing so at once can restore each other's stale lists, so the swap is
    serialised by a lock; it is held only while headers are parsed, never while pixels are decoded
    (``load`` runs no bomb checks). Only decoders announced by the content's signature may try.
    """
    with _warnings_lock, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(io.BytesIO(data), formats=kind.pillow_formats)


def _require_pixels_within(size: tuple[int, int], max_pixels: int, message: str) -> None:
    """Refuse before pixel memory is allocated; a zero-sized picture cannot be real evidence."""
    width, height = size
    if width <= 0 or height <= 0:
        raise ValueError("image has no pixels")
    if width * height > max_pixels:
        raise UploadRejected(message)


def _check_heif_frames(data: bytes, max_pixels: int, message: str) -> None:
    """Bound every image in the container, because seeking to one in Pillow allocates its memory.

    ``open_heif`` reads only the container's headers, so this costs no decoding.
    """
    import pillow_heif

    heif_file = pillow_heif.open_heif(io.BytesIO(data))
    for index in range(len(heif_file)):
        _require_pixels_within(heif_file[index].size, max_pixels, message)


def _check_gif_frames(data: bytes, max_pixels: int, message: str) -> None:
    """Bound every frame of a GIF without decoding any of them.

    Pillow grows a GIF's canvas whenever a later frame reaches beyond it, and learns of that only
    when it decodes its way to that frame, so a tiny first frame can hide a huge later one. This
    walks the block structure the way Pillow reads it (unknown bytes are skipped one at a time) and
    checks the canvas each frame would produce. Structural damage is left for the decoder to find.
    """
    end = len(data)
    if end < 13:
        return
    width, height = struct.unpack_from("<HH", data, 6)
    flags = data[10]
    pos = 13
    if flags & 0x80:
        pos += 3 << ((flags & 0x07) + 1)
    while pos < end:
        block = data[pos]
        if block == 0x3B:  # trailer
            return
        if block == 0x21:  # extension: label, then data sub-blocks
            pos = _skip_sub_blocks(data, pos + 2)
        elif block == 0x2C:  # image descriptor
            if pos + 10 > end:
                return
            left, top, frame_width, frame_height = struct.unpack_from("<HHHH", data, pos + 1)
            width = max(width, left + frame_width)
            height = max(height, top + frame_height)
            if width * height > max_pixels:
                raise UploadRejected(message)
            frame_flags = data[pos + 9]
            pos += 10
            if frame_flags & 0x80:
                pos += 3 << ((frame_flags & 0x07) + 1)
            pos = _skip_sub_blocks(data, pos + 1)  # after the LZW minimum code size
        else:
            pos += 1


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    """Return the position after a chain of GIF data sub-blocks (or the end of the data)."""
    end = len(data)
    while pos < end:
        length = data[pos]
        pos += 1
        if length == 0:
            return pos
        pos += length
    return end


def _ensure_heif_opener() -> None:
    """Teach Pillow to open HEIC only when first needed, since most uploads never need libheif.

    Registering with no options leaves pillow-heif's process-wide defaults alone; the lock makes
    the first registration happen once even when several uploads arrive together.
    """
    global _heif_registered
    if _heif_registered:
        return
    with _heif_lock:
        if not _heif_registered:
            from pillow_heif import register_heif_opener

            register_heif_opener()
            _heif_registered = True


def _check_video(data: bytes, kind: _Kind, subject: str) -> None:
    """Walk the file's top-level boxes: each must fit inside the file, and a playable video has
    its index ("moov") and its media ("mdat", or fragments). No decoder is needed for that, and
    no video is ever decoded here: the file is kept as it came, for people to watch."""
    seen: set[bytes] = set()
    offset, end = 0, len(data)
    while offset < end:
        if end - offset < 8:
            raise UploadRejected(_damaged_message(subject, kind))
        size, box = struct.unpack(">I4s", data[offset : offset + 8])
        header = 8
        if size == 1:  # a 64-bit size follows the type
            if end - offset < 16:
                raise UploadRejected(_damaged_message(subject, kind))
            (size,) = struct.unpack(">Q", data[offset + 8 : offset + 16])
            header = 16
        elif size == 0:  # the box runs to the end of the file
            size = end - offset
        if size < header or offset + size > end:
            raise UploadRejected(_damaged_message(subject, kind))
        seen.add(box)
        offset += size
    if b"moov" not in seen or not seen & {b"mdat", b"moof"}:
        raise UploadRejected(_damaged_message(subject, kind))


def _check_pdf(data: bytes, subject: str) -> int:
    """Make sure the PDF can be read later, page by page, by anyone reviewing the evidence.

    Only the page tree is read, never the page contents, so this costs little whatever is drawn.
    """
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
        pages = 0 if encrypted else len(reader.pages)
    except Exception as exc:
        raise UploadRejected(_damaged_message(subject, _PDF)) from exc
    if encrypted:
        raise UploadRejected(
            f"{subject} is a password-protected PDF, so I wouldn't be able to open it again to "
            "look at the evidence. Could you save or print it again without a password, and send "
            "that copy?"
        )
    if pages < 1:
        raise UploadRejected(
            f"{subject} is a PDF with no pages in it, so there is nothing I can keep as evidence. "
            "Could you save it again and send the new copy?"
        )
    return pages


def _not_accepted_message(subject: str, original_name: str) -> str:
    """Explain a refusal of an unknown kind, saying so plainly when the name pretends otherwise."""
    # PureWindowsPath splits on both kinds of slash, whichever device the name came from.
    claimed = _CLAIMED_BY_SUFFIX.get(PureWindowsPath(original_name.strip().lower()).suffix)
    if claimed is not None:
        return (
            f"{subject} is named like a {claimed.described}, but inside it isn't really one, so I "
            f"can't keep it as evidence. Please send the screenshot itself as {_ACCEPTED_IN_WORDS}."
        )
    return (
        f"{subject} isn't a kind of file I can keep as evidence. Please send {_ACCEPTED_IN_WORDS}."
    )


def _damaged_message(subject: str, kind: _Kind) -> str:
    """Ask for a fresh copy in the way that fits the kind of file."""
    again = (
        "Could you save or print it again and send the new copy?"
        if kind is _PDF
        else "Could you export or record it again?"
        if kind in _VIDEOS
        else "Could you take the screenshot again?"
    )
    return f"{subject} seems to be damaged or incomplete, so I can't keep it as evidence. {again}"


def _too_many_pixels_message(subject: str, max_pixels: int) -> str:
    """Explain a picture too large to open safely without talking about decompression bombs."""
    if max_pixels >= 1_000_000:
        amount = f"{max_pixels / 1_000_000:.1f}".rstrip("0").rstrip(".") + " million"
    else:
        amount = f"{max_pixels:,}"
    return (
        f"{subject} is a picture so large (more than {amount} pixels) that I can't safely open"
        " it. Could you send an ordinary screenshot, or crop it to the part that matters?"
    )
