"""Caption drafts: parsing WebVTT and SRT, rolling auto-captions, cues to clips, choosing a file,
subtitle tracks inside media. Real ffmpeg, the real cut of the bundled sample."""

import json
import re
import subprocess
from itertools import pairwise

import numpy as np
import pytest
from conftest import ROOT, SAMPLE

from accentds.captions import (
    Cue,
    _subtitle_streams,
    clean_rolling,
    draft_for_span,
    drafts_for_clips,
    extract_embedded_subtitles,
    looks_rolling,
    parse_subtitles,
    pick_subtitles,
)
from accentds.cut import cut
from accentds.errors import AccentdsError
from accentds.files import read_csv
from accentds.pull import pull
from accentds.workspace import init_workspace

SAMPLE_CUES = [
    Cue(c["start"], c["end"], c["text"])
    for c in json.loads((ROOT / "samples" / "sample.json").read_text(encoding="utf-8"))["cues"]
]


def write(path, text, encoding="utf-8", newline="\n"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


# -- parsing -------------------------------------------------------------------------------------------
ODD_VTT = """\ufeffWEBVTT - a talk in Glasgow
Kind: captions
Language: en-GB

NOTE this note
spans two lines

STYLE
::cue { color: yellow }

REGION
id:fred width:40% lines:3

intro
00:01.500 --> 00:04.000 align:start position:0% line:85%
<v Roger Bingham>Aye, it's a <i>dreich</i> morning,
but the rain&nbsp;should   clear.

2
00:00:04.250 --> 00:00:06.125
<c.yellow>Fish</c> &amp; chips &lt;3 &gt; a &quot;pie&quot;

NOTE a note between cues

00:00:06.125 --> 00:00:08.000 region:fred
we're<00:00:06.400><c> taking</c><00:00:06.900><c> the</c><00:00:07.100><c> ferry</c>

00:00:08.000 --> 00:00:09.000
<i></i>   <b> </b>

01:02:03.004 --> 01:02:05.000
<lang en-GB>Last one</lang> - <u>really</u> {\\an8}the end
"""


def test_vtt_with_every_oddity(tmp_path):
    path = write(tmp_path / "talk.vtt", ODD_VTT, newline="\r\n")
    assert path.read_bytes().startswith(b"\xef\xbb\xbfWEBVTT") and b"\r\n" in path.read_bytes()
    assert parse_subtitles(path) == [
        Cue(1.5, 4.0, "Aye, it's a dreich morning,\nbut the rain should clear."),
        Cue(4.25, 6.125, 'Fish & chips <3 > a "pie"'),
        Cue(6.125, 8.0, "we're taking the ferry"),
        # the tag-only cue at 8 s has no text and is dropped
        Cue(3723.004, 3725.0, "Last one - really the end"),
    ]


ODD_SRT = """1
00:00:00,700 --> 00:00:04,643
<i>Aye</i>, it's a dreich morning,
<font color="#ffff00">but the rain</font> should clear.
   \n2
00:00:05,843 --> 00:00:08,341  X1:100 X2:200 Y1:10 Y2:20
{\\an8}We're taking the ferry\t to Orkney.


3
00:00:09,141 --> 00:00:12,5
Crème brûlée &amp; a café
4
00:00:13,999 --> 00:00:16,823
Last week.
5
00:00:17,823 --> 00:00:17,000
ends before it starts"""


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_srt_with_every_oddity(tmp_path, encoding):
    path = write(tmp_path / "talk.srt", ODD_SRT, encoding=encoding, newline="\r\n")
    assert parse_subtitles(path) == [
        Cue(0.7, 4.643, "Aye, it's a dreich morning,\nbut the rain should clear."),
        Cue(5.843, 8.341, "We're taking the ferry to Orkney."),
        Cue(9.141, 12.5, "Crème brûlée & a café"),  # no blank line after it: "4" is the next id
        Cue(13.999, 16.823, "Last week."),
    ]


def test_format_is_told_by_content_not_extension(tmp_path):
    srt_in_vtt = write(tmp_path / "a.vtt", (ROOT / "samples" / "sample.srt").read_text(encoding="utf-8"))
    vtt_in_srt = write(tmp_path / "b.srt", (ROOT / "samples" / "sample.vtt").read_text(encoding="utf-8"))
    vtt_as_txt = write(tmp_path / "c.txt", ODD_VTT)
    assert parse_subtitles(srt_in_vtt) == SAMPLE_CUES
    assert parse_subtitles(vtt_in_srt) == SAMPLE_CUES
    assert [c.text for c in parse_subtitles(vtt_as_txt)][1] == 'Fish & chips <3 > a "pie"'


def test_bundled_sample_subtitles_match_sample_json():
    assert len(SAMPLE_CUES) == 8
    assert parse_subtitles(ROOT / "samples" / "sample.srt") == SAMPLE_CUES
    assert parse_subtitles(ROOT / "samples" / "sample.vtt") == SAMPLE_CUES


def test_an_empty_webvtt_file_has_no_cues(tmp_path):
    assert parse_subtitles(write(tmp_path / "empty.vtt", "WEBVTT\n\nNOTE nothing said yet\n")) == []


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"just some notes about the talk\nno times here\n",
        b'{"events": [{"tStartMs": 0, "segs": [{"utf8": "hello"}]}]}',
        b"[Script Info]\nTitle: an ASS file\n\n[Events]\nDialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,Hi\n",
        bytes(range(256)) * 4,
    ],
    ids=["empty", "plain-text", "json3", "ass", "binary"],
)
def test_a_file_that_is_neither_format_raises(tmp_path, content):
    path = tmp_path / "source.en.vtt"
    path.write_bytes(content)
    with pytest.raises(AccentdsError, match=r"source\.en\.vtt is not a WebVTT or SRT subtitle file"):
        parse_subtitles(path)


