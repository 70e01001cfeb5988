"""The pure segmenter: speech flags (as strings like "..XXXX..X") in, clips out.

Expectations are worked out by hand in frames (10 ms frames unless said otherwise) and
turned into seconds the way `segment` does: frame * frame_ms / 1000."""

import random
from itertools import pairwise

import numpy as np
import pytest

from accentds.models import Span
from accentds.vad import FrameClip, Segmenter, parse_flags, segment

MS = 10  # frame length used by most tests


def spans(*pairs, ms=MS):
    """Spans in seconds for (start_frame, end_frame) pairs."""
    return [Span(a * ms / 1000, b * ms / 1000) for a, b in pairs]


def seg(flags, **kwargs):
    kwargs.setdefault("frame_ms", MS)
    return segment(flags, **kwargs)


def energies_for(flags, speech=-20.0, pause=-45.0, quiet=(), quiet_db=-70.0):
    """Per-frame energies in dB: speech frames loud, pauses quieter, `quiet` ranges quietest."""
    values = [speech if c == "X" else pause for c in flags]
    for lo, hi in quiet:
        for i in range(lo, hi):
            values[i] = quiet_db
    return values


def frames_of(result, ms=MS):
    """Spans in seconds back to (start_frame, end_frame) pairs."""
    return [(round(s.start * 1000 / ms), round(s.end * 1000 / ms)) for s in result]


# -- parse_flags ---------------------------------------------------------------
def test_parse_flags():
    assert parse_flags("..XxX1.0- ") == [False, False, True, True, True, True] + [False] * 4
    assert parse_flags("") == []
    assert parse_flags("XXX") == [True, True, True]


def test_segment_accepts_a_flag_string_or_a_bool_list():
    text = "..XXXX..X.....XXX"
    assert seg(text) == seg(parse_flags(text)) == spans((2, 6), (8, 9), (14, 17))


# -- plain runs and units ----------------------------------------------------------
def test_plain_runs_each_become_a_clip():
    assert seg("..XXXX..X.....XXX") == spans((2, 6), (8, 9), (14, 17))


def test_frame_length_sets_the_time_unit():
    result = segment("..XXXX....XX", frame_ms=30)
    assert result == spans((2, 6), (10, 12), ms=30)
    assert [(s.start, s.end) for s in result] == [
        (pytest.approx(0.06), pytest.approx(0.18)),
        (pytest.approx(0.30), pytest.approx(0.36)),
    ]


@pytest.mark.parametrize("flags", ["", ".", "." * 500])
def test_all_silence_gives_no_clips(flags):
    assert seg(flags, padding_ms=50, merge_gap_ms=100) == []
    segmenter = Segmenter(MS, 50, 100, 0.0, 10.0)
    assert segmenter.push(parse_flags(flags)) == []
    assert segmenter.finish() == []


# -- merge gap -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("gap_ms", "expected"),
    [
        (0, [(0, 3), (5, 7), (10, 12)]),  # no merging: every pause splits
        (20, [(0, 3), (5, 7), (10, 12)]),  # gap 2: a pause of 2 is not shorter than the gap
        (30, [(0, 7), (10, 12)]),  # gap 3: the pause of 2 stays inside, the pause of 3 splits
        (40, [(0, 12)]),  # gap 4: both pauses are shorter
    ],
)
def test_pauses_shorter_than_the_merge_gap_stay_in_one_clip(gap_ms, expected):
    #       0  3 5 7  10 12
    flags = "XXX..XX...XX"
    assert seg(flags, merge_gap_ms=gap_ms) == spans(*expected)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ("XX...XX", [(0, 3), (3, 7)]),  # pause of 3 = gap: split, the padding meets at 3
        ("XX..XX", [(0, 6)]),  # pause of 2 < gap: one clip
        ("XX....XX", [(0, 4), (4, 8)]),
    ],
)
def test_merge_gap_when_the_padding_is_wider_than_the_gap(flags, expected):
    # gap 3 frames, padding 3 frames: the group is decided when the next speech starts
    assert seg(flags, merge_gap_ms=30, padding_ms=30) == spans(*expected)


