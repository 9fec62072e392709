"""Small files that decode to huge images: the uploads that cost a worker its memory.

Each is a 7071 x 7071 picture (50 megapixels, just under the decoder's overall pixel limit) in one
colour mode and format, drawn so that it compresses to a few hundred kilobytes, as an attacker's
would (a 206 KB RGBA PNG of this size cost a gunicorn worker 864 MB before the decoder reduced
images before converting them). Making one takes its full size in memory, so tests make them in
a subprocess (``python -m testsupport.hostile_images DIR [MAX_DECODE_BYTES]``), once, into
the cache folder (``cached_files()``), and keep only the files.
"""
from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
from PIL import Image

SIDE = 7071
# Not a Pillow option: the file is edited after saving (see encode).
END_MARKER_IN_COMMENT = "end_marker_in_comment"

# (colour mode, format, Pillow save options): every mode the issue names, in every format of
# PNG, TIFF, WebP, GIF (and JPEG for CMYK) that can hold it.
CASES = (
    ("RGBA", "PNG", {}),
    ("RGBA", "TIFF", {"compression": "tiff_deflate"}),
    ("RGBA", "WEBP", {"lossless": True, "method": 0}),
    ("RGB", "PNG", {}),
    ("RGB", "WEBP", {"quality": 50, "method": 0}),
    ("LA", "PNG", {}),
    ("LA", "TIFF", {"compression": "tiff_deflate"}),
    ("P", "PNG", {"transparency": 0}),
    ("P", "GIF", {"transparency": 0}),
    ("P", "TIFF", {"compression": "tiff_deflate"}),
    ("I;16", "PNG", {}),
    ("I;16", "TIFF", {"compression": "tiff_deflate"}),
    ("I", "TIFF", {"compression": "tiff_deflate"}),
    ("F", "TIFF", {"compression": "tiff_deflate"}),
    ("CMYK", "TIFF", {"compression": "tiff_deflate"}),
    ("CMYK", "JPEG", {"quality": 50}),
    ("CMYK", "JPEG", {"quality": 50, "progressive": True}),
    ("RGB", "JPEG", {"quality": 50}),
    ("RGB", "JPEG", {"quality": 50, "progressive": True}),
    ("RGB", "JPEG", {"quality": 50, "progressive": True, "subsampling": 0}),
    # The same with "FF D9" (end of image) in a comment between its scans: a decoder that looks
    # for markers without skipping segments by their length saw a one-scan JPEG.
    ("RGB", "JPEG", {"quality": 50, "progressive": True, "subsampling": 0,
                     END_MARKER_IN_COMMENT: True}),
)


def case_name(mode: str, format: str, options: dict) -> str:
    extras = [key for key in ("progressive",) if options.get(key)]
    if options.get("subsampling") == 0:
        extras.append("444")
    if options.get(END_MARKER_IN_COMMENT):
        extras.append("comment")
    return "-".join([mode.replace(";", ""), format.lower(), *extras])