def test_a_missing_file_raises_a_clear_error(tmp_path):
    with pytest.raises(AccentdsError, match=r"cannot read subtitle file .*gone\.srt"):
        parse_subtitles(tmp_path / "gone.srt")


# -- rolling auto-captions --------------------------------------------------------------------------------
def rolling_vtt(lines):
    """A YouTube-style auto-caption file: each line is spoken in a cue that shows the line
    before it on top (unless `None` marks a pause that cleared the screen), words timed with
    <c> tags, and a 10 ms echo cue after each line. `lines` is [(start, end, "the words"), ...]."""
    out = ["WEBVTT", "Kind: captions", "Language: en", ""]
    shown = None
    for item in lines:
        if item is None:
            shown = None
            continue
        start, end, said = item
        words = said.split()
        step = (end - start) / len(words)
        timed = words[0] + "".join(
            f"<{stamp(start + k * step)}><c> {word}</c>" for k, word in enumerate(words[1:], 1)
        )
        out += [f"{stamp(start)} --> {stamp(end - 0.01)} align:start position:0%", shown or " ", timed, ""]
        shown = " ".join(words)
        out += [f"{stamp(end - 0.01)} --> {stamp(end)} align:start position:0%", shown, " ", ""]
    return "\n".join(out)


def stamp(seconds):
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


SPOKEN = [
    (0.32, 2.76, "aye it's a dreich morning"),
    (2.76, 5.2, "but the rain should clear"),
    (5.2, 7.44, "by lunchtime"),
    None,  # a pause: the screen is cleared
    (9.1, 11.36, "we're taking the ferry"),
    (11.36, 13.9, "to orkney on saturday"),
    (13.9, 14.8, "no no"),
    (14.8, 15.7, "no no"),  # said twice: kept twice
]
CLEAN = [
    Cue(0.32, 2.75, "aye it's a dreich morning"),
    Cue(2.76, 5.19, "but the rain should clear"),
    Cue(5.2, 7.43, "by lunchtime"),
    Cue(9.1, 11.35, "we're taking the ferry"),
    Cue(11.36, 13.89, "to orkney on saturday"),
    Cue(13.9, 14.79, "no no"),
    Cue(14.8, 15.69, "no no"),
]


