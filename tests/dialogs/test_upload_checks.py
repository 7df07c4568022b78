"""Upload checks against real files made here, and against files crafted to hurt or to deceive.

Every file is generated in the test so the suite shows exactly what is accepted and why, and the
fuzz tests hold the one promise callers rely on: a check either accepts or says why in plain words.
"""

from __future__ import annotations

import hashlib
import io
import struct
import threading
import warnings
import zlib
from typing import Any

import pillow_heif
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin
from pypdf import PdfWriter

from dialogs.services.errors import UploadRejected
from dialogs.services.evidence.upload_checks import CheckedUpload, UploadLimits, check_upload

LIMITS = UploadLimits(max_bytes=10 * 1024 * 1024, max_pixels=40_000_000)
DAMAGED = "seems to be damaged or incomplete"
TOO_LARGE = "that I can't safely open it"
FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _image(fmt: str, size: tuple[int, int] = (64, 48), **params: Any) -> bytes:
    picture = Image.new("RGB", size, (200, 40, 90))
    picture.paste((10, 120, 30), (0, 0, size[0] // 2, size[1] // 2))
    buffer = io.BytesIO()
    if fmt == "HEIC":
        # Saving through pillow_heif directly keeps the test from registering plugins itself.
        pillow_heif.from_pillow(picture).save(buffer, quality=50)
    else:
        picture.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _animated(fmt: str, size: tuple[int, int] = (30, 20)) -> bytes:
    frames = [Image.new("RGB", size, (index * 60, 20, 200 - index * 40)) for index in range(4)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format=fmt, save_all=True, append_images=frames[1:], duration=100)
    return buffer.getvalue()


def _pdf(pages: int = 1, *, password: str | None = None, algorithm: str = "RC4-128") -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if password is not None:
        writer.encrypt(user_password=password, owner_password="owner", algorithm=algorithm)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def _blank_bilevel_png(width: int, height: int) -> bytes:
    """A valid all-black 1-bit PNG: tiny on disk however many pixels it declares."""
    compressor = zlib.compressobj(9)
    row = b"\x00" + bytes((width + 7) // 8)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", body)
        + _png_chunk(b"IEND", b"")
    )


def _rejected(data: bytes, name: str = "evidence.png", limits: UploadLimits = LIMITS) -> str:
    with pytest.raises(UploadRejected) as caught:
        check_upload(data, original_name=name, limits=limits)
    return caught.value.message


PNG = _image("PNG")
JPEG = _image("JPEG", quality=85)


@pytest.mark.parametrize(
    ("data", "media_type", "extension", "size"),
    [
        pytest.param(PNG, "image/png", ".png", (64, 48), id="png"),
        pytest.param(JPEG, "image/jpeg", ".jpg", (64, 48), id="jpeg"),
        pytest.param(_image("GIF"), "image/gif", ".gif", (64, 48), id="gif"),
        pytest.param(_image("GIF", size=(7, 5)), "image/gif", ".gif", (7, 5), id="gif-tiny"),
        pytest.param(_image("WEBP", quality=80), "image/webp", ".webp", (64, 48), id="webp"),
        pytest.param(_image("HEIC"), "image/heic", ".heic", (64, 48), id="heic"),
        pytest.param(_animated("GIF"), "image/gif", ".gif", (30, 20), id="animated-gif"),
        pytest.param(_animated("WEBP"), "image/webp", ".webp", (30, 20), id="animated-webp"),
        pytest.param(_animated("PNG"), "image/png", ".png", (30, 20), id="apng"),
    ],
)
def test_accepts_real_pictures(
    data: bytes, media_type: str, extension: str, size: tuple[int, int]
) -> None:
    checked = check_upload(data, original_name="Screenshot 2024-05-01.png", limits=LIMITS)

    assert checked == CheckedUpload(
        media_type=media_type,
        extension=extension,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=size[0],
        height=size[1],
        pages=None,
    )


def test_accepts_a_real_pdf_and_counts_its_pages() -> None:
    data = _pdf(pages=3)

    checked = check_upload(data, original_name="chat log.pdf", limits=LIMITS)

    assert checked == CheckedUpload(
        media_type="application/pdf",
        extension=".pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=None,
        height=None,
        pages=3,
    )


def test_the_content_decides_the_type_not_the_name() -> None:
    checked = check_upload(JPEG, original_name="IMG_0001.PNG", limits=LIMITS)

    assert (checked.media_type, checked.extension) == ("image/jpeg", ".jpg")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(40), id="zip"),
        pytest.param(b"\x7fELF\x02\x01\x01\x00" + bytes(56), id="elf"),
        pytest.param(b"MZ\x90\x00\x03\x00\x00\x00" + bytes(56), id="exe"),
        pytest.param(b"<!DOCTYPE html><html><script>alert(1)</script></html>", id="html"),
        pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'/>", id="svg"),
    ],
)
def test_refuses_other_files_dressed_up_as_a_picture(data: bytes) -> None:
    message = _rejected(data, name="photo.png")

    assert "“photo.png”" in message
    assert "named like a PNG picture" in message
    assert "isn't really one" in message
    assert "PNG, JPEG, GIF, WebP" in message
    assert "PDF" in message