def picture(mode: str, side: int = SIDE) -> Image.Image:
    """A few flat shapes on a ramp: real pixels to decode, yet tiny once compressed."""
    ramp = np.linspace(0, 255, side, dtype=np.float32)
    grey = np.broadcast_to(ramp[np.newaxis, :], (side, side)).astype(np.uint8)
    grey = (grey // 32) * 32  # bands, so the compressors find long runs
    rgb = np.stack([grey, grey[::-1, ::-1], np.full_like(grey, 90)], axis=-1)
    image = Image.fromarray(rgb, "RGB")
    if mode == "RGB":
        return image
    if mode in ("RGBA", "LA"):
        alpha = np.zeros((side, side), dtype=np.uint8)
        alpha[side // 4: 3 * side // 4, side // 4: 3 * side // 4] = 255
        base = image.convert(mode[0] if mode == "LA" else "RGB")
        base.putalpha(Image.fromarray(alpha, "L"))
        return base
    if mode == "P":
        return image.quantize(colors=16)
    if mode in ("I;16", "I"):
        wide = grey.astype(np.uint16) * 257
        return Image.fromarray(wide if mode == "I;16" else wide.astype(np.int32))
    if mode == "F":
        return Image.fromarray(grey.astype(np.float32) / 255.0)
    return image.convert(mode)  # CMYK


def encode(image: Image.Image, format: str, options: dict) -> bytes:
    """``image`` saved as ``format`` with ``options``, edited as the options say."""
    saving = {key: value for key, value in options.items() if key != END_MARKER_IN_COMMENT}
    data = io.BytesIO()
    image.save(data, format, **saving)
    encoded = data.getvalue()
    if options.get(END_MARKER_IN_COMMENT):
        second_scan = encoded.index(b"\xff\xda", encoded.index(b"\xff\xda") + 2)
        comment = b"\xff\xd9 not the end"
        encoded = (encoded[:second_scan] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big")
                   + comment + encoded[second_scan:])
    return encoded


def largest_accepted_side(mode: str, format: str, options: dict, max_decode_bytes: int,
                          min_side: int = 256) -> int:
    """The side of the largest square image of this kind the decoder accepts (at most SIDE), by
    the decoder's own estimate: the memory test then checks the estimate against the real peak.
    0 when the format is refused outright."""
    import math

    from catmodel.inference.decode import ACCEPTED_PILLOW_FORMATS, DRAFT_FORMATS
    from catmodel.inference.decode_memory import decode_cost
    from catmodel.inference.jpeg_structure import jpeg_layout

    if format not in ACCEPTED_PILLOW_FORMATS:
        return 0
    sample_side = 2048  # big enough for JPEG's 1/8 draft to apply as it would at full size
    data = io.BytesIO(encode(picture(mode, sample_side), format, options))
    opened = Image.open(data)
    multi_scan = opened.format in DRAFT_FORMATS and jpeg_layout(data).multi_scan
    if opened.format in DRAFT_FORMATS:
        opened.draft("RGB", (min_side, min_side))
    per_pixel = decode_cost(opened, (sample_side, sample_side), multi_scan) / sample_side ** 2
    return min(SIDE, math.isqrt(int(max_decode_bytes / per_pixel)))


# The EXIF bomb: a 64 x 64 picture whose EXIF Orientation declares SHORT[9,000,000], 18 MB of
# values (730 MB of Python objects once Pillow's EXIF parser had read them).
EXIF_BOMB_VALUES = 9_000_000
EXIF_BOMB_FORMATS = ("PNG", "WEBP", "JPEG")


def exif_bomb(format: str) -> bytes:
    from testsupport import images

    small = picture("RGB", 64)
    bomb = images.exif_block(6, count=EXIF_BOMB_VALUES)
    if format == "JPEG":  # in APP1 segments of 64 KB, which Pillow joins
        return images.jpeg_with_exif(encode(small, "JPEG", {}), bomb)
    return encode(small, format, {"exif": bomb})  # PNG eXIf, WebP EXIF chunk


def write_all(directory: Path, max_decode_bytes: int | None = None) -> list[Path]:
    """Every case at SIDE, and the EXIF bombs; with ``max_decode_bytes``, also each accepted
    kind at the largest side the decoder accepts (``*-largest.*``) when that is below SIDE.
    Files already there are kept (the directory is a cache)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for format in EXIF_BOMB_FORMATS:
        path = directory / f"exif-bomb.{format.lower()}"
        if not path.exists():
            path.with_suffix(".part").write_bytes(exif_bomb(format))
            path.with_suffix(".part").rename(path)
        written.append(path)
    for mode, format, options in CASES:
        sides = {"": SIDE}
        if max_decode_bytes:
            largest = largest_accepted_side(mode, format, options, max_decode_bytes)
            if 0 < largest < SIDE:
                sides["-largest"] = largest
        for suffix, side in sides.items():
            path = directory / f"{case_name(mode, format, options)}{suffix}.{format.lower()}"
            if not path.exists():
                partial = path.with_suffix(".part")
                partial.write_bytes(encode(picture(mode, side), format, options))
                partial.rename(path)
            written.append(path)
    return written


def cached_files(max_decode_bytes: int) -> dict[str, Path]:
    """{file name: path} of every hostile file (see write_all), made on the first call into
    ``$CATSITE_CACHE_DIR/test-images/`` (about a minute) and reused while this module, Pillow
    and the budget stay the same."""
    from catmodel.modelbuild.cache import default_cache_root

    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(f"Pillow=={metadata.version('Pillow')}:{max_decode_bytes}".encode())
    directory = default_cache_root() / "test-images" / f"hostile-{digest.hexdigest()[:16]}"
    result = subprocess.run(
        [sys.executable, "-m", "testsupport.hostile_images", str(directory),
         str(max_decode_bytes)],
        cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=900,
        check=False)
    if result.returncode != 0:
        raise RuntimeError(f"making the hostile images failed:\n{result.stderr[-3000:]}")
    return {Path(line).name: Path(line) for line in result.stdout.split()}


if __name__ == "__main__":
    budget = int(sys.argv[2]) if len(sys.argv) > 2 else None
    for written in write_all(Path(sys.argv[1]), budget):
        print(written)