@pytest.fixture
def youtube_vtt(tmp_path):
    return write(tmp_path / "raw" / "yt-abcdefghijk" / "source.en.vtt", rolling_vtt(SPOKEN))


def test_hand_written_youtube_file_looks_as_expected(youtube_vtt):
    text = youtube_vtt.read_text(encoding="utf-8")
    assert text.startswith(
        "WEBVTT\nKind: captions\nLanguage: en\n\n00:00:00.320 --> 00:00:02.750 align:start"
    )
    assert (
        "00:00:02.760 --> 00:00:05.190 align:start position:0%\naye it's a dreich morning\n"
        "but<00:00:03.248><c> the</c><00:00:03.736><c> rain</c><00:00:04.224><c> should</c>"
        "<00:00:04.712><c> clear</c>\n\n"
        "00:00:05.190 --> 00:00:05.200 align:start position:0%\nbut the rain should clear\n \n\n"
    ) in text
    cues = parse_subtitles(youtube_vtt)
    assert len(cues) == 14  # a cue and its echo per line
    assert cues[2] == Cue(2.76, 5.19, "aye it's a dreich morning\nbut the rain should clear")
    assert cues[3] == Cue(5.19, 5.2, "but the rain should clear")
    assert cues[6] == Cue(9.1, 11.35, "we're taking the ferry")  # after the pause: one line


def test_rolling_captions_are_cleaned_to_each_line_once(youtube_vtt):
    cues = parse_subtitles(youtube_vtt)
    assert looks_rolling(cues)
    assert clean_rolling(cues) == CLEAN
    assert clean_rolling(CLEAN) == CLEAN  # cleaned captions no longer look rolling


def test_roll_up_captions_of_three_lines_and_lines_growing_word_by_word():
    roll_up = [
        Cue(0.0, 2.0, "one"),
        Cue(2.0, 4.0, "one\ntwo"),
        Cue(4.0, 6.0, "one\ntwo\nthree"),
        Cue(6.0, 8.0, "two\nthree\nfour"),
        Cue(8.0, 10.0, "three\nfour\nfive"),
    ]
    assert clean_rolling(roll_up) == [
        Cue(0.0, 2.0, "one"),
        Cue(2.0, 4.0, "two"),
        Cue(4.0, 6.0, "three"),
        Cue(6.0, 8.0, "four"),
        Cue(8.0, 10.0, "five"),
    ]
    growing = [
        Cue(0.0, 0.5, "we're"),
        Cue(0.5, 1.0, "we're taking"),
        Cue(1.0, 1.6, "we're taking the ferry"),
        Cue(1.6, 2.0, "we're taking the ferry\nto"),
        Cue(2.0, 2.9, "we're taking the ferry\nto orkney"),
    ]
    assert clean_rolling(growing) == [Cue(0.0, 1.6, "we're taking the ferry"), Cue(1.6, 2.9, "to orkney")]


MANUAL = [
    Cue(0.5, 2.0, "- Are you coming?\n- Aye."),
    Cue(2.5, 4.0, "No!"),
    Cue(4.0, 5.0, "No!"),
    Cue(5.5, 8.0, "We're taking the ferry\nto Orkney on Saturday."),
    Cue(8.0, 9.0, "to Orkney on Saturday."),  # one repeat among many cues is not rolling
    Cue(9.5, 11.0, "Last week I walked up Arthur's Seat."),
    Cue(11.0, 12.5, "With my sister."),
    Cue(13.0, 14.0, "Afterwards, tea."),
    Cue(14.0, 15.0, "And shortbread."),
]


@pytest.mark.parametrize(
    "cues", [SAMPLE_CUES, MANUAL, MANUAL[:2], []], ids=["sample", "manual", "two", "none"]
)
def test_manual_subtitles_pass_through_clean_rolling_unchanged(cues):
    assert not looks_rolling(cues)
    assert clean_rolling(cues) == cues


def test_odd_vtt_is_not_rolling(tmp_path):
    cues = parse_subtitles(write(tmp_path / "odd.vtt", ODD_VTT))
    assert clean_rolling(cues) == cues