# -- padding -----------------------------------------------------------------------------
def test_padding_is_clamped_at_the_start_and_at_the_end():
    # runs (1, 3) and (9, 11) in 12 frames, padding 3 frames
    assert seg(".XX......XX.", padding_ms=30) == spans((0, 6), (6, 12))
    # the clamps alone: 1 frame of room before, 1 after
    assert seg(".XXXX.", padding_ms=30) == spans((0, 6))


def test_padding_of_neighbours_meets_at_the_middle_of_the_pause():
    # pause (3, 7) of 4 frames is shorter than twice the padding (6): both clips stop at 5
    assert seg(".XX....XX.", padding_ms=30) == spans((0, 5), (5, 10))
    # odd pause (2, 7): the middle 4.5 rounds down to 4
    assert seg("XX.....XX", padding_ms=40) == spans((0, 4), (4, 9))


def test_padding_is_whole_when_the_pause_is_long_enough():
    # pause (3, 13) of 10 frames: padding 2 on both sides, a gap of 6 frames stays out
    assert seg(".XX..........XX.", padding_ms=20) == spans((0, 5), (11, 16))
    assert seg("..XX......XX..", padding_ms=20) == spans((0, 6), (8, 14))


def test_padding_with_merge_gap_pads_the_group_not_its_runs():
    # runs (4, 6) and (8, 10) merge (pause 2 < gap 3); the group gets padding 2 outside only
    assert seg("....XX..XX....", padding_ms=20, merge_gap_ms=30) == spans((2, 12))


# -- minimum clip ---------------------------------------------------------------------
def test_short_blips_are_dropped():
    #        0    5    10   15
    flags = "X....XXXXX....XX......XXX..."
    assert seg(flags, min_clip_s=0.03) == spans((5, 10), (22, 25))  # 3 frames: kept (not shorter)
    assert seg(flags, min_clip_s=0.04) == spans((5, 10))
    assert seg(flags, min_clip_s=0.0) == spans((0, 1), (5, 10), (14, 16), (22, 25))


def test_minimum_counts_the_padding():
    # the 2-frame blip (14, 16) is 4 frames with one frame of padding each side
    flags = "X....XXXXX....XX......XXX..."
    assert seg(flags, min_clip_s=0.02, padding_ms=10) == spans((0, 2), (4, 11), (13, 17), (21, 26))
    assert seg(flags, min_clip_s=0.04, padding_ms=10) == spans((4, 11), (13, 17), (21, 26))
    assert seg(flags, min_clip_s=0.05, padding_ms=10) == spans((4, 11), (21, 26))


# -- maximum clip: split at the quietest pause ---------------------------------------
# runs (0,30) (35,65) (70,100) (105,130): one group of 130 frames with pauses (30,35) (65,70)
# (100,105), then 20 frames of silence; the maximum is 100 frames (1 s)
LONG_GROUP = "X" * 30 + "." * 5 + "X" * 30 + "." * 5 + "X" * 30 + "." * 5 + "X" * 25 + "." * 20
PAUSES = [(30, 35), (65, 70), (100, 105)]


@pytest.mark.parametrize(
    ("quiet", "expected"),
    [
        (0, [(0, 30), (35, 130)]),
        (1, [(0, 65), (70, 130)]),
        (2, [(0, 100), (105, 130)]),  # (0, 100) is exactly the maximum: not split further
    ],
)
def test_long_group_is_split_at_its_quietest_pause(quiet, expected):
    energies = energies_for(LONG_GROUP, quiet=[PAUSES[quiet]])
    result = seg(LONG_GROUP, merge_gap_ms=100, max_clip_s=1.0, costs=energies)
    assert result == spans(*expected)


def test_group_within_the_maximum_is_not_split():
    energies = energies_for(LONG_GROUP, quiet=[PAUSES[1]])
    assert seg(LONG_GROUP, merge_gap_ms=100, max_clip_s=1.3, costs=energies) == spans((0, 130))