def test_refuses_a_file_dressed_up_as_a_pdf_naming_what_it_claims() -> None:
    message = _rejected(b"PK\x03\x04" + bytes(60), name="Report.PDF")

    assert "named like a PDF document" in message


def test_refuses_an_unknown_kind_listing_what_is_accepted() -> None:
    message = _rejected(b"just some notes\n", name="notes.txt")

    assert "isn't a kind of file I can keep" in message
    assert "PNG, JPEG, GIF, WebP, or HEIC" in message
    assert "named like" not in message


def test_refuses_avif_which_only_looks_like_heif() -> None:
    avif = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + bytes(64)

    assert "isn't a kind of file" in _rejected(avif, name="photo.avif")


def test_refuses_an_empty_file() -> None:
    message = _rejected(b"", name="screenshot.png")

    assert message.startswith("The file “screenshot.png” is empty")


def test_refuses_a_file_over_the_size_limit_saying_the_limit_in_megabytes() -> None:
    data = b"\x89PNG\r\n\x1a\n" + bytes(10 * 1024 * 1024)

    message = _rejected(data, name="huge.png")

    assert "“huge.png”" in message
    assert "is 10.1 MB, which is more than the 10 MB" in message
    assert "bytes" not in message


def test_the_size_limit_is_inclusive() -> None:
    at_limit = UploadLimits(max_bytes=len(PNG), max_pixels=LIMITS.max_pixels)
    below = UploadLimits(max_bytes=len(PNG) - 1, max_pixels=LIMITS.max_pixels)

    assert check_upload(PNG, original_name="a.png", limits=at_limit).size == len(PNG)
    assert "MB" in _rejected(PNG, limits=below)


@pytest.mark.parametrize(
    ("width", "height", "max_pixels"),
    [
        pytest.param(10_000, 10_000, 40_000_000, id="beyond-pillow-warning-limit"),
        pytest.param(3_000, 3_000, 1_000_000, id="below-pillow-limit"),
    ],
)
def test_refuses_a_decompression_bomb_without_decoding_it(
    monkeypatch: pytest.MonkeyPatch, width: int, height: int, max_pixels: int
) -> None:
    bomb = _blank_bilevel_png(width, height)
    assert len(bomb) < 100_000
    decoded: list[object] = []

    def refuse_to_decode(image: object, read_bytes: int) -> bytes:
        decoded.append(image)
        raise AssertionError("pixel data must not be read")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load_read", refuse_to_decode)
    pillow_limit = Image.MAX_IMAGE_PIXELS
    filters_before = list(warnings.filters)

    message = _rejected(bomb, name="bomb.png", limits=UploadLimits(len(bomb), max_pixels))

    assert TOO_LARGE in message
    assert "“bomb.png”" in message
    assert decoded == []
    assert pillow_limit == Image.MAX_IMAGE_PIXELS
    assert warnings.filters == filters_before


def test_the_pixel_limit_is_stated_in_plain_numbers() -> None:
    limits = UploadLimits(max_bytes=LIMITS.max_bytes, max_pixels=2_500_000)

    message = _rejected(_blank_bilevel_png(2000, 2000), limits=limits)

    assert "more than 2.5 million pixels" in message


