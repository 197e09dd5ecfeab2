"""Checks that a PNG (a screenshot) is not blank: decodes it with zlib (8-bit RGB or RGBA,
non-interlaced, as Chromium writes) and requires at least MIN_INK of the pixels of its top
ROWS rows (pure Python is slow) to be clearly not white and at least 16 distinct colours there.
Usage: python3 png_check.py FILE.png [MIN_INK=0.02] [ROWS=800]"""
import struct
import sys
import zlib


def pixels(path, max_rows):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    width, height, depth, colour, _, _, interlace = ihdr
    if depth != 8 or colour not in (2, 6) or interlace:
        sys.exit(f"{path}: unsupported PNG (depth {depth}, colour type {colour})")
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(min(height, max_rows)):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):  # PNG filters (RFC 2083 section 6)
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def main():
    path = sys.argv[1]
    min_ink = float(sys.argv[2]) if len(sys.argv) > 2 else 0.02
    max_rows = int(sys.argv[3]) if len(sys.argv) > 3 else 800
    width, height, bpp, rows = pixels(path, max_rows)
    ink, colours, total = 0, set(), 0
    for row in rows[::3]:
        for x in range(0, width * bpp, bpp * 3):
            r, g, b = row[x], row[x + 1], row[x + 2]
            total += 1
            colours.add((r, g, b))
            if min(r, g, b) < 200:
                ink += 1
    print(f"{path}: {width}x{height}, top {len(rows)} rows: {ink / total:.3f} of sampled pixels inked, "
          f"{len(colours)} colours")
    sys.exit(0 if ink / total >= min_ink and len(colours) >= 16 else 1)


if __name__ == "__main__":
    main()
