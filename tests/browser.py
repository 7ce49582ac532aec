"""Headless chromium for tests: find (or install) it, take screenshots, tell a blank PNG from a real one.

Flags as measured on this kind of machine (../shared/DESIGN.md): without --virtual-time-budget the PNG is
blank; without the background-networking flags chromium keeps dialling hosts this machine cannot reach.
"""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BENCH_OUT = PROJECT_ROOT / "benchmarks" / "out"      # gitignored

CHROMIUM_NAMES = ("chromium", "chromium-browser")
APT_TIMEOUT = 300          # apt-get update + install --no-install-recommends chromium takes ~20-60 s here
SCREENSHOT_TIMEOUT = 60

_install_attempt: dict[str, str | None] = {}       # once per session: {"error": message or None}


def _which() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _install_with_apt() -> str | None:
    """apt-get update + install chromium (Debian, as root); returns an error message or None."""
    if "error" in _install_attempt:
        return _install_attempt["error"]
    error = None
    if os.name != "posix" or os.geteuid() != 0:
        error = "not running as root, so chromium cannot be installed with apt-get"
    elif not shutil.which("apt-get"):
        error = "no apt-get on this machine to install chromium with"
    else:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (["apt-get", "update"],
                    ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
            try:
                proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=APT_TIMEOUT)
            except subprocess.TimeoutExpired:
                error = f"`{' '.join(cmd)}` took more than {APT_TIMEOUT} s"
                break
            if proc.returncode != 0:
                error = f"`{' '.join(cmd)}` failed ({proc.returncode}): {(proc.stderr or proc.stdout)[-500:]}"
                break
    _install_attempt["error"] = error
    return error


def chromium_binary() -> str:
    """The path of chromium; installs Debian's package when root and missing, else skips the test."""
    path = _which()
    if path:
        return path
    error = _install_with_apt()
    path = _which()
    if path:
        return path
    pytest.skip(f"headless chromium is not available: {error or 'apt-get installed no chromium binary'}")


CJK_FONT_PACKAGE = "fonts-wqy-zenhei"      # ~10 MB; without a CJK font Chinese renders as empty boxes


def cjk_font_available() -> bool:
    if not shutil.which("fc-list"):
        return False
    proc = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=30)
    return bool(proc.stdout.strip())


def ensure_cjk_font() -> bool:
    """A font with Chinese glyphs, installed from Debian when root and missing (once); True when there is one.

    Cosmetic only: pages render without it, but every Chinese character is a box on the screenshot.
    """
    if cjk_font_available():
        return True
    if "font_error" not in _install_attempt:
        error = None
        if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
            error = "not root or no apt-get"
        else:
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            cmds = [["apt-get", "install", "-y", "--no-install-recommends", CJK_FONT_PACKAGE]]
            if "error" not in _install_attempt:          # no apt-get update yet in this session
                cmds.insert(0, ["apt-get", "update"])
            for cmd in cmds:
                try:
                    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=APT_TIMEOUT)
                except subprocess.TimeoutExpired:
                    error = f"`{' '.join(cmd)}` timed out"
                    break
                if proc.returncode != 0:
                    error = f"`{' '.join(cmd)}` failed: {(proc.stderr or proc.stdout)[-300:]}"
                    break
        _install_attempt["font_error"] = error
    return cjk_font_available()


def chromium_command(binary: str, user_data_dir: str, width: int, height: int, budget_ms: int) -> list[str]:
    return [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-quic", "--no-first-run", "--no-default-browser-check", "--hide-scrollbars",
            f"--user-data-dir={user_data_dir}", f"--window-size={width},{height}",
            f"--virtual-time-budget={budget_ms}"]