@pytest.mark.parametrize("side", [40, 100], ids=["pillow-warns", "pillow-refuses"])
def test_pillows_own_bomb_guard_refuses_even_where_warnings_are_ignored(
    monkeypatch: pytest.MonkeyPatch, side: int
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    data = _image("PNG", size=(side, side))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        message = _rejected(data, limits=LIMITS)

    assert TOO_LARGE in message


def test_refuses_a_gif_whose_later_frame_is_huge() -> None:
    animation = bytearray(_animated("GIF", size=(20, 20)))
    control = b"\x21\xf9\x04"
    second = animation.index(control, animation.index(control) + 1) + 8
    assert animation[second] == 0x2C
    struct.pack_into("<HH", animation, second + 1, 3000, 3000)
    limits = UploadLimits(max_bytes=LIMITS.max_bytes, max_pixels=1_000_000)
    with Image.open(io.BytesIO(animation)) as opened:
        assert opened.size == (20, 20)  # the header alone hides the problem

    assert check_upload(_animated("GIF", size=(20, 20)), original_name="a.gif", limits=limits)
    assert TOO_LARGE in _rejected(bytes(animation), name="a.gif", limits=limits)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP", "HEIC"])
def test_refuses_a_truncated_picture_without_showing_the_library_error(fmt: str) -> None:
    data = _image(fmt, size=(120, 90))

    with pytest.raises(UploadRejected) as caught:
        check_upload(data[: len(data) // 2], original_name="cut.img", limits=LIMITS)

    message = caught.value.message
    assert DAMAGED in message
    assert "screenshot again" in message
    assert caught.value.__cause__ is not None
    assert str(caught.value.__cause__) not in message


def test_refuses_a_png_whose_picture_data_is_garbage() -> None:
    start = PNG.index(b"IDAT") + 4
    length = struct.unpack(">I", PNG[start - 8 : start - 4])[0]
    garbage = bytes((index * 37 + 11) % 256 for index in range(length))
    corrupt = PNG[:start] + garbage + PNG[start + length :]

    assert DAMAGED in _rejected(corrupt)


def test_refuses_a_jpeg_cut_off_after_its_header() -> None:
    start_of_scan = JPEG.index(b"\xff\xda")

    assert DAMAGED in _rejected(JPEG[: start_of_scan + 20], name="photo.jpg")


def test_a_heic_header_with_nothing_behind_it_is_damaged_not_unknown() -> None:
    header = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(100)

    assert DAMAGED in _rejected(header, name="IMG_1234.HEIC")


@pytest.mark.parametrize(
    ("password", "algorithm"),
    [
        pytest.param("secret", "RC4-128", id="rc4-user-password"),
        pytest.param("", "AES-256", id="aes-owner-password-only"),
    ],
)
def test_refuses_a_password_protected_pdf(password: str, algorithm: str) -> None:
    message = _rejected(_pdf(password=password, algorithm=algorithm), name="locked.pdf")

    assert "password-protected" in message
    assert "“locked.pdf”" in message


def test_refuses_a_pdf_with_garbage_after_its_header() -> None:
    garbage = b"%PDF-1.7\n" + bytes((index * 91 + 7) % 256 for index in range(4000))

    message = _rejected(garbage, name="report.pdf")

    assert DAMAGED in message
    assert "save or print it again" in message


def test_refuses_a_truncated_pdf() -> None:
    data = _pdf(pages=2)

    assert DAMAGED in _rejected(data[: len(data) // 2], name="report.pdf")


def test_refuses_a_pdf_without_pages() -> None:
    assert "no pages" in _rejected(_pdf(pages=0), name="empty.pdf")


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        pytest.param("C:\\Users\\head\\Desktop\\chat.png", "“chat.png”", id="windows-path"),
        pytest.param("../../etc/chat.png", "“chat.png”", id="posix-path"),
        pytest.param("bad\nname\x00\x1b[31m.png", "“bad name[31m.png”", id="control"),
        pytest.param("photo\u202egnp.exe", "“photognp.exe”", id="right-to-left-override"),
        pytest.param("", "The file isn't", id="no-name"),
        pytest.param("\x07\x08", "The file isn't", id="only-control"),
    ],
)
def test_names_the_file_safely(name: str, shown: str) -> None:
    assert shown in _rejected(b"not a picture", name=name)


def test_a_long_name_is_shortened() -> None:
    message = _rejected(b"not a picture", name="x" * 500 + ".png")

    quoted = message[message.index("“") + 1 : message.index("”")]
    assert len(quoted) == 80
    assert quoted.endswith("…")


def test_concurrent_checks_leave_the_warning_filters_as_they_were() -> None:
    samples = [PNG, JPEG, _image("GIF"), _image("WEBP"), _image("HEIC"), _blank_bilevel_png(9, 9)]
    filters_before = list(warnings.filters)
    failures: list[BaseException] = []

    def check_all() -> None:
        try:
            for _ in range(20):
                for sample in samples:
                    check_upload(sample, original_name="a.png", limits=LIMITS)
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=check_all) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert warnings.filters == filters_before


def _accepts_or_explains(data: bytes, limits: UploadLimits = LIMITS) -> None:
    try:
        checked = check_upload(data, original_name="fuzz.png", limits=limits)
    except UploadRejected as exc:
        message = exc.message
    else:
        assert checked.size == len(data)
        assert checked.sha256 == hashlib.sha256(data).hexdigest()
        return
    assert message.startswith("The file “fuzz.png”")
    assert "Error" not in message


SIGNATURES = [
    b"",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF89a",
    b"RIFF\x00\x01\x00\x00WEBPVP8 ",
    b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
    b"%PDF-1.7\n",
]
SMALL_LIMITS = UploadLimits(max_bytes=64 * 1024, max_pixels=1_000_000)


@FUZZ
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_are_accepted_or_explained(data: bytes) -> None:
    _accepts_or_explains(data)


@FUZZ
@given(st.text(max_size=300))
def test_any_name_is_shown_safely(name: str) -> None:
    message = _rejected(b"not a picture", name=name)

    assert message.startswith("The file")
    assert all(char == " " or char.isprintable() for char in message)
    assert len(message) < 400


@FUZZ
@given(st.sampled_from(SIGNATURES), st.binary(max_size=2048))
def test_arbitrary_bytes_behind_a_real_signature_are_accepted_or_explained(
    signature: bytes, tail: bytes
) -> None:
    _accepts_or_explains(signature + tail, SMALL_LIMITS)


def _mutations(valid: bytes) -> st.SearchStrategy[bytes]:
    def mutate(edits: list[tuple[int, int]], cut: int) -> bytes:
        mutated = bytearray(valid)
        for index, value in edits:
            mutated[index % len(mutated)] = value
        return bytes(mutated[: max(0, len(mutated) - cut)])

    positions = st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255))
    return st.builds(
        mutate,
        st.lists(positions, max_size=8),
        st.integers(min_value=0, max_value=len(valid)) | st.just(0),
    )


