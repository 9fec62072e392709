"""Decoding within a memory budget, in process: images are reduced before they are converted
(and still look right), formats without DCT scaling meet a lower cap, the gate lets few large
decodes run at once, and baseline JPEGs, EXIF thumbnails and MPOs are told from the costly ones.
(test_decode_memory.py measures the memory itself, in a subprocess.)"""
from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest
from PIL import Image

from catmodel.inference import DecodeGate, DecoderBusy, TooManyPixels, decode_image
from catmodel.inference.decode_memory import SMALL_DECODE_BYTES
from catmodel.inference.downscale import reduce_factor
from catmodel.inference.jpeg_structure import jpeg_layout
from testsupport import images


def scaled(data: bytes, factor: int) -> bytes:
    """The same picture ``factor`` times bigger, in the same format and mode."""
    image = Image.open(io.BytesIO(data))
    options = {"transparency": image.info["transparency"]} if "transparency" in image.info else {}
    big = image.resize((image.width * factor, image.height * factor), Image.Resampling.NEAREST)
    return images.encode(big, image.format, **options)


# --- reduced first, converted after, and still right ----------------------------------------


def test_the_reduction_keeps_the_shorter_side_at_least_what_the_model_needs():
    assert reduce_factor((7071, 7071), 256) == 27  # 262 x 262
    assert reduce_factor((4000, 300), 256) == 1
    assert reduce_factor((300, 4000), None) == 1


def test_a_large_rgba_png_is_reduced_then_composited_on_white():
    decoded = decode_image(scaled(images.rgba_bands(), 20), min_side=30)  # 1800 x 600 -> 1/20
    assert decoded.size == (90, 30) and decoded.mode == "RGB"
    assert decoded.getpixel((10, 10)) == (255, 255, 255)
    assert decoded.getpixel((70, 10)) == (255, 0, 0)
    # Reduction weights colours by their alpha (premultiplied), or the transparent black would
    # bleed into the blue band: half-opaque blue on white stays (127, 127, 255).
    red, green, blue = decoded.getpixel((45, 15))
    assert abs(red - 127) <= 1 and abs(green - 127) <= 1 and blue == 255


def test_a_large_greyscale_alpha_png_is_reduced_then_composited():
    decoded = decode_image(scaled(images.la_bands(), 20), min_side=30)
    assert decoded.size == (60, 30)
    assert decoded.getpixel((10, 10)) == (255, 255, 255)
    assert decoded.getpixel((45, 10)) == (0, 0, 0)


@pytest.mark.parametrize("format", ["PNG", "GIF"])
def test_a_large_palette_image_keeps_its_transparency_through_the_reduction(format):
    decoded = decode_image(scaled(images.palette_with_transparency(format), 20), min_side=32)
    assert decoded.size == (64, 32)
    assert decoded.getpixel((5, 5)) == (255, 255, 255)
    assert decoded.getpixel((50, 5)) == (255, 0, 0)


def test_a_large_16_bit_png_is_reduced_then_scaled_to_8_bits():
    values = [0, 257 * 100, 32768, 65535]
    data = images.grey16_png(values, height=400, width_each=400)  # 1600 x 400
    decoded = decode_image(data, min_side=50)
    assert decoded.size == (200, 50)  # 1/8
    seen = [decoded.getpixel((50 * i + 25, 25)) for i in range(len(values))]
    assert seen == [(0, 0, 0), (100, 100, 100), (128, 128, 128), (255, 255, 255)]


def test_a_reduced_photo_matches_the_full_decode_resized():
    cat = images.chelsea().resize((1804, 1200))
    reduced = decode_image(images.encode(cat, "PNG"), min_side=300)
    assert reduced.size == (451, 300)
    reference = np.asarray(cat.resize(reduced.size, Image.Resampling.BOX), dtype=np.float32)
    assert np.abs(np.asarray(reduced, dtype=np.float32) - reference).mean() < 1.0


def test_exif_orientation_is_applied_to_the_reduced_image():
    cat = images.chelsea().resize((900, 600))
    exif = Image.Exif()
    exif[images.EXIF_ORIENTATION_TAG] = 6
    data = images.encode(cat.transpose(images.STORED_FOR_ORIENTATION[6]), "PNG", exif=exif)
    decoded = decode_image(data, min_side=150)
    assert decoded.size == (225, 150)  # stored 600 x 900, reduced 1/4, then turned upright
    reference = np.asarray(cat.resize((225, 150), Image.Resampling.BOX), dtype=np.float32)
    assert np.abs(np.asarray(decoded, dtype=np.float32) - reference).mean() < 3.0