def _kill_group_leftovers(pgid: int) -> None:
    """SIGKILL what is left of the process group this module started (looked up in /proc, never by name)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            try:
                os.kill(int(entry.name), 9)
            except ProcessLookupError:
                pass


def screenshot(url_or_file: str | Path, png_path: str | Path, width: int = 1400, height: int = 900,
               budget_ms: int = 15000) -> Path:
    """Render a URL (or a local file) in headless chromium and save a PNG; returns its path."""
    binary = chromium_binary()
    target = str(url_or_file)
    if "://" not in target:
        target = Path(target).resolve().as_uri()
    png_path = Path(png_path).resolve()
    png_path.parent.mkdir(parents=True, exist_ok=True)
    png_path.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        cmd = chromium_command(binary, profile, width, height, budget_ms) + [f"--screenshot={png_path}", target]
        # its own session, so a hung chromium and its helper processes can be killed together
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=SCREENSHOT_TIMEOUT + budget_ms / 1000)
        except subprocess.TimeoutExpired:
            _kill_group_leftovers(proc.pid)
            proc.communicate()
            raise AssertionError(f"chromium did not finish a screenshot of {target}")
        finally:
            _kill_group_leftovers(proc.pid)       # helpers that outlived the browser process
    assert proc.returncode == 0 and png_path.exists(), (
        f"chromium exited {proc.returncode} without {png_path}: {err.decode(errors='replace')[-1500:]}")
    return png_path


def save_copy(png: Path, name: str) -> Path:
    """Keep a copy under benchmarks/out/ (gitignored) for a human to look at."""
    BENCH_OUT.mkdir(parents=True, exist_ok=True)
    target = BENCH_OUT / name
    shutil.copyfile(png, target)
    return target


# --- PNG decoding (stdlib only) -------------------------------------------------------------------------

_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}     # colour type -> samples per pixel


def _unfilter(data: bytes, width: int, height: int, bpp: int) -> list[bytes]:
    stride = width * bpp
    rows, prev, pos = [], bytearray(stride), 0
    for _ in range(height):
        ftype = data[pos]
        line = bytearray(data[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        if ftype == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif ftype == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 0xFF
        elif ftype == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif ftype == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        elif ftype != 0:
            raise ValueError(f"bad PNG filter type {ftype}")
        rows.append(bytes(line))
        prev = line
    return rows


def png_pixels(path: str | Path) -> tuple[int, int, list[bytes], int]:
    """(width, height, unfiltered rows, bytes per pixel) of an 8-bit non-interlaced PNG."""
    blob = Path(path).read_bytes()
    if blob[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    pos, idat, header = 8, [], None
    while pos < len(blob):
        (length,) = struct.unpack(">I", blob[pos:pos + 4])
        ctype, chunk = blob[pos + 4:pos + 8], blob[pos + 8:pos + 8 + length]
        pos += 12 + length
        if ctype == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif ctype == b"IDAT":
            idat.append(chunk)
        elif ctype == b"IEND":
            break
    if header is None:
        raise ValueError(f"{path} has no IHDR")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or interlace:
        raise ValueError(f"{path}: only 8-bit non-interlaced PNGs are decoded here (depth {depth}, interlace {interlace})")
    bpp = _CHANNELS[colour]
    return width, height, _unfilter(zlib.decompress(b"".join(idat)), width, height, bpp), bpp


def _pillow_rgb(path: str | Path):
    try:
        from PIL import Image       # used when installed (it comes with reportlab); never required
    except ImportError:
        return None
    with Image.open(path) as im:
        return im.convert("RGB")


def png_colours(path: str | Path, samples: int = 4000) -> set[bytes]:
    """The distinct colours among an evenly spread sample of pixels."""
    im = _pillow_rgb(path)
    if im is not None:
        width, height = im.size
        data = im.tobytes()
        step = max(1, (width * height) // samples)
        return {data[n * 3:n * 3 + 3] for n in range(0, width * height, step)}
    width, height, rows, bpp = png_pixels(path)
    total = width * height
    step = max(1, total // samples)
    colours = set()
    for n in range(0, total, step):
        y, x = divmod(n, width)
        colours.add(rows[y][x * bpp:x * bpp + min(bpp, 3)])
    return colours


def png_count_colour(path: str | Path, hex_rgb: str) -> int:
    """How many pixels have exactly this colour (e.g. '#1f77b4'): a chart's trace colour, say."""
    rgb = bytes.fromhex(hex_rgb.lstrip("#"))
    im = _pillow_rgb(path)
    if im is not None:
        data = im.tobytes()
        return sum(1 for n in range(0, len(data), 3) if data[n:n + 3] == rgb) if rgb in data else 0
    width, height, rows, bpp = png_pixels(path)
    if bpp < 3:
        return 0
    count = 0
    for row in rows:
        start = row.find(rgb)
        while start != -1:
            if start % bpp == 0:
                count += 1
            start = row.find(rgb, start + 1)
    return count


def png_is_not_blank(path: str | Path, min_colours: int = 8, min_bytes: int = 4000) -> bool:
    """True when the PNG is more than a blank page: big enough and with more than a few distinct colours."""
    path = Path(path)
    if not path.exists() or path.stat().st_size < min_bytes:
        return False
    return len(png_colours(path)) >= min_colours
