"""decode_image on real photos in every accepted format, every EXIF orientation and colour mode,
and on files that must be refused (empty, not images, unsupported, truncated, bombs)."""
from __future__ import annotations

import io
from contextlib import nullcontext

import numpy as np
import pytest
from PIL import Image

from catmodel.inference import (
    InvalidImage,
    TooManyPixels,
    UnsupportedFormat,
    decode_image,
)
from catmodel.inference.downscale import to_rgb
from testsupport import images


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.float32)


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(pixels(a) - pixels(b)).mean())


@pytest.fixture(scope="module")
def cat():
    return images.chelsea()


@pytest.fixture(scope="module")
def photo_12mp(cat):
    return images.jpeg(cat, size=(4000, 3000))


# --- formats -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "format, options, tolerance",
    [
        ("JPEG", {"quality": 95}, 3.0),
        ("PNG", {}, 0.0),
        ("WEBP", {"lossless": True}, 0.0),
        ("WEBP", {"quality": 90}, 4.0),
        ("GIF", {}, 12.0),  # 256 colours
    ],
)
def test_each_accepted_format_decodes_to_the_same_rgb_photo(cat, format, options, tolerance):
    decoded = decode_image(images.encode(cat, format, **options))
    assert decoded.mode == "RGB"
    assert decoded.size == cat.size
    assert mean_difference(decoded, cat) <= tolerance


def test_accepts_a_binary_file_object_as_well_as_bytes(cat, tmp_path):
    path = tmp_path / "cat.png"
    cat.save(path)
    with path.open("rb") as upload:
        upload.read(10)  # an upload handler may have read part of it already
        decoded = decode_image(upload)
    assert decoded.size == cat.size and mean_difference(decoded, cat) == 0


@pytest.mark.parametrize("format", ["BMP", "TIFF"])
def test_formats_no_phone_writes_are_refused_before_their_decoder_runs(cat, format):
    # BMP (RLE) and TIFF (libtiff: many compressions, tiles, sample formats) only add attack
    # surface: a valid file is refused by name, with the formats we take.
    with pytest.raises(UnsupportedFormat) as raised:
        decode_image(images.encode(cat, format))
    assert raised.value.message.startswith(format)
    assert "JPEG, PNG, WebP, GIF." in raised.value.message