# -- cues to clips -------------------------------------------------------------------------------------------
CUES = [
    Cue(0.0, 2.0, "alpha"),
    Cue(2.0, 4.0, "bravo"),
    Cue(4.0, 7.0, "charlie"),  # straddles 5.0: 1 s before, 2 s after
    Cue(8.0, 10.0, "delta  \n echo"),  # exactly half on each side of 9.0
    Cue(10.0, 10.0, "foxtrot"),  # no duration
    Cue(11.0, 20.0, "golf"),  # longer than the clips it spans
]


def test_draft_for_span_boundaries():
    assert draft_for_span(CUES, 0.0, 5.0) == "alpha bravo"
    assert draft_for_span(CUES, 5.0, 9.0) == "charlie delta echo"  # exact half: the earlier clip
    assert draft_for_span(CUES, 9.0, 12.0) == "foxtrot"
    assert draft_for_span(CUES, 9.0, 10.0) == "delta echo"  # covers half of the span
    assert draft_for_span(CUES[4:5], 9.0, 10.0) == ""  # [start, end): 10.0 is the next span's
    assert draft_for_span(CUES[4:5], 10.0, 11.0) == "foxtrot"
    assert draft_for_span(CUES, 3.9, 4.1) == "bravo charlie"  # half of the span covered by each
    assert draft_for_span(CUES, 4.5, 4.5) == ""  # empty span
    assert draft_for_span(CUES, 6.0, 5.0) == ""  # backwards
    assert draft_for_span(CUES, 20.0, 30.0) == ""
    assert draft_for_span([], 0.0, 10.0) == ""
    # short clips inside a long cue each get it: the words are spoken across them
    assert [draft_for_span(CUES, a, a + 2.0) for a in (11.0, 14.0, 17.5)] == ["golf"] * 3


@pytest.mark.parametrize("cut_at", [4.01, 5.0, 5.49, 5.5, 5.51, 6.0, 6.99])
def test_a_cue_straddling_two_clips_goes_to_one_of_them(cut_at):
    cues = [Cue(4.0, 7.0, "charlie")]
    first, second = draft_for_span(cues, 0.0, cut_at), draft_for_span(cues, cut_at, 12.0)
    assert sorted([first, second]) == ["", "charlie"]
    assert first == ("charlie" if cut_at >= 5.5 else "")  # an exact half: the earlier clip


def test_consecutive_clips_lose_no_text_and_repeat_none():
    bounds = [0.0, 3.1, 6.0, 8.7, 10.25, 12.0, 13.0]
    drafts = [draft_for_span(CUES[:5], a, b) for a, b in pairwise(bounds)]
    assert drafts == ["alpha bravo", "charlie", "", "delta echo foxtrot", "", ""]