# --- the lower cap for images that cannot be decoded smaller ---------------------------------


def test_a_png_over_the_memory_budget_is_refused_before_decoding():
    data = images.png_declaring(1200, 1200)  # greyscale, one pixel of data: had decoding
    # started, the error would be "truncated"
    with pytest.raises(TooManyPixels) as raised:
        decode_image(data, min_side=64, max_decode_bytes=1_000_000)
    error = raised.value
    assert error.status == 413 and error.kind == "PNG"
    assert "1200 x 1200 pixels, more than the 1 megapixels accepted for PNG images" in error.message
    assert "or a JPEG" in error.message


def test_a_baseline_jpeg_of_the_same_size_is_decoded_small_within_that_budget():
    data = images.jpeg(images.chelsea(), size=(1200, 1200))
    decoded = decode_image(data, min_side=150, max_decode_bytes=1_000_000)
    assert decoded.size == (150, 150)  # decoded at 1/8


def test_a_progressive_jpeg_pays_for_its_full_size_coefficients():
    data = images.encode(images.chelsea().resize((1200, 1200)), "JPEG", progressive=True)
    with pytest.raises(TooManyPixels, match="accepted for JPEG images"):
        decode_image(data, min_side=150, max_decode_bytes=1_000_000)
    assert decode_image(data, min_side=150, max_decode_bytes=8_000_000).size == (150, 150)


def test_webp_costs_more_per_pixel_than_png():
    cat = images.chelsea().resize((600, 600))
    budget = 600 * 600 * 8  # twice what a PNG needs, half of what libwebp takes
    assert decode_image(images.encode(cat, "PNG"), max_decode_bytes=budget).size == (600, 600)
    with pytest.raises(TooManyPixels, match="accepted for WebP images"):
        decode_image(images.encode(cat, "WEBP"), max_decode_bytes=budget)


# --- reading a JPEG's frame and scans --------------------------------------------------------


def with_app1(jpeg: bytes, payload: bytes) -> bytes:
    segment = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    return jpeg[:2] + segment + jpeg[2:]


def with_comment_before_second_scan(jpeg: bytes, text: bytes) -> bytes:
    first = jpeg.index(b"\xff\xda")
    second = jpeg.index(b"\xff\xda", first + 2)
    segment = b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text
    return jpeg[:second] + segment + jpeg[second:]


def layout(data: bytes):
    return jpeg_layout(io.BytesIO(data))


def test_scans_are_counted_in_the_main_image_only():
    cat = images.chelsea()
    baseline = images.jpeg(cat)
    assert layout(baseline).scans == 1 and not layout(baseline).multi_scan
    assert layout(images.encode(cat, "JPEG", progressive=True)).scans > 1
    # An EXIF block carrying a whole JPEG thumbnail (scans of its own) is skipped by length.
    thumbnail = images.jpeg(cat.resize((160, 120)))
    assert layout(with_app1(baseline, b"Exif\x00\x00" + thumbnail)).scans == 1
    # An MPO's second picture comes after the first one's end-of-image.
    mpo = images.encode(cat, "MPO", save_all=True, append_images=[cat])
    assert layout(mpo).scans == 1


def test_an_end_marker_in_a_comment_between_scans_ends_nothing():
    progressive = images.encode(images.chelsea(), "JPEG", progressive=True)
    hostile = with_comment_before_second_scan(progressive, b"\xff\xd9 the end?")
    assert layout(hostile).scans == layout(progressive).scans > 1
    assert layout(hostile).multi_scan


def test_a_progressive_frame_is_multi_scan_whatever_its_scans():
    # Only the first scan, then the end: still a progressive frame, which libjpeg decodes
    # through its full-size coefficient buffer.
    progressive = images.encode(images.chelsea(), "JPEG", progressive=True)
    first = progressive.index(b"\xff\xda")
    second = progressive.index(b"\xff\xda", first + 2)
    one_scan = progressive[:second] + b"\xff\xd9"
    assert layout(one_scan).scans == 1 and layout(one_scan).frame == 0xC2
    assert layout(one_scan).multi_scan