def test_animated_png_gives_its_first_frame():
    frames = [Image.new("RGB", (20, 10), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    data = images.encode(frames[0], "PNG", save_all=True, append_images=frames[1:])
    assert decode_image(data).getpixel((1, 1)) == (255, 0, 0)


def test_animated_gif_gives_its_first_frame():
    decoded = decode_image(images.animated_gif([(255, 0, 0), (0, 0, 255), (0, 255, 0)]))
    assert decoded.getpixel((10, 10)) == (255, 0, 0)


class ReadCounter(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_huge_animated_gif_reads_only_the_first_frame():
    data = images.noisy_animated_gif((0, 200, 0), frames=300)
    assert len(data) > 3_000_000
    upload = ReadCounter(data)
    decoded = decode_image(upload)
    assert decoded.getpixel((5, 5)) == (0, 200, 0)
    # Decoding frame after frame would read the whole file.
    assert upload.bytes_read < len(data) / 20


# --- JPEG draft mode -----------------------------------------------------------------------


def test_draft_mode_decodes_a_12mp_jpeg_at_reduced_scale(photo_12mp):
    full = decode_image(photo_12mp)
    assert full.size == (4000, 3000)
    small = decode_image(photo_12mp, min_side=256)
    # 1/8 scale is the coarsest that keeps the shorter side at least 256 (3000 / 8 = 375).
    assert small.size == (500, 375)
    assert mean_difference(small, full.resize(small.size, Image.Resampling.BOX)) < 3.0


@pytest.mark.parametrize("min_side, scale", [(224, 8), (400, 4), (1000, 2), (2000, 1)])
def test_draft_scale_never_goes_below_the_requested_side(photo_12mp, min_side, scale):
    decoded = decode_image(photo_12mp, min_side=min_side)
    assert decoded.size == (4000 // scale, 3000 // scale)
    assert min(decoded.size) >= min_side


# --- EXIF orientation ----------------------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_so_the_photo_is_upright(cat, orientation):
    decoded = decode_image(images.jpeg_with_orientation(cat, orientation))
    assert decoded.size == cat.size
    upright = mean_difference(decoded, cat)
    assert upright < 3.0
    # The check has teeth: the same photo mirrored or upside down is far from the original.
    for wrong in (Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.FLIP_TOP_BOTTOM):
        assert mean_difference(decoded.transpose(wrong), cat) > 5 * upright + 10


def test_exif_orientation_applies_after_draft_mode(cat):
    big = cat.resize((2400, 1600))
    data = images.jpeg_with_orientation(big, 6)  # stored as 1600 x 2400
    decoded = decode_image(data, min_side=256)
    assert decoded.size == (600, 400)  # drafted at 1/4, then turned upright
    assert mean_difference(decoded, cat.resize((600, 400))) < 4.0


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
@pytest.mark.parametrize("exif", [
    b"Exif\x00\x00not a TIFF structure at all",
    b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff",  # claims 65535 entries, has none
])
def test_a_corrupt_exif_block_does_not_cost_the_photo(cat, exif):
    decoded = decode_image(images.encode(cat, "JPEG", quality=95, exif=exif))
    assert decoded.size == cat.size and mean_difference(decoded, cat) < 3.0


def stored_for_6(cat: Image.Image) -> Image.Image:
    return cat.transpose(images.STORED_FOR_ORIENTATION[6])


def with_exif(format: str, stored: Image.Image, exif: bytes) -> bytes:
    """``stored`` in ``format`` with ``exif`` where that format keeps it."""
    if format == "JPEG":  # APP1 segments (several when over 64 KB)
        return images.jpeg_with_exif(images.jpeg(stored, quality=95), exif)
    if format == "PNG text":
        return images.png_with_raw_exif_profile(stored, exif)
    return images.encode(stored, format, exif=exif)  # PNG eXIf, WebP EXIF chunk


EXIF_CARRIERS = ["JPEG", "PNG", "PNG text", "WEBP"]


@pytest.mark.parametrize("format", EXIF_CARRIERS)
def test_a_small_exif_orientation_is_applied_in_every_format_that_carries_it(cat, format):
    decoded = decode_image(with_exif(format, stored_for_6(cat), images.exif_block(6)))
    assert decoded.size == cat.size and mean_difference(decoded, cat) < 4.0


@pytest.mark.parametrize("format", ["JPEG", "PNG", "WEBP"])
def test_a_photo_with_exif_over_64_kb_is_refused_before_pillow_reads_it(cat, format):
    # A valid orientation, in a block bigger than any camera writes (one APP1 segment).
    data = with_exif(format, stored_for_6(cat), images.exif_block(6, padding=70_000))
    with pytest.raises(InvalidImage) as raised:
        decode_image(data)
    assert raised.value.status == 400
    assert "metadata (EXIF) is larger than the 64 KB" in raised.value.message
    # Within the limit, the same photo is turned upright.
    small = with_exif(format, stored_for_6(cat), images.exif_block(6, padding=60_000))
    assert decode_image(small).size == cat.size


def test_a_compressed_exif_profile_over_64_kb_is_ignored_and_the_photo_kept_as_stored(cat):
    # Small in the file (compressed), over 64 KB once Pillow has inflated it (at most 1 MB).
    stored = stored_for_6(cat)
    data = with_exif("PNG text", stored, images.exif_block(6, padding=70_000))
    assert len(data) < len(images.encode(stored, "PNG")) + 10_000
    decoded = decode_image(data)
    assert decoded.size == stored.size and mean_difference(decoded, stored) < 4.0
    assert "Raw profile type exif" not in decoded.info  # nothing later parses it


@pytest.mark.filterwarnings("ignore:Metadata Warning")
@pytest.mark.parametrize("kind, count", [
    (images.EXIF_SHORT, 2),  # Pillow reads the first of the two
    (images.EXIF_SHORT, 30_000),  # within 64 KB
    (images.EXIF_ASCII, 2),  # "6\0": Pillow returns the string
])
def test_the_orientation_is_read_only_from_an_entry_with_one_value(cat, kind, count):
    stored = stored_for_6(cat)
    data = with_exif("JPEG", stored, images.exif_block(6, kind=kind, count=count))
    decoded = decode_image(data)
    assert decoded.size == stored.size and mean_difference(decoded, stored) < 4.0


# --- colour modes --------------------------------------------------------------------------


def test_cmyk_jpeg_becomes_the_same_rgb(cat):
    decoded = decode_image(images.cmyk_jpeg(cat))
    assert decoded.mode == "RGB"
    assert mean_difference(decoded, cat) < 4.0


def test_cmyk_jpeg_decodes_in_draft_mode_too(cat):
    decoded = decode_image(images.cmyk_jpeg(cat.resize((2400, 1600))), min_side=256)
    assert decoded.size == (600, 400) and decoded.mode == "RGB"
    assert mean_difference(decoded, cat.resize((600, 400))) < 4.0


@pytest.mark.parametrize("format", ["PNG", "GIF"])
def test_transparent_palette_pixels_become_white(format):
    decoded = decode_image(images.palette_with_transparency(format))
    assert decoded.getpixel((5, 5)) == (255, 255, 255)  # black in the palette, but transparent
    assert decoded.getpixel((50, 5)) == (255, 0, 0)


def test_rgba_is_composited_onto_white():
    decoded = decode_image(images.rgba_bands())
    assert decoded.getpixel((10, 10)) == (255, 255, 255)
    assert decoded.getpixel((70, 10)) == (255, 0, 0)
    red, green, blue = decoded.getpixel((40, 10))  # blue at half opacity over white
    assert abs(red - 127) <= 1 and abs(green - 127) <= 1 and blue == 255


def test_greyscale_with_alpha_is_composited_onto_white():
    decoded = decode_image(images.la_bands())
    assert decoded.getpixel((10, 10)) == (255, 255, 255)
    assert decoded.getpixel((40, 10)) == (0, 0, 0)


def test_16_bit_greyscale_is_scaled_to_8_bits_not_clipped():
    values = [0, 257 * 100, 32768, 65535]
    decoded = decode_image(images.grey16_png(values))
    seen = [decoded.getpixel((8 * i + 2, 2)) for i in range(len(values))]
    assert seen == [(0, 0, 0), (100, 100, 100), (128, 128, 128), (255, 255, 255)]


def test_bilevel_image_becomes_black_and_white_rgb(cat):
    decoded = decode_image(images.bilevel_png(cat))
    assert decoded.mode == "RGB" and decoded.size == cat.size
    values = np.unique(pixels(decoded))
    assert set(values) == {0.0, 255.0}


def test_greyscale_jpeg_becomes_rgb_with_equal_channels(cat):
    decoded = decode_image(images.encode(cat.convert("L"), "JPEG"))
    r, g, b = (pixels(decoded)[..., i] for i in range(3))
    assert decoded.mode == "RGB" and np.array_equal(r, g) and np.array_equal(g, b)


def test_float_image_on_a_0_to_1_scale_is_stretched_to_8_bits():
    # No accepted format holds float samples any more; to_rgb still handles them (the decoder
    # converts after reducing, whatever the mode).
    ramp = np.linspace(0.0, 1.0, 11, dtype=np.float32)[np.newaxis].repeat(4, 0)
    converted = to_rgb(Image.fromarray(ramp))
    assert [converted.getpixel((i, 0))[0] for i in (0, 5, 10)] == [0, 128, 255]


# --- refused files -------------------------------------------------------------------------


def test_empty_file_is_an_invalid_image():
    with pytest.raises(InvalidImage) as raised:
        decode_image(b"")
    assert raised.value.status == 400 and raised.value.code == "invalid_image"
    assert "empty" in raised.value.message


def test_text_named_jpg_is_an_invalid_image():
    with pytest.raises(InvalidImage, match="not an image"):
        decode_image(images.TEXT)


@pytest.mark.parametrize("format", ["JPEG", "PNG", "WEBP", "GIF"])
def test_truncated_files_are_invalid_images(cat, format):
    data = images.encode(cat, format)
    with pytest.raises(InvalidImage) as raised:
        decode_image(images.truncated(data, 0.6))
    assert raised.value.status == 400


def test_corrupt_jpeg_data_is_an_invalid_image(cat):
    data = bytearray(images.jpeg(cat))
    data[600:4000] = b"\xff" * 3400  # markers where the entropy-coded data should be
    with pytest.raises(InvalidImage):
        decode_image(bytes(data))


@pytest.mark.parametrize(
    "data, named",
    [
        (images.PDF_HEAD, "PDF"),
        (images.SVG_TEXT, "SVG"),
        (b"8BPS\x00\x01" + bytes(40), "PSD"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIC"),
    ],
)
def test_known_unsupported_formats_are_named(data, named):
    with pytest.raises(UnsupportedFormat) as raised:
        decode_image(data)
    error = raised.value
    assert error.status == 415 and error.code == "unsupported_format"
    assert error.message.startswith(named)
    assert "JPEG, PNG, WebP, GIF." in error.message


@pytest.mark.parametrize("format", ["ICO", "JPEG2000", "PPM"])
def test_real_images_in_formats_we_do_not_decode_are_unsupported(cat, format):
    with pytest.raises(UnsupportedFormat, match=format):
        decode_image(images.encode(cat, format))


def test_decompression_bomb_is_refused_from_its_header():
    bomb = images.png_declaring(100_000, 100_000)  # 10 gigapixels, one pixel of data
    with pytest.raises(TooManyPixels) as raised:
        decode_image(bomb)
    assert raised.value.status == 413 and raised.value.code == "too_many_pixels"


@pytest.mark.parametrize("width, height", [(8000, 7000), (10_000, 10_000)])
def test_images_over_our_limit_are_refused_before_decoding(width, height):
    # 56 MP is under Pillow's own guard; 100 MP earns only Pillow's warning. Both headers carry a
    # single pixel of data: had decoding started, the error would be "truncated" instead.
    pillow_warns = width * height > Image.MAX_IMAGE_PIXELS
    with pytest.warns(Image.DecompressionBombWarning) if pillow_warns else nullcontext():
        with pytest.raises(TooManyPixels, match=f"{width} x {height} pixels"):
            decode_image(images.png_declaring(width, height))


def test_pixel_limit_is_a_parameter(cat):
    assert decode_image(images.encode(cat, "PNG"), max_pixels=451 * 300).size == cat.size
    with pytest.raises(TooManyPixels):
        decode_image(images.encode(cat, "PNG"), max_pixels=451 * 300 - 1)


def test_the_limit_is_checked_on_the_declared_size_not_the_draft_size(photo_12mp):
    with pytest.raises(TooManyPixels):
        decode_image(photo_12mp, min_side=256, max_pixels=11_000_000)


def test_decoding_does_not_switch_on_loading_truncated_images():
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False