def test_split_clips_share_the_pause_padding_at_its_middle():
    # padding 3 frames: the quiet pause (65, 70) is shorter than 6 frames, both meet at 67
    energies = energies_for(LONG_GROUP, quiet=[PAUSES[1]])
    result = seg(LONG_GROUP, merge_gap_ms=100, padding_ms=30, max_clip_s=1.0, costs=energies)
    assert result == spans((0, 67), (67, 133))


def test_padding_counts_towards_the_maximum():
    # with padding 3, (35, 130) plus padding is 101 frames: it is split again at its middle
    # pause (65, 70) (equally quiet as (100, 105), but more central)
    energies = energies_for(LONG_GROUP, quiet=[PAUSES[0]])
    result = seg(LONG_GROUP, merge_gap_ms=100, padding_ms=30, max_clip_s=1.0, costs=energies)
    assert result == spans((0, 32), (32, 67), (67, 133))


def test_without_energies_the_most_central_pause_wins():
    # all pauses equally quiet and long: (65, 70) is nearest the middle 65
    assert seg(LONG_GROUP, merge_gap_ms=100, max_clip_s=1.0) == spans((0, 65), (70, 130))


# runs (0,40) (43,80) (86,120): pause A (40,43) is 3 frames and nearer the middle (60) than
# pause B (80,86) of 6 frames
TWO_PAUSES = "X" * 40 + "." * 3 + "X" * 37 + "." * 6 + "X" * 34 + "." * 10


def test_longest_pause_wins_among_equally_quiet_ones():
    energies = energies_for(TWO_PAUSES, pause=-50.0)
    result = seg(TWO_PAUSES, merge_gap_ms=100, max_clip_s=1.0, costs=energies)
    assert result == spans((0, 80), (86, 120))


def test_quieter_pause_beats_a_longer_one():
    energies = energies_for(TWO_PAUSES, pause=-50.0, quiet=[(40, 43)])
    result = seg(TWO_PAUSES, merge_gap_ms=100, max_clip_s=1.0, costs=energies)
    assert result == spans((0, 40), (43, 120))


def test_most_central_pause_wins_among_equally_quiet_and_long_ones():
    flags = "X" * 40 + "." * 6 + "X" * 34 + "." * 6 + "X" * 34 + "." * 10  # pauses (40,46) (80,86)
    energies = energies_for(flags, pause=-50.0)
    assert seg(flags, merge_gap_ms=100, max_clip_s=1.0, costs=energies) == spans((0, 40), (46, 120))


# runs (0,10) (15,80) (85,120): the quietest pause (10,15) would leave a 10-frame piece
EDGE_PAUSE = "X" * 10 + "." * 5 + "X" * 65 + "." * 5 + "X" * 35 + "." * 10


def test_split_prefers_a_pause_that_keeps_both_pieces_above_the_minimum():
    energies = energies_for(EDGE_PAUSE, quiet=[(10, 15)])
    result = seg(EDGE_PAUSE, merge_gap_ms=100, min_clip_s=0.3, max_clip_s=1.0, costs=energies)
    assert result == spans((0, 80), (85, 120))


def test_split_takes_the_quietest_pause_when_there_is_no_minimum():
    energies = energies_for(EDGE_PAUSE, quiet=[(10, 15)])
    result = seg(EDGE_PAUSE, merge_gap_ms=100, max_clip_s=1.0, costs=energies)
    # (15, 120) is still longer than 100 frames and splits at its only pause
    assert result == spans((0, 10), (15, 80), (85, 120))


def test_no_clip_exceeds_the_maximum_in_a_long_chatty_group():
    rng = random.Random(7)
    flags = "".join("X" * rng.randint(3, 40) + "." * rng.randint(1, 9) for _ in range(60))
    energies = [rng.uniform(-60, -10) for _ in flags]
    result = seg(flags, merge_gap_ms=100, padding_ms=30, max_clip_s=0.8, costs=energies)
    frames = frames_of(result)
    assert len(frames) > 10
    assert all(b - a <= 80 for a, b in frames)
    assert all(b1 <= a2 for (_, b1), (a2, _) in pairwise(frames))
    covered = set().union(*(range(a, b) for a, b in frames))
    assert {i for i, c in enumerate(flags) if c == "X"} <= covered  # no minimum: no speech lost