def test_random_tilings_give_every_cue_to_exactly_one_clip():
    """Clips that tile the time line and are longer than any cue: each cue lands in exactly
    one clip; shorter clips may share a cue but never lose one."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        starts = np.cumsum(rng.uniform(0.2, 3.0, 40))
        cues = [
            Cue(float(s), float(s + d), f"w{k}")
            for k, (s, d) in enumerate(zip(starts, rng.uniform(0.01, 3.0, 40), strict=True))
        ]
        for shortest in (3.0, 0.3):  # the longest cue lasts under 3 s
            bounds = np.concatenate([[0.0], np.cumsum(rng.uniform(shortest + 0.01, shortest + 4.0, 80))])
            words = " ".join(draft_for_span(cues, float(a), float(b)) for a, b in pairwise(bounds)).split()
            if shortest == 3.0:
                assert sorted(words) == sorted(c.text for c in cues)  # each once (cues overlap)
            else:
                assert set(words) == {c.text for c in cues}


def test_cleaned_rolling_captions_give_each_line_to_one_clip(youtube_vtt):
    cues = clean_rolling(parse_subtitles(youtube_vtt))
    spans = [(0.0, 3.5), (3.5, 8.5), (8.5, 12.0), (12.0, 15.0), (15.0, 16.0)]
    drafts = [draft_for_span(cues, a, b) for a, b in spans]
    assert drafts == [
        "aye it's a dreich morning",  # 0.74 s of the 2.43 s of "but the rain ..." is here: not half
        "but the rain should clear by lunchtime",
        "we're taking the ferry",
        "to orkney on saturday no no",
        "no no",
    ]


# -- choosing a file ----------------------------------------------------------------------------------------
def subs(root, *names, rolling=()):
    """Write manual-looking subtitles (or YouTube-rolling ones for names in `rolling`) under
    raw/src/; return the sources.csv field listing them."""
    for name in names:
        content = rolling_vtt(SPOKEN) if name in rolling else (ROOT / "samples" / "sample.vtt").read_text()
        write(root / "raw" / "src" / name, content)
    return ";".join(f"raw/src/{name}" for name in names)


def yt_info(manual=(), automatic=()):
    entry = [{"ext": "vtt", "url": "https://example.invalid/timedtext"}]
    return {
        "id": "abcdefghijk",
        "subtitles": {lang: entry for lang in manual},
        "automatic_captions": {lang: entry for lang in automatic},
    }


CHOICES = {
    "manual-en-over-auto-en": (
        ["source.en.vtt", "source.en-US.vtt"],
        yt_info(manual=["en-US"], automatic=["en", "en-US", "fr"]),
        ("source.en-US.vtt", "manual"),
    ),
    "same-key-in-both-is-manual": (
        ["source.en.vtt"],
        yt_info(manual=["en"], automatic=["en"]),
        ("source.en.vtt", "manual"),
    ),
    "automatic-captions-only": (
        ["source.en.vtt", "source.en-orig.vtt"],
        yt_info(automatic=["en", "en-orig"]),
        ("source.en.vtt", "auto"),
    ),
    "en-over-other-languages": (
        ["source.de.srt", "source.fr.vtt", "source.en-GB.srt", "source.en.srt"],
        None,
        ("source.en.srt", "manual"),  # the plain code before a region
    ),
    "embedded-eng-is-english": (
        ["source.fre.srt", "source.eng.track3.srt"],
        None,
        ("source.eng.track3.srt", "manual"),
    ),
    "regions-and-variants": (
        ["source.en-GB.vtt", "source.en-orig.vtt"],
        yt_info(manual=["en-GB", "en-orig"]),
        ("source.en-GB.vtt", "manual"),  # then by file name
    ),
    "und-sidecar-is-manual": (
        ["source.und.srt"],
        {"origin": "/videos/talk.mp4", "file_name": "talk.mp4"},
        ("source.und.srt", "manual"),
    ),
    "und-sidecar-over-auto-en": (
        ["source.en.vtt", "source.und.srt"],
        yt_info(automatic=["en"]),
        ("source.und.srt", "manual"),
    ),
    "manual-en-over-und": (
        ["source.und.srt", "source.en.srt"],
        None,
        ("source.en.srt", "manual"),
    ),
    "auto-en-over-manual-other-language": (
        ["source.de.vtt", "source.en.vtt"],
        yt_info(manual=["de"], automatic=["en"]),
        ("source.en.vtt", "auto"),
    ),
    "other-language-as-last-resort": (
        ["source.de.vtt"],
        yt_info(manual=["de"]),
        ("source.de.vtt", "manual"),
    ),
}


@pytest.mark.parametrize("case", list(CHOICES))
def test_pick_subtitles_preference_order(tmp_path, case):
    names, info, (name, kind) = CHOICES[case]
    field = subs(tmp_path, *names)
    assert pick_subtitles(tmp_path, field, info) == (tmp_path / "raw" / "src" / name, kind)
    # the order of the field decides nothing here
    reversed_field = ";".join(reversed(field.split(";")))
    assert pick_subtitles(tmp_path, reversed_field, info) == (tmp_path / "raw" / "src" / name, kind)


def test_rolling_content_makes_a_file_automatic(tmp_path):
    field = subs(tmp_path, "source.en.vtt", rolling=["source.en.vtt"])
    assert pick_subtitles(tmp_path, field, None) == (tmp_path / "raw/src/source.en.vtt", "auto")
    assert pick_subtitles(tmp_path, field, yt_info(manual=["en"])) == (
        tmp_path / "raw/src/source.en.vtt",
        "auto",
    )
    both = subs(tmp_path, "source.en.vtt", "source.und.vtt", rolling=["source.en.vtt"])
    assert pick_subtitles(tmp_path, both, None) == (tmp_path / "raw/src/source.und.vtt", "manual")


def test_missing_broken_and_empty_files_are_passed_over(tmp_path):
    assert pick_subtitles(tmp_path, "", None) is None
    assert pick_subtitles(tmp_path, " ; ", yt_info(automatic=["en"])) is None
    assert pick_subtitles(tmp_path, "raw/src/source.en.vtt", None) is None  # missing
    write(tmp_path / "raw/src/source.en.srt", "not subtitles at all\n")
    write(tmp_path / "raw/src/source.en-GB.vtt", "WEBVTT\n\n")  # no cues
    field = "raw/src/source.en.srt;raw/src/source.en-GB.vtt;raw/src/gone.vtt"
    assert pick_subtitles(tmp_path, field, None) is None
    assert drafts_for_clips(tmp_path, field, None, [("c", 0.0, 10.0)]) == {}
    fallback = subs(tmp_path, "source.de.vtt")
    assert pick_subtitles(tmp_path, f"{field};{fallback}", None) == (
        tmp_path / "raw/src/source.de.vtt",
        "manual",
    )


# -- drafts for real clips --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_cut(tmp_path_factory):
    """The bundled sample pulled (with its sidecar sample.srt and sample.vtt) and cut."""
    ws, _ = init_workspace(tmp_path_factory.mktemp("captions") / "ws", name="captions")
    [pulled] = pull(ws, [str(SAMPLE)], workers=1)
    assert pulled.status == "pulled", pulled
    [result] = cut(ws, workers=1)
    assert result.ok, result
    return ws, pulled.source, ws.read_clips()


def sample_spans(clips):
    return [(c.clip_id, c.start, c.end) for c in clips]


def test_sample_clips_get_exactly_their_cue_text(sample_cut):
    ws, source, clips = sample_cut
    raw = f"raw/{source.source_id}"
    # the sidecar files, then the mov_text track pulled out of the mp4
    assert source.subtitles == f"{raw}/source.und.srt;{raw}/source.und.vtt;{raw}/source.eng.srt"
    assert len(clips) == len(SAMPLE_CUES) == 8
    info = json.loads((ws.raw / source.source_id / "info.json").read_text(encoding="utf-8"))
    expected = {clip.clip_id: (cue.text, "manual") for clip, cue in zip(clips, SAMPLE_CUES, strict=True)}
    for field in (
        source.subtitles,
        f"{raw}/source.und.srt",
        f"{raw}/source.und.vtt",
        f"{raw}/source.eng.srt",
    ):
        assert drafts_for_clips(ws.root, field, info, sample_spans(clips)) == expected
    assert pick_subtitles(ws.root, source.subtitles, info) == (ws.abs(f"{raw}/source.eng.srt"), "manual")
    # the cut wrote the same drafts to manifests/drafts.csv
    written = {r["clip_id"]: (r["transcript_draft"], r["draft_kind"]) for r in read_csv(ws.drafts_csv)}
    assert written == expected


def test_sample_clips_with_the_cues_a_little_off(sample_cut, tmp_path):
    """Captions 0.4 s late or early still give each clip its own sentence only."""
    _, _, clips = sample_cut
    for shift in (-0.4, 0.4):
        lines = ["WEBVTT", ""]
        for cue in SAMPLE_CUES:
            lines += [f"{stamp(cue.start + shift)} --> {stamp(cue.end + shift)}", cue.text, ""]
        write(tmp_path / "raw/x/source.en.vtt", "\n".join(lines))
        drafts = drafts_for_clips(tmp_path, "raw/x/source.en.vtt", None, sample_spans(clips))
        assert [drafts[c.clip_id][0] for c in clips] == [cue.text for cue in SAMPLE_CUES]


def test_rolling_auto_captions_for_clips(youtube_vtt, tmp_path):
    field = "raw/yt-abcdefghijk/source.en.vtt"
    spans = [("a", 0.1, 5.4), ("b", 5.4, 7.6), ("c", 8.9, 13.6), ("d", 13.7, 16.0), ("e", 20.0, 25.0)]
    expected = {
        "a": ("aye it's a dreich morning but the rain should clear", "auto"),
        "b": ("by lunchtime", "auto"),
        "c": ("we're taking the ferry to orkney on saturday", "auto"),
        "d": ("no no no no", "auto"),
    }
    assert drafts_for_clips(tmp_path, field, yt_info(automatic=["en"]), spans) == expected
    assert drafts_for_clips(tmp_path, field, None, spans) == expected  # rolling by its cues alone
    assert drafts_for_clips(tmp_path, field, None, []) == {}


def test_a_cue_between_two_clips_goes_to_the_one_it_overlaps_most(tmp_path):
    """Not half inside either clip, half of neither covered: the larger overlap (1.8 s of b
    against 1.5 s of a) takes it; a cue overlapping no clip is dropped."""
    write(
        tmp_path / "s.srt",
        "1\n00:00:04,000 --> 00:00:08,000\nstraddling\n\n2\n00:00:20,000 --> 00:00:21,000\nlost\n",
    )
    spans = [("a", 0.0, 5.5), ("b", 6.2, 12.0), ("c", 13.0, 19.0)]
    assert draft_for_span(parse_subtitles(tmp_path / "s.srt"), 0.0, 5.5) == ""
    assert draft_for_span(parse_subtitles(tmp_path / "s.srt"), 6.2, 12.0) == ""
    assert drafts_for_clips(tmp_path, "s.srt", None, spans) == {"b": ("straddling", "manual")}


# -- subtitle tracks inside media --------------------------------------------------------------------------
def test_sample_mp4_track_is_extracted(ffmpeg, tmp_path):
    out = tmp_path / "raw" / "file-x"
    written = extract_embedded_subtitles(ffmpeg, SAMPLE, out)
    assert written == [out / "source.eng.srt"]
    assert parse_subtitles(written[0]) == parse_subtitles(ROOT / "samples" / "sample.srt") == SAMPLE_CUES
    assert sorted(p.name for p in out.iterdir()) == ["source.eng.srt"]  # no temporary file left
    # a second run, or a sidecar of the same name, does not overwrite
    again = extract_embedded_subtitles(ffmpeg, SAMPLE, out)
    assert again == [out / "source.eng.track2.srt"]
    assert parse_subtitles(again[0]) == SAMPLE_CUES


def test_mkv_with_several_text_tracks(ffmpeg, tmp_path):
    mkv = tmp_path / "talk.mkv"
    srt, vtt = ROOT / "samples" / "sample.srt", ROOT / "samples" / "sample.vtt"
    subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(SAMPLE), "-i", str(srt), "-i", str(vtt), "-i", str(srt),
         "-map", "0:a", "-map", "1", "-map", "2", "-map", "3",
         "-c:a", "copy", "-c:s:0", "srt", "-c:s:1", "webvtt", "-c:s:2", "ass",
         "-metadata:s:s:0", "language=eng", "-metadata:s:s:1", "language=eng", str(mkv)],
        check=True, capture_output=True,
    )  # fmt: skip
    listing = subprocess.run([ffmpeg, "-hide_banner", "-i", str(mkv)], capture_output=True, text=True).stderr
    assert [s[1:] for s in _subtitle_streams(listing)] == [
        ("eng", "subrip"),
        ("eng", "webvtt"),
        ("und", "ass"),
    ]
    out = tmp_path / "out"
    written = extract_embedded_subtitles(ffmpeg, mkv, out)
    assert [p.name for p in written] == ["source.eng.srt", "source.eng.track2.srt", "source.und.srt"]
    # some ffmpeg builds (5.1) shift every cue by the audio's start offset (64 ms here) when muxing
    for path, tolerance in (
        (written[0], 0.001),
        (written[1], 0.001),
        (written[2], 0.01),
    ):  # ASS: centiseconds
        cues = parse_subtitles(path)
        assert [c.text for c in cues] == [c.text for c in SAMPLE_CUES]
        shift = cues[0].start - SAMPLE_CUES[0].start
        assert abs(shift) <= 0.1
        assert all(
            abs(a.start - b.start - shift) <= tolerance and abs(a.end - b.end - shift) <= tolerance
            for a, b in zip(cues, SAMPLE_CUES, strict=True)
        )
    # the extracted tracks feed drafts like any sidecar
    spans = [(f"c{k}", c.start - 0.2, c.end + 0.2) for k, c in enumerate(SAMPLE_CUES)]
    field = ";".join(p.relative_to(tmp_path).as_posix() for p in written)
    assert pick_subtitles(tmp_path, field, None) == (written[0], "manual")
    assert drafts_for_clips(tmp_path, field, None, spans) == {
        f"c{k}": (c.text, "manual") for k, c in enumerate(SAMPLE_CUES)
    }


def test_media_without_subtitles_gives_nothing(ffmpeg, make_media, tmp_path):
    out = tmp_path / "out"
    wav = make_media("talk.wav")
    mp4 = make_media("talk.mp4", "-c:v", "libx264", "-c:a", "aac", "-shortest", video=True)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(3).bytes(20_000))
    for media in (wav, mp4, junk, tmp_path / "missing.mkv"):
        assert extract_embedded_subtitles(ffmpeg, media, out) == [], media
    assert not out.exists()


FFMPEG_LISTING = """\
Input #0, matroska,webm, from 'film.mkv':
  Duration: 01:30:00.00, start: 0.000000, bitrate: 5000 kb/s
  Stream #0:0: Video: h264 (High), yuv420p(progressive), 1920x1080, 24 fps (default)
  Stream #0:1(eng): Audio: ac3, 48000 Hz, 5.1(side), fltp, 384 kb/s (default)
  Stream #0:2(eng): Subtitle: subrip (srt) (default)
  Stream #0:3(fre): Subtitle: hdmv_pgs_subtitle (pgssub), 1920x1080
  Stream #0:4: Subtitle: ass (ssa)
  Stream #0:5[0x1200](ger): Subtitle: dvb_subtitle ([6][0][0][0] / 0x0006)
  Stream #0:6[0x3](en-GB): Subtitle: mov_text (tx3g / 0x67337874), 0 kb/s
  Stream #0:7(spa): Subtitle: dvd_subtitle (dvdsub), 720x576
  Stream #0:8: Attachment: ttf
