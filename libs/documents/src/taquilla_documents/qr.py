"""QR codes for tickets, made fast enough to print one for every ticket of an on-sale rush.

A general-purpose encoder (segno) spends most of a ticket's QR code on choosing the data mask: it
applies each of the eight masks module by module and scores each result in a Python loop (about 30 ms
for a signed ticket code of 367 characters, version 15). Here the whole symbol is one Python integer,
one bit a module, row by row (and a second one column by column): a mask is one XOR, and the penalty
rules are a few bit operations over the whole symbol, except the finder-like pattern, searched with
`str.find` in the symbol's text. What a version fixes (the function patterns, where each message bit
goes, the masks limited to the data region) is worked out once and cached: about 2 ms a ticket code.

The penalty is scored exactly as segno scores it (the test compares them on every candidate), so the
mask is the one the standard's rules choose. The message follows the standard: after the terminator,
pad codewords (segno appends a zero byte first when the data ends on a byte boundary, so its symbols
of the same text differ in their data modules). Byte mode only (ticket codes are ASCII), ISO-8859-1
when the text fits it and UTF-8 otherwise; the error correction level is raised while the data still
fits the same version. Read back by ZXing in the tests, as a door scanner reads it.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from operator import itemgetter

from segno import consts

# the error correction levels in the standard's order of strength, by their two format bits
LEVELS = {"L": consts.ERROR_LEVEL_L, "M": consts.ERROR_LEVEL_M, "Q": consts.ERROR_LEVEL_Q,
          "H": consts.ERROR_LEVEL_H}
_STRENGTH = ("L", "M", "Q", "H")
_FINDER_LIKE = "1011101"


@dataclass(frozen=True, slots=True)
class QrCode:
    version: int
    error: str
    mask: int
    rows: tuple[str, ...]  # "1" a dark module, "0" a light one; no quiet zone

    @property
    def size(self) -> int:
        return len(self.rows)

    def dark_runs(self):
        """(row, first column, length) of every horizontal run of dark modules: one rectangle each."""
        for r, row in enumerate(self.rows):
            for run in re.finditer("1+", row):
                yield r, run.start(), run.end() - run.start()


def make(payload: str | bytes, error: str = "M") -> QrCode:
    """The QR code of `payload` at error correction level `error` (L, M, Q or H) or a stronger one."""
    error = error.upper()
    if error not in LEVELS:
        raise ValueError(f"unknown error correction level {error!r}: L, M, Q or H")
    data = payload if isinstance(payload, bytes) else _bytes(payload)
    level = LEVELS[error]
    bits = 4 + 8 * len(data)  # mode indicator, the data; the character count's length depends on the version
    for version in range(1, 41):
        needed = bits + _count_bits(version)
        if needed <= consts.SYMBOL_CAPACITY[version][level]:
            break
    else:
        raise ValueError(f"{len(data)} bytes do not fit a QR code at error level {error}")
    for stronger in _STRENGTH[_STRENGTH.index(error) + 1:]:
        if needed > consts.SYMBOL_CAPACITY[version][LEVELS[stronger]]:
            break
        error, level = stronger, LEVELS[stronger]
    codewords = _codewords(data, version, level)
    layout = _layout(version)
    size = layout.size
    # the symbol's modules row by row and column by column: the function patterns followed by the message's
    # bits (remainder bits light), picked in place by one precomputed permutation each
    source = layout.patterns + format(int.from_bytes(codewords, "big"), f"0{8 * len(codewords)}b").ljust(
        layout.data_modules, "0")
    by_rows, by_cols = "".join(layout.row_order(source)), "".join(layout.col_order(source))
    symbol, transposed = int(by_rows, 2), int(by_cols, 2)
    masks = [_masks(version, mask) for mask in range(8)]
    best = min(range(8), key=lambda mask: _penalty(symbol ^ masks[mask][0], transposed ^ masks[mask][1], size))
    masked = format(symbol ^ masks[best][0], f"0{size * size}b")
    matrix = [bytearray(masked[k:k + size], "ascii") for k in range(0, size * size, size)]
    _add_format_and_version(matrix, version, level, best)
    return QrCode(version, error, best, tuple(row.decode("ascii") for row in matrix))


def _bytes(text: str) -> bytes:
    try:
        return text.encode("iso-8859-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _count_bits(version: int) -> int:
    return 8 if version < 10 else 16


def _codewords(data: bytes, version: int, level: int) -> bytes:
    """The final message: data codewords with their terminator and padding, interleaved with the
    Reed-Solomon error correction of each block."""
    blocks = [(group.num_data, group.num_total - group.num_data)
              for group in consts.ECC[version][level] for _ in range(group.num_blocks)]
    capacity = sum(n for n, _ in blocks)
    stream = (0b0100 << _count_bits(version) | len(data)) << 8 * len(data) | int.from_bytes(data, "big")
    length = 4 + _count_bits(version) + 8 * len(data)
    terminator = min(4, capacity * 8 - length)
    stream <<= terminator
    length += terminator
    pad = -length % 8
    stream <<= pad
    length += pad
    message = bytearray(stream.to_bytes(length // 8, "big"))
    message.extend((b"\xec\x11" * capacity)[:capacity - len(message)])
    data_blocks, ec_blocks, start = [], [], 0
    for n_data, n_ec in blocks:
        block = bytes(message[start:start + n_data])
        start += n_data
        data_blocks.append(block)
        ec_blocks.append(_reed_solomon(block, n_ec))
    out = bytearray()
    for group in (data_blocks, ec_blocks):
        for k in range(max(len(b) for b in group)):
            out.extend(b[k] for b in group if k < len(b))
    return bytes(out)


@cache
def _gf_tables() -> tuple[list[int], list[int]]:
    exp, log = [0] * 512, [0] * 256
    x = 1
    for i in range(255):
        exp[i], log[x] = x, i
        x <<= 1
        if x & 0x100:
            x ^= 0x11D
    for i in range(255, 512):
        exp[i] = exp[i - 255]
    return exp, log


@cache
def _generator_products(n_ec: int) -> tuple[int, ...]:
    """For each byte value c, c times the generator polynomial of degree `n_ec` (its leading 1 dropped),
    as an `n_ec`-byte integer: the division below takes one XOR a data byte."""
    exp, log = _gf_tables()
    poly = [1]
    for i in range(n_ec):  # (x - a^0)(x - a^1)...(x - a^(n-1))
        nxt = poly + [0]
        for k, c in enumerate(poly):
            if c:
                nxt[k + 1] ^= exp[log[c] + i]
        poly = nxt
    products = [0]
    for c in range(1, 256):
        value = 0
        for g in poly[1:]:
            value = value << 8 | (exp[log[c] + log[g]] if g else 0)
        products.append(value)
    return tuple(products)


def _reed_solomon(block: bytes, n_ec: int) -> bytes:
    products = _generator_products(n_ec)
    shift, keep = 8 * (n_ec - 1), (1 << 8 * n_ec) - 1
    remainder = 0
    for byte in block:
        remainder = ((remainder << 8) & keep) ^ products[byte ^ (remainder >> shift)]
    return remainder.to_bytes(n_ec, "big")


@dataclass(frozen=True, slots=True)
class _Layout:
    size: int
    patterns: str  # every module row by row, "1" dark, "0" light or data
    data_modules: int  # how many modules the message's bits (and the remainder bits) fill
    row_order: Callable  # source -> modules row by row, source being `patterns` then the message's bits
    col_order: Callable  # the same, column by column
    data_region: str  # every module row by row, "1" where a data module is (what a mask may change)


@cache
def _layout(version: int) -> _Layout:
    size = 17 + 4 * version
    grid = [[None] * size for _ in range(size)]  # None: a data module
    for top, left in ((0, 0), (0, size - 7), (size - 7, 0)):  # finders and their separators
        for i in range(-1, 8):
            for j in range(-1, 8):
                if 0 <= top + i < size and 0 <= left + j < size:
                    ring = max(abs(i - 3), abs(j - 3))
                    grid[top + i][left + j] = int(ring != 2 and ring != 4)
    if version >= 2:
        centres = consts.ALIGNMENT_POS[version - 2]
        for ci in centres:
            for cj in centres:
                if (ci, cj) in ((centres[0], centres[0]), (centres[0], centres[-1]), (centres[-1], centres[0])):
                    continue
                for i in range(-2, 3):
                    for j in range(-2, 3):
                        grid[ci + i][cj + j] = int(max(abs(i), abs(j)) != 1)
    for k in range(8, size - 8):  # timing patterns
        grid[6][k] = grid[k][6] = int(k % 2 == 0)
    for k in range(9):  # format areas, light while the masks are scored; the dark module too
        if grid[8][k] is None:
            grid[8][k] = 0
        if grid[k][8] is None:
            grid[k][8] = 0
    for k in range(8):
        grid[8][size - 1 - k] = grid[size - 1 - k][8] = 0
    if version >= 7:  # version areas
        for i in range(6):
            for j in range(size - 11, size - 8):
                grid[i][j] = grid[j][i] = 0
    positions = []
    upwards = True
    right = size - 1
    while right > 0:
        if right == 6:  # the vertical timing pattern's column is skipped
            right -= 1
        for step in range(size):
            i = size - 1 - step if upwards else step
            for j in (right, right - 1):
                if grid[i][j] is None:
                    positions.append((i, j))
        upwards = not upwards
        right -= 2

    flat = size * size
    source_of = list(range(flat))  # module i*size+j comes from patterns[i*size+j], or from the message:
    for k, (i, j) in enumerate(positions):
        source_of[i * size + j] = flat + k
    patterns = "".join("1" if v == 1 else "0" for row in grid for v in row)
    data_region = "".join("1" if v is None else "0" for row in grid for v in row)
    return _Layout(size, patterns, len(positions), itemgetter(*source_of),
                   itemgetter(*(source_of[i * size + j] for j in range(size) for i in range(size))), data_region)


_MASK_RULES = (lambda i, j: (i + j) % 2 == 0, lambda i, j: i % 2 == 0, lambda i, j: j % 3 == 0,
               lambda i, j: (i + j) % 3 == 0, lambda i, j: (i // 2 + j // 3) % 2 == 0,
               lambda i, j: (i * j) % 2 + (i * j) % 3 == 0, lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
               lambda i, j: ((i + j) % 2 + (i * j) % 3) % 2 == 0)


@cache
def _masks(version: int, mask: int) -> tuple[int, int]:
    """The mask's modules within the data region, row by row and column by column, as one integer each."""
    layout = _layout(version)
    size, rule = layout.size, _MASK_RULES[mask]
    cells = [["1" if layout.data_region[i * size + j] == "1" and rule(i, j) else "0" for j in range(size)]
             for i in range(size)]
    return (int("".join(c for row in cells for c in row), 2),
            int("".join(cells[i][j] for j in range(size) for i in range(size)), 2))


