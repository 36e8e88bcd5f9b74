"""Tests of paco.speech. Shared helper: a strict MP3 frame walker (no decoder is installed)."""
from __future__ import annotations

_KBPS = {  # Layer III bitrate tables
    1: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
    2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
}
_RATES = {3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000]}


def mp3_frames(data: bytes) -> list[tuple[int, int, int]]:
    """(sample_rate, kbps, channels) of each Layer III frame; the frames must tile the data
    exactly (an optional ID3v2 tag first), so a truncated or corrupt file fails."""
    pos, frames = 0, []
    if data[:3] == b"ID3":
        size = data[6] << 21 | data[7] << 14 | data[8] << 7 | data[9]
        pos = 10 + size
    while pos < len(data):
        h = data[pos:pos + 4]
        assert len(h) == 4 and h[0] == 0xFF and h[1] & 0xE0 == 0xE0, f"no frame sync at {pos}"
        version, layer = (h[1] >> 3) & 3, (h[1] >> 1) & 3
        assert version != 1 and layer == 1, f"not MPEG Layer III at {pos}"
        kbps = _KBPS[1 if version == 3 else 2][h[2] >> 4]
        rate = _RATES[version][(h[2] >> 2) & 3]
        padding = (h[2] >> 1) & 1
        length = (144 if version == 3 else 72) * kbps * 1000 // rate + padding
        assert pos + length <= len(data), f"truncated frame at {pos}"
        frames.append((rate, kbps, 1 if h[3] >> 6 == 3 else 2))
        pos += length
    return frames


def mp3_duration(data: bytes) -> float:
    frames = mp3_frames(data)
    return sum((1152 if rate >= 32000 else 576) / rate for rate, _, _ in frames)