# -- maximum clip: one run of speech with no pause ------------------------------------
# one run (10, 160) of 150 frames
ONE_RUN = "." * 10 + "X" * 150 + "." * 10


def test_run_without_pause_is_split_at_its_quietest_frame():
    energies = energies_for(ONE_RUN, quiet=[(90, 91)], quiet_db=-60.0)
    assert seg(ONE_RUN, max_clip_s=1.0, costs=energies) == spans((10, 90), (90, 160))
    # padding stays outside; the cut itself gets none, so the clips meet at frame 90
    result = seg(ONE_RUN, max_clip_s=1.0, padding_ms=20, costs=energies)
    assert result == spans((8, 90), (90, 162))


def test_run_without_pause_or_energies_is_split_in_the_middle():
    assert seg(ONE_RUN, max_clip_s=1.0) == spans((10, 85), (85, 160))


def test_very_long_run_is_cut_from_its_head_as_it_streams():
    """A group longer than 3 x max is not held whole: its first 2 x max frames are split
    (here halved into two full-length pieces) and the first piece returned at once; the
    last 3 x max frames are split at the end, halving until every piece fits."""
    expected = [(k * 100, (k + 1) * 100) for k in range(7)] + [
        (700, 775),
        (775, 850),
        (850, 925),
        (925, 1000),
    ]
    assert seg("X" * 1000, max_clip_s=1.0) == spans(*expected)
    segmenter = Segmenter(MS, 0, 0, 0.0, 1.0)
    assert segmenter.push(parse_flags("X" * 300)) == []
    assert segmenter.push(parse_flags("X")) == [FrameClip(0, 100, 100)]
    assert segmenter.keep_from == 100


# -- speech at the edges ----------------------------------------------------------------
def test_speech_running_through_the_last_frame_ends_exactly_at_the_end():
    assert seg("....XXXX") == spans((4, 8))
    assert seg("....XXXX", padding_ms=30) == spans((1, 8))
    assert seg("XXXX", padding_ms=50) == spans((0, 4))
    segmenter = Segmenter(MS, 30, 0, 0.0, 10.0)
    assert segmenter.push(parse_flags("....XXXX")) == []  # the group is still open
    assert segmenter.finish() == [FrameClip(1, 8, 4)]
    assert segmenter.finish() == []


# -- pauses where the VAD is unsure ---------------------------------------------------------
# 10 ms frames, merge gap 5 frames: two words with a pause of 8 frames between them
WORDS = "X" * 20 + "." * 8 + "X" * 20 + "." * 30


@pytest.mark.parametrize(
    ("soft", "expected"),
    [
        ("", [(0, 20), (28, 48)]),  # a plain pause of 8 parts them
        ("." * 20 + "s" * 8, [(0, 48)]),  # unsure all through: one clip
        ("." * 20 + "s" * 4, [(0, 48)]),  # 4 sure pause frames, under the gap of 5
        ("." * 20 + "s" * 3, [(0, 20), (28, 48)]),  # 5 sure pause frames: parted
    ],
)
def test_a_pause_the_vad_is_unsure_of_does_not_part_two_words(soft, expected):
    soft_flags = [c == "s" for c in soft.ljust(len(WORDS), ".")]
    assert seg(WORDS, merge_gap_ms=50, soft=soft_flags) == spans(*expected)


def test_an_unsure_pause_of_a_second_or_more_parts_two_words():
    flags = "X" * 20 + "." * 100 + "X" * 20 + "." * 10
    soft = [c == "." for c in flags]
    assert seg(flags, merge_gap_ms=50, soft=soft) == spans((0, 20), (120, 140))
    assert seg(flags[:20] + flags[21:], merge_gap_ms=50, soft=soft[1:]) == spans((0, 139))


def test_an_unsure_pause_waits_for_the_words_after_it_in_any_pieces():
    flags = parse_flags(WORDS)
    soft = [20 <= i < 28 for i in range(len(flags))]
    for cut_at in range(len(flags) + 1):
        segmenter = Segmenter(MS, 0, 50, 0.0, 10.0)
        got = segmenter.push(flags[:cut_at], None, soft[:cut_at])
        got += segmenter.push(flags[cut_at:], None, soft[cut_at:]) + segmenter.finish()
        assert got == [FrameClip(0, 48, 40)], cut_at