def _penalty(symbol: int, transposed: int, size: int) -> int:
    """The standard's penalty score of a masked symbol (format and version areas still light), scored as
    `segno` scores it, so that both choose the same mask. `symbol` holds the modules row by row, the first
    module the highest bit; `transposed` column by column."""
    within_line, block_corners = _line_masks(size)
    score = 0
    for lines in (symbol, transposed):  # N1: 3 for five alike in a line, 1 more for each further one
        alike = ~(lines ^ (lines >> 1)) & within_line  # a module alike the one before it in its line
        fours = alike & (alike >> 1) & (alike >> 2) & (alike >> 3)  # ...and so are the three before
        # a run of L >= 5 alike has L - 4 bits in `fours`, and scores L - 2
        score += fours.bit_count() + 2 * (fours & ~(fours >> 1)).bit_count()
        score += _finder_like(format(lines, f"0{size * size}b"), size)
    above = ~(symbol ^ (symbol >> size))  # N2: 3 for each 2x2 block of one colour
    left = ~(symbol ^ (symbol >> 1))
    score += 3 * (above & (above >> 1) & left & block_corners).bit_count()
    dark = symbol.bit_count()
    return score + 10 * int(abs(dark / (size * size) * 100 - 50) / 5)  # N4: 10 for every 5 % off half dark