def test_a_baseline_frame_whose_first_scan_holds_one_component_is_multi_scan():
    baseline = images.jpeg(images.chelsea())
    start = baseline.index(b"\xff\xda")
    assert baseline[start + 4] == 3  # the interleaved scan: Y, Cb and Cr
    # The same scan header naming only Y: a non-interleaved frame, component by component.
    non_interleaved = (baseline[:start] + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
                       + baseline[start + 2 + int.from_bytes(baseline[start + 2:start + 4],
                                                            "big"):])
    assert layout(non_interleaved).first_scan_components == 1
    assert layout(non_interleaved).components == 3
    assert layout(non_interleaved).multi_scan


def test_markers_in_entropy_coded_data_are_read_as_t81_says():
    # Stuffed zeros, restart markers and fill bytes are data; only a real marker ends a scan.
    baseline = images.jpeg(images.chelsea())
    start = baseline.index(b"\xff\xda")
    through_scan_header = baseline[:start + 2 + int.from_bytes(baseline[start + 2:start + 4],
                                                                "big")]
    data = b"\x12\xff\x00\x34\xff\xd0\x56\xff\xff"  # ends in fill bytes before a marker
    luma_scan = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00\x00\x00"
    assert layout(through_scan_header + data + luma_scan + b"\xff\xd9").scans == 2
    assert layout(through_scan_header + data + b"\xff\xd9" + luma_scan).scans == 1


def test_reading_the_layout_puts_the_stream_back():
    stream = io.BytesIO(images.jpeg(images.chelsea()))
    stream.seek(7)
    jpeg_layout(stream)
    assert stream.tell() == 7


def test_a_progressive_jpeg_with_an_end_marker_in_a_comment_pays_for_its_coefficients():
    progressive = images.encode(images.chelsea().resize((1200, 1200)), "JPEG", progressive=True)
    hostile = with_comment_before_second_scan(progressive, b"\xff\xd9")
    with pytest.raises(TooManyPixels, match="accepted for JPEG images"):
        decode_image(hostile, min_side=150, max_decode_bytes=1_000_000)
    assert decode_image(hostile, min_side=150, max_decode_bytes=8_000_000).size == (150, 150)


# --- the gate ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def large_png() -> bytes:
    """A PNG whose decode costs more than SMALL_DECODE_BYTES (so it needs a slot)."""
    side = 2800
    assert side * side * 4 > SMALL_DECODE_BYTES
    return images.encode(Image.new("RGB", (side, side), (200, 120, 40)), "PNG")


def test_a_large_decode_waits_for_a_slot_then_gets_busy_with_retry_after(large_png):
    gate = DecodeGate(slots=1, wait_seconds=0.2)
    with gate.slot():  # another upload holds the only slot
        started = time.monotonic()
        with pytest.raises(DecoderBusy) as raised:
            decode_image(large_png, min_side=256, gate=gate)
        assert time.monotonic() - started >= 0.2
    error = raised.value
    assert error.status == 503 and error.code == "busy"
    assert error.headers == {"Retry-After": "1"}
    assert decode_image(large_png, min_side=256, gate=gate).size == (280, 280)  # slot free again


def test_a_queued_decode_runs_when_the_slot_is_released(large_png):
    gate = DecodeGate(slots=1, wait_seconds=10)
    holding = threading.Event()

    def hold_briefly():
        with gate.slot():
            holding.set()
            time.sleep(0.3)

    holder = threading.Thread(target=hold_briefly)
    holder.start()
    holding.wait()
    assert decode_image(large_png, min_side=256, gate=gate).size == (280, 280)
    holder.join()


def test_small_decodes_never_wait_for_the_gate():
    gate = DecodeGate(slots=1, wait_seconds=0)
    with gate.slot():
        assert decode_image(images.jpeg(images.chelsea(), size=(4000, 3000)), min_side=256,
                            gate=gate).size == (500, 375)
        assert decode_image(images.encode(images.chelsea(), "PNG"), min_side=256,
                            gate=gate).size == (451, 300)


def test_at_most_n_large_decodes_run_at_once(large_png, monkeypatch):
    from catmodel.inference import decode as decode_module

    running, most = 0, 0
    lock = threading.Lock()
    real_reduce = decode_module.reduce_in_bands

    def counting_reduce(image, factor):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        try:
            return real_reduce(image, factor)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(decode_module, "reduce_in_bands", counting_reduce)
    gate = DecodeGate(slots=2, wait_seconds=30)
    threads = [threading.Thread(target=decode_image, args=(large_png,),
                                kwargs={"min_side": 256, "gate": gate}) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 2


def test_a_gate_needs_a_slot():
    with pytest.raises(ValueError):
        DecodeGate(slots=0)