At least one output file must be specified
"""


def test_subtitle_streams_are_read_from_the_ffmpeg_listing():
    assert _subtitle_streams(FFMPEG_LISTING) == [
        (2, "eng", "subrip"),
        (3, "fre", "hdmv_pgs_subtitle"),
        (4, "und", "ass"),
        (5, "ger", "dvb_subtitle"),
        (6, "en-GB", "mov_text"),
        (7, "spa", "dvd_subtitle"),
    ]


def test_image_subtitles_are_skipped(tmp_path):
    """A stand-in ffmpeg that lists only image subtitle tracks is never asked to convert them."""
    calls = tmp_path / "calls"
    fake = tmp_path / "ffmpeg"
    listing = "\n".join(
        line for line in FFMPEG_LISTING.splitlines() if re.search(r"pgs|dvb_|dvd_|Video", line)
    )
    fake.write_text(f"#!/bin/sh\necho \"$@\" >> {calls}\ncat >&2 <<'EOF'\n{listing}\nEOF\nexit 1\n")
    fake.chmod(0o755)
    assert extract_embedded_subtitles(str(fake), tmp_path / "film.mkv", tmp_path / "out") == []
    assert calls.read_text().splitlines() == [f"-nostdin -hide_banner -i {tmp_path / 'film.mkv'}"]