# -- the incremental Segmenter ---------------------------------------------------------------
def test_frame_clip_counts_speech_frames():
    segmenter = Segmenter(MS, 20, 30, 0.0, 10.0)
    clips = segmenter.push(parse_flags("..XX..XXX.......")) + segmenter.finish()
    assert clips == [FrameClip(0, 11, 5)]
    assert clips[0].speech_ratio == 5 / 7  # from the first speech frame to the last: no padding


def test_a_one_word_clip_is_all_speech_whatever_its_padding():
    segmenter = Segmenter(MS, 200, 400, 0.0, 10.0)  # a word of 0.3 s, 0.2 s padding each side
    [clip] = segmenter.push(parse_flags("." * 40 + "X" * 30 + "." * 60)) + segmenter.finish()
    assert clip.end - clip.start == 70 and clip.speech_ratio == 1.0


def test_push_returns_a_clip_as_soon_as_no_later_frame_can_change_it():
    segmenter = Segmenter(MS, 0, 30, 0.0, 10.0)  # gap 3
    assert segmenter.push(parse_flags("XXXX..")) == []  # a pause of 2 may still be merged
    assert segmenter.push([False]) == [FrameClip(0, 4, 4)]
    assert segmenter.push(parse_flags("..XX")) == []
    assert segmenter.finish() == [FrameClip(9, 11, 2)]

    padded = Segmenter(MS, 20, 30, 0.0, 10.0)  # gap 3, padding 2: waits for 4 silent frames
    assert padded.push(parse_flags("XXXX...")) == []
    assert padded.push([False]) == [FrameClip(0, 6, 4)]


def test_keep_from_follows_the_open_group():
    segmenter = Segmenter(MS, 20, 30, 0.0, 10.0)  # padding 2, gap 3
    assert segmenter.keep_from == 0
    assert segmenter.push(parse_flags("......")) == []
    assert segmenter.keep_from == 4  # a clip may still start 2 frames before the next frame
    assert segmenter.push(parse_flags("XXX")) == []
    assert segmenter.keep_from == 4  # the open group (6, 9) starts at 6, its padding at 4
    assert segmenter.push(parse_flags("....")) == [FrameClip(4, 11, 3)]
    assert segmenter.keep_from == 11
    assert segmenter.push(parse_flags("X")) == []
    assert segmenter.keep_from == 11
    assert segmenter.finish() == [FrameClip(11, 14, 1)]


@pytest.mark.parametrize(
    "flags",
    ["..XXXX..X.....XXX", "XX.X..XXXXXXXX...X.X.X..XXXXX.", "." * 7 + "X" * 23 + ".X" * 9],
)
def test_pushing_in_pieces_gives_the_same_clips_as_one_push(flags):
    settings = (MS, 20, 30, 0.04, 0.12)
    energies = [float(-(i * 7 % 40)) for i in range(len(flags))]
    whole = Segmenter(*settings)
    expected = whole.push(parse_flags(flags), energies) + whole.finish()
    assert expected  # the cases do make clips
    for cut_at in range(len(flags) + 1):
        parts = Segmenter(*settings)
        got = parts.push(parse_flags(flags[:cut_at]), energies[:cut_at])
        got += parts.push(parse_flags(flags[cut_at:]), np.array(energies[cut_at:]))
        assert got + parts.finish() == expected, cut_at
    single = Segmenter(*settings)
    got = []
    for i, c in enumerate(flags):
        got += single.push([c == "X"], [energies[i]])
    assert got + single.finish() == expected


def _random_flags(rng, n):
    flags, state = [], rng.random() < 0.5
    while len(flags) < n:
        flags += [state] * rng.randint(1, 40)
        state = not state
    return flags[:n]


