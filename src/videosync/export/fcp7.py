"""Final Cut Pro 7 XML (``.xml``, xmeml version 5): the interchange Premiere and Resolve import.

The document holds a project with two sequences:

* ``<title> multiclip``: one clip item holding a ``multiclip`` with one ``angle`` per camera. Each
  angle's clip is as long as the whole timeline and places its camera at its start on the common
  timeline, so the angles line up whether an editor syncs them by in points, out points or
  timecode. The reference camera is the active video and audio angle.
* ``<title> tracks``: one video track (and one audio track, when the file has audio) per camera,
  each holding the whole file at its place: the layout every importer understands.

xmeml counts time in frames of a ``timebase`` (an integer; ``ntsc`` TRUE means ×1000/1001). The
timeline's rate is the reference's (29.97 → timebase 30, ntsc TRUE); a rate that is neither an
integer nor an NTSC rate is written as the nearest integer timebase. Positions are each camera's
offset relative to the reference rounded to the nearest timeline frame; the exact offset and the
rounding are in each clip item's comment and in an XML comment at the top.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

from videosync.export._timeline import Placement, Timeline, build_timeline, file_url, placement_note, rational_rate
from videosync.export._xml import document, sub
from videosync.export.base import Exporter
from videosync.result import SyncResult

XMEML_VERSION = "5"


def xmeml_rate(rate: Fraction) -> tuple[int, bool]:
    """(timebase, ntsc) of a frame rate: 30000/1001 → (30, True); 25 → (25, False); 12.5 → (13, False)."""
    if rate.denominator == 1001 and rate.numerator % 1000 == 0:
        return rate.numerator // 1000, True
    return max(1, round(rate)), False


def xmeml_fraction(timebase: int, ntsc: bool) -> Fraction:
    """The frame rate an xmeml (timebase, ntsc) pair stands for."""
    return Fraction(timebase * 1000, 1001) if ntsc else Fraction(timebase)


def _rate(parent: ET.Element, rate: Fraction) -> None:
    timebase, ntsc = xmeml_rate(rate)
    r = sub(parent, "rate")
    sub(r, "timebase", timebase)
    sub(r, "ntsc", "TRUE" if ntsc else "FALSE")


class FCP7XMLExporter(Exporter):
    name = "fcp7"
    summary = "Final Cut Pro 7 XML (xmeml 5): multiclip + one track per camera (Premiere, Resolve)"
    suffixes = (".xml",)

    def _render(self, result: SyncResult) -> bytes:
        ref_rate = rational_rate(result.reference.fps)
        tl = build_timeline(result, rate=xmeml_fraction(*xmeml_rate(ref_rate)))
        root = ET.Element("xmeml", version=XMEML_VERSION)
        project = sub(root, "project")
        sub(project, "name", "videosync")
        children = sub(project, "children")
        written_files: set[str] = set()

        seq = self._sequence(children, "videosync-multiclip", "videosync multiclip", tl)
        item = sub(sub(seq.find("media/video"), "track"), "clipitem", id="multiclip-item")
        self._clipitem_timing(item, "videosync multiclip", tl.rate, 0, tl.duration_frames, tl.duration_frames)
        multiclip = sub(item, "multiclip", id="videosync-multiclip-1")
        sub(multiclip, "name", "videosync multiclip")
        sub(multiclip, "collapsed", "FALSE")
        sub(multiclip, "synctype", 0)  # in points: every angle clip starts at the common timeline's 0
        for p in tl.placements:
            angle = sub(multiclip, "angle")
            is_ref = "TRUE" if p.index == tl.reference_index else "FALSE"
            sub(angle, "activevideoangle", is_ref)
            sub(angle, "activeaudioangle", is_ref)
            clip = sub(angle, "clip", id=f"angle-{p.index + 1}")
            sub(clip, "name", p.name)
            sub(clip, "duration", tl.duration_frames)
            _rate(clip, tl.rate)
            sub(clip, "in", 0)
            sub(clip, "out", tl.duration_frames)
            media = sub(clip, "media")
            self._place(sub(sub(media, "video"), "track"), p, tl, f"angle-{p.index + 1}-v", "video", written_files)
            if p.info.has_audio:
                self._place(sub(sub(media, "audio"), "track"), p, tl, f"angle-{p.index + 1}-a", "audio",
                            written_files)

        seq = self._sequence(children, "videosync-tracks", "videosync tracks", tl)
        video, audio = seq.find("media/video"), seq.find("media/audio")
        for p in tl.placements:
            self._place(sub(video, "track"), p, tl, f"track-{p.index + 1}-v", "video", written_files)
        for p in tl.placements:
            if p.info.has_audio:
                self._place(sub(audio, "track"), p, tl, f"track-{p.index + 1}-a", "audio", written_files)
        comment = "videosync; " + " | ".join(f"{p.name}: {placement_note(p, tl.rate)}" for p in tl.placements)
        return document(root, "xmeml", comment)

    @staticmethod
    def _sequence(parent: ET.Element, seq_id: str, name: str, tl: Timeline) -> ET.Element:
        seq = sub(parent, "sequence", id=seq_id)
        sub(seq, "name", name)
        sub(seq, "duration", tl.duration_frames)
        _rate(seq, tl.rate)
        tc = sub(seq, "timecode")
        _rate(tc, tl.rate)
        sub(tc, "string", "00:00:00:00")
        sub(tc, "frame", 0)
        sub(tc, "displayformat", "NDF")
        media = sub(seq, "media")
        chars = sub(sub(sub(media, "video"), "format"), "samplecharacteristics")
        _rate(chars, tl.rate)
        sub(chars, "width", tl.reference.info.width)
        sub(chars, "height", tl.reference.info.height)
        sub(chars, "pixelaspectratio", "square")
        sub(media, "audio")
        return seq

    @staticmethod
    def _clipitem_timing(item: ET.Element, name: str, rate: Fraction, start: int, length: int, media_length: int):
        sub(item, "name", name)
        sub(item, "enabled", "TRUE")
        sub(item, "duration", media_length)
        _rate(item, rate)
        sub(item, "start", start)
        sub(item, "end", start + length)
        sub(item, "in", 0)
        sub(item, "out", length)

    def _place(self, track: ET.Element, p: Placement, tl: Timeline, item_id: str, kind: str,
               written_files: set[str]) -> None:
        """A clip item of the whole file at the camera's place (times in timeline frames)."""
        item = sub(track, "clipitem", id=item_id)
        self._clipitem_timing(item, p.name, tl.rate, p.start_frames, p.duration_frames, p.duration_frames)
        self._file(item, p, written_files)
        src = sub(item, "sourcetrack")
        sub(src, "mediatype", kind)
        sub(src, "trackindex", 1)
        sub(sub(item, "comments"), "mastercomment1", placement_note(p, tl.rate))

    @staticmethod
    def _file(parent: ET.Element, p: Placement, written: set[str]) -> None:
        file_id = f"file-{p.index + 1}"
        el = sub(parent, "file", id=file_id)
        if file_id in written:  # xmeml id convention: later uses refer to the first definition
            return
        written.add(file_id)
        sub(el, "name", p.name)
        sub(el, "pathurl", file_url(p.path))
        _rate(el, p.rate)
        sub(el, "duration", p.n_frames)
        media = sub(el, "media")
        chars = sub(sub(media, "video"), "samplecharacteristics")
        _rate(chars, p.rate)
        sub(chars, "width", p.info.width)
        sub(chars, "height", p.info.height)
        if p.info.has_audio:
            audio = sub(media, "audio")
            achars = sub(audio, "samplecharacteristics")
            sub(achars, "depth", 16)
            sub(achars, "samplerate", p.info.audio_sample_rate_hz)
            sub(audio, "channelcount", p.info.audio_channels)