@cache
def _line_masks(size: int) -> tuple[int, int]:
    """Over a symbol's modules in one integer: the modules that have one before them in their line, and those
    that have one before them in their line and a line before theirs (a 2x2 block's last corner)."""
    first_in_line = int(("1" + "0" * (size - 1)) * size, 2)
    within_line = ~first_in_line & ((1 << size * size) - 1)
    return within_line, within_line & ((1 << size * (size - 1)) - 1)


def _finder_like(lines: str, size: int) -> int:
    """N3: 40 for each 1:1:3:1:1 dark-light pattern with four light modules before or after it in its line (a
    pattern at either end of a line counts whatever lies beside it, as segno counts it). `lines`: the lines
    one after another, `size` modules each."""
    score = 0
    start = lines.find(_FINDER_LIKE)
    while start != -1:
        column = start % size
        line = start - column
        end = start + 7
        if column > size - 7:  # found across two lines: no pattern
            end = start + 1
        elif column in (0, size - 7) or "1" not in lines[max(start - 4, line):start] \
                or "1" not in lines[end:min(end + 4, line + size)]:
            score += 40
        else:
            end = start + 4
        start = lines.find(_FINDER_LIKE, end)
    return score


def _add_format_and_version(matrix: list[bytearray], version: int, level: int, mask: int) -> None:
    dark, light = ord("1"), ord("0")
    size = len(matrix)
    info = consts.FORMAT_INFO[level << 3 | mask]
    offset = 0
    for i in range(8):
        vbit = dark if info >> i & 1 else light
        hbit = dark if info >> (14 - i) & 1 else light
        if i == 6:
            offset = 1
        matrix[i + offset][8] = vbit
        matrix[8][i + offset] = hbit
        matrix[8][size - 1 - i] = vbit
        matrix[size - 1 - i][8] = hbit
    matrix[size - 8][8] = dark
    if version >= 7:
        info = consts.VERSION_INFO[version - 7]
        for i in range(6):
            for k in range(3):
                bit = dark if info >> (i * 3 + k) & 1 else light
                matrix[size - 11 + k][i] = bit
                matrix[i][size - 11 + k] = bit