def test_incremental_matches_batch_on_random_flags():
    """Property test: random flags, energies, settings and push sizes (fixed seed)."""
    rng = random.Random(20240521)
    checked = 0
    for trial in range(1500):
        n = rng.randint(0, 400)
        flags = _random_flags(rng, n)
        energies = [rng.choice([-60.0, -45.0, -30.0, -20.0]) for _ in range(n)]
        soft = [rng.random() < 0.3 for _ in range(n)] if trial % 2 else None
        pad, gap, min_len = rng.randint(0, 8), rng.randint(0, 20), rng.randint(0, 30)
        # the maximum must exceed twice the padding (see test_padding_of_half_the_maximum_...)
        max_len = rng.randint(max(min_len, 2 * pad + 1, 2), 120)
        settings = (MS, pad * MS, gap * MS, min_len * MS / 1000, max_len * MS / 1000)
        batch = Segmenter(*settings)
        expected = batch.push(flags, energies, soft) + batch.finish()

        segmenter = Segmenter(*settings)
        got, kept_from, i = [], 0, 0
        while i < n:
            step = rng.randint(1, 50)
            new = segmenter.push(flags[i : i + step], energies[i : i + step], soft and soft[i : i + step])
            assert all(c.start >= kept_from for c in new), (trial, new, kept_from)
            got += new
            assert segmenter.keep_from >= kept_from  # the buffer only ever drops from the front
            kept_from = segmenter.keep_from
            assert kept_from <= segmenter.frames
            i += step
        last = segmenter.finish()
        assert all(c.start >= kept_from for c in last), (trial, last, kept_from)
        got += last
        assert got == expected, trial

        end = 0
        for clip in got:
            assert end <= clip.start < clip.end <= n, (trial, clip)  # ordered, no overlap
            assert max(min_len, 1) <= clip.end - clip.start <= max_len, (trial, clip, settings)
            assert clip.speech_frames == sum(flags[clip.start : clip.end])
            end = clip.end
        if min_len == 0:  # nothing dropped: every speech frame is in a clip
            covered = set().union(*(range(c.start, c.end) for c in got)) if got else set()
            assert {j for j, f in enumerate(flags) if f} <= covered, trial
        checked += len(got)
    assert checked > 1000


# -- known bugs ----------------------------------------------------------------------------
def test_padding_of_half_the_maximum_or_more_does_not_crash():
    # padding 3 frames, maximum 6 frames (valid VadSettings: max_clip_s >= 2 frames)
    result = segment(".....XXXX.....", frame_ms=30, padding_ms=90, max_clip_s=0.18)
    frames = frames_of(result, ms=30)
    assert frames and all(b - a <= 6 for a, b in frames)
    assert set(range(5, 9)) <= set().union(*(range(a, b) for a, b in frames))


def test_split_inside_a_run_keeps_pieces_above_the_minimum():
    # run (100, 250), padding 10, minimum 50, maximum 100, the quietest frame at 130: cutting
    # there leaves 30 + 10 frames, under the minimum. A cut at 140..210 keeps every piece.
    flags = "." * 100 + "X" * 150 + "." * 150
    energies = energies_for(flags, quiet=[(130, 131)], quiet_db=-60.0)
    result = seg(flags, padding_ms=100, min_clip_s=0.5, max_clip_s=1.0, costs=energies)
    frames = frames_of(result)
    assert all(50 <= b - a <= 100 for a, b in frames)
    assert set(range(100, 250)) <= set().union(*(range(a, b) for a, b in frames))


def test_split_at_a_pause_keeps_pieces_above_the_minimum():
    # runs A (100,131) B (143,193) C (205,265), pauses of 12 frames (gap 15 merges them),
    # padding 10, minimum 50, maximum 120. Splitting at the quieter pause after A leaves
    # A with 10 + 31 + 6 = 47 frames (dropped); splitting after B keeps everything.
    flags = "." * 100 + "X" * 31 + "." * 12 + "X" * 50 + "." * 12 + "X" * 60 + "." * 100
    energies = energies_for(flags, quiet=[(131, 143)])
    result = seg(flags, padding_ms=100, merge_gap_ms=150, min_clip_s=0.5, max_clip_s=1.2, costs=energies)
    frames = frames_of(result)
    assert all(50 <= b - a <= 120 for a, b in frames)
    assert set(range(100, 131)) <= set().union(*(range(a, b) for a, b in frames))