MUTATED_SOURCES = [
    _animated("GIF", size=(12, 8)),
    _image("JPEG", size=(24, 16)),
    _image("WEBP", size=(24, 16)),
    _pdf(),
]


@FUZZ
@given(_mutations(_image("PNG", size=(24, 16))))
def test_mutated_pngs_are_accepted_or_explained(data: bytes) -> None:
    _accepts_or_explains(data, SMALL_LIMITS)


@FUZZ
@given(st.sampled_from(MUTATED_SOURCES).flatmap(_mutations))
def test_other_mutated_files_are_accepted_or_explained(data: bytes) -> None:
    _accepts_or_explains(data, SMALL_LIMITS)


# -- videos (for posts, or a screen recording as evidence) -------------------------------------


def _box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _video(brand: bytes = b"isom", *, media: bytes = b"\x00" * 64) -> bytes:
    ftyp = _box(b"ftyp", brand + b"\x00\x00\x02\x00" + brand + b"mp41")
    return ftyp + _box(b"moov", _box(b"mvhd", b"\x00" * 100)) + _box(b"mdat", media)


VIDEO_LIMITS = UploadLimits(max_bytes=1024, max_pixels=40_000_000, max_video_bytes=4096)


@pytest.mark.parametrize(
    ("brand", "media_type", "extension"),
    [
        (b"isom", "video/mp4", ".mp4"),
        (b"mp42", "video/mp4", ".mp4"),
        (b"qt  ", "video/quicktime", ".mov"),
    ],
)
def test_accepts_a_well_formed_video_by_its_content(
    brand: bytes, media_type: str, extension: str
) -> None:
    data = _video(brand)
    checked = check_upload(data, original_name="assembly clip", limits=LIMITS)
    assert (checked.media_type, checked.extension) == (media_type, extension)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    "data",
    [
        _video()[:-10],  # cut off inside the media
        _box(b"ftyp", b"isom\x00\x00\x02\x00") + _box(b"mdat", b"\x00" * 10),  # no index
        _box(b"ftyp", b"isom\x00\x00\x02\x00") + _box(b"moov"),  # no media
        _box(b"ftyp", b"isom\x00\x00\x02\x00") + struct.pack(">I4s", 4, b"moov"),  # box too small
    ],
)
def test_refuses_a_damaged_video(data: bytes) -> None:
    with pytest.raises(UploadRejected, match="damaged or incomplete"):
        check_upload(data, original_name="clip.mp4", limits=LIMITS)


def test_videos_have_their_own_size_limit_and_pictures_keep_theirs() -> None:
    video = _video(media=b"\x00" * 2000)
    assert check_upload(video, original_name="clip.mp4", limits=VIDEO_LIMITS).size == len(video)
    with pytest.raises(UploadRejected, match="a shorter clip"):
        check_upload(_video(media=b"\x00" * 5000), original_name="clip.mp4", limits=VIDEO_LIMITS)
    with pytest.raises(UploadRejected, match="smaller screenshot"):
        check_upload(b"%PDF-" + b"\x00" * 2000, original_name="a.pdf", limits=VIDEO_LIMITS)
    with pytest.raises(UploadRejected, match="a shorter clip"):
        # A size the platform declared counts even when only part of the file arrived.
        check_upload(video[:200], original_name="clip.mp4", limits=VIDEO_LIMITS, declared_size=9000)
