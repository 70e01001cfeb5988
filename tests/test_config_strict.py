"""accentds.toml is read strictly: unknown sections and keys, values of the wrong type and
impossible values are refused, each named with the file, line, section and key."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest
from conftest import run_cli

from accentds.config import Config, LabelSchema, PullSettings, VadSettings
from accentds.config_file import SECTIONS, _keys, load_config, render_config
from accentds.errors import AccentdsError

ROOT = Path(__file__).resolve().parent.parent
RENDERED = render_config("test-corpus")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "accentds.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path: Path, text: str) -> str:
    """The one-line message loading `text` gives."""
    path = write(tmp_path, text)
    with pytest.raises(AccentdsError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message
    return message


def line_of(text: str, needle: str) -> int:
    """The number of the (first) line of `text` holding `needle`."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def edit(old: str, new: str) -> str:
    assert RENDERED.count(old) == 1, old
    return RENDERED.replace(old, new)


# -- what ships loads ---------------------------------------------------------------------
def test_a_fresh_accentds_toml_holds_the_defaults_and_every_setting(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, RENDERED))
    assert config == Config(name="test-corpus", description=config.description)
    assert config.pull == PullSettings(url_timeout_s=1800.0)
    optional = {"ffmpeg", "silero_model"}  # shown commented out: their defaults are not values
    optional.add("license")  # retired: the card's licence comes from the clips
    for section in SECTIONS:
        assert re.search(rf"^\[{section}\]$", RENDERED, re.M), section
        for key in set(_keys(section)) - optional:
            assert re.search(rf"^{key} = ", RENDERED, re.M), f"[{section}] {key} not in the file"


def test_the_repository_accentds_toml_loads_with_the_defaults() -> None:
    config = load_config(ROOT / "accentds.toml")
    assert dataclasses.replace(config, name="corpus", description="") == Config()


def test_an_unknown_licence_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, edit('    "CC-BY-SA-3.0",\n', '    "CC-BY-SA-3.0",\n    "MIT-ish",\n'))
    assert 'allowed_licences holds unknown licence(s) "MIT-ish"' in message
    retired = refused(tmp_path, RENDERED.replace("max_shard_mb = 300", "max_shard_mb = 300\nlicense = true"))
    assert "[publish] license must be a string in quotes (got true)" in retired


def test_a_byte_order_mark_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "accentds.toml"
    path.write_bytes(b"\xef\xbb\xbf" + RENDERED.encode())
    assert load_config(path).name == "test-corpus"


def test_text_not_in_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "accentds.toml"
    path.write_bytes(edit('name = "test-corpus"', 'name = "Cafe\xe9"').encode("latin-1"))
    with pytest.raises(AccentdsError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}, line 5: not UTF-8 text; save the file as UTF-8"


# -- unknown sections and keys ------------------------------------------------------------
def test_a_misspelt_section_is_refused_with_the_allowed_ones(tmp_path: Path) -> None:
    text = edit("\n[vad]\n", "\n[vda]\n")
    message = refused(tmp_path, text)
    line = line_of(text, "[vda]")
    assert f"line {line}: unknown section [vda] (did you mean [vad]?); allowed: [corpus], [audio], [vad]" in (
        message
    )
    assert "[quality], [pull]" in message


def test_a_key_outside_any_section_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, 'name = "x"\n' + RENDERED)
    assert "line 1: name is outside any section" in message


@pytest.mark.parametrize("section", SECTIONS)
def test_an_unknown_key_is_refused_in_every_section(tmp_path: Path, section: str) -> None:
    text = edit(f"\n[{section}]\n", f"\n[{section}]\nspeling = 1\n")
    message = refused(tmp_path, text)
    allowed = ", ".join(sorted(_keys(section)))
    line = line_of(text, "speling")
    assert f"line {line}: unknown [{section}] keys ['speling']" in message
    assert message.endswith(f"; allowed: {allowed}")


@pytest.mark.parametrize(
    ("where", "written"),
    [
        ("\n[report]\n", '\n[publish.extra]\ntags = ["scots"]\n\n[report]\n'),  # a table of its own
        ("\n[report]\n", '\n[[publish.extra]]\ntags = ["scots"]\n\n[report]\n'),  # an array of tables
        ("\nspeaker_names = false", '\nextra.tags = ["scots"]\nspeaker_names = false'),  # a dotted key
    ],
)
def test_an_unknown_table_inside_a_section_is_refused_with_its_line(
    tmp_path: Path, where: str, written: str
) -> None:
    """[publish.extra] (or `extra.tags = ...` under [publish]) is an unknown [publish] key: the
    message gives the line it is written on, as for every other setting."""
    text = edit(where, written)
    message = refused(tmp_path, text)
    line = line_of(text, "extra")
    assert message.startswith(
        f"{tmp_path / 'accentds.toml'}: line {line}: unknown [publish] keys ['extra']"
    ), message
    shown = run_cli("status", cwd=write(tmp_path, text).parent)
    assert shown.returncode == 1
    assert shown.stderr.strip().splitlines() == [f"Error: {message}"]


def test_a_near_miss_key_gets_a_suggestion(tmp_path: Path) -> None:
    message = refused(tmp_path, edit("aggressiveness = 2", "aggressivness = 2"))
    assert "unknown [vad] keys ['aggressivness'] (did you mean aggressiveness?)" in message


def test_sample_rate_under_vad_is_sent_to_audio(tmp_path: Path) -> None:
    message = refused(tmp_path, edit("\n[vad]\n", "\n[vad]\nsample_rate = 16000\n"))
    assert "unknown [vad] keys ['sample_rate'] (sample_rate goes under [audio])" in message


# -- types ----------------------------------------------------------------------------------
def test_a_string_where_a_list_is_wanted_is_refused_not_split_into_letters(tmp_path: Path) -> None:
    start = RENDERED.index("accents = [")
    end = RENDERED.index("]", start) + 1
    text = RENDERED[:start] + 'accents = "Glasgow"' + RENDERED[end:]
    message = refused(tmp_path, text)
    line = line_of(text, 'accents = "Glasgow"')
    assert (
        f'line {line}: [labels] accents must be a list of strings, like ["Glasgow"] '
        '(got the string "Glasgow")' in message
    )


def test_a_list_stays_a_list(tmp_path: Path) -> None:
    start = RENDERED.index("accents = [")
    end = RENDERED.index("]", start) + 1
    text = RENDERED[:start] + 'accents = ["Glasgow", "Fife"]' + RENDERED[end:]
    text = text.replace("speakers = []", 'speakers = ["Morag"]')
    config = load_config(write(tmp_path, text))
    assert config.labels == LabelSchema(accents=("Glasgow", "Fife"), speakers=("Morag",))


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('name = "test-corpus"', "name = 5", "[corpus] name must be a string in quotes (got 5)"),
        ('language = "en"', "language = 1.5", "[corpus] language must be a string in quotes (got 1.5)"),
        (
            "aggressiveness = 2 ",
            "aggressiveness = true ",
            "[vad] aggressiveness must be a whole number (got true)",
        ),
        (
            "aggressiveness = 2 ",
            "aggressiveness = 2.0 ",
            "[vad] aggressiveness must be a whole number (got 2.0)",
        ),
        ("frame_ms = 30 ", 'frame_ms = "30" ', '[vad] frame_ms must be a whole number (got "30")'),
        (
            "max_shard_mb = 300",
            "max_shard_mb = 2.5",
            "[publish] max_shard_mb must be a whole number (got 2.5)",
        ),
        (
            "sample_rate = 16000",
            "sample_rate = 16e3",
            "[audio] sample_rate must be a whole number (got 16000.0)",
        ),
        (
            "music_noise_check = false",
            "music_noise_check = 0",
            "[vad] music_noise_check must be true or false (got 0)",
        ),
        ("train = 0.8 ", "train = false ", "[publish] train must be a number (got false)"),
        ("min_snr_db = 15 ", 'min_snr_db = "15" ', '[quality] min_snr_db must be a number (got "15")'),
        ("min_lufs = -40 ", "min_lufs = -inf ", "[quality] min_lufs must be a finite number (got -inf)"),
        (
            "speakers = []",
            'speakers = ["Morag", 7]',
            "[labels] speakers must be a list of strings (item 2 is 7)",
        ),
        ("speakers = []", "speakers = 3", "[labels] speakers must be a list of strings (got 3)"),
        ("speakers = []", "speakers = {a = 1}", "[labels] speakers must be a list of strings (got a table)"),
        (
            "max_transcript_chars = 2000",
            'max_transcript_chars = "2000"',
            '[labels] max_transcript_chars must be a whole number (got "2000")',
        ),
        (
            "region_targets = {}",
            "region_targets = 60",
            '[report] region_targets must be a table of accent region = minutes, like { "Glasgow" = 60 } (got 60)',
        ),
        (
            "region_targets = {}",
            'region_targets = { "Glasgow" = "60" }',
            '[report] region_targets["Glasgow"] must be a number of minutes (got "60")',
        ),
    ],
)
def test_a_value_of_the_wrong_type_is_refused(tmp_path: Path, old: str, new: str, problem: str) -> None:
    text = edit(old, new)
    message = refused(tmp_path, text)
    assert message == f"{tmp_path / 'accentds.toml'}: line {line_of(text, new)}: {problem}"


def test_region_targets_are_read_as_regions_and_minutes(tmp_path: Path) -> None:
    text = edit("region_targets = {}", 'region_targets = { "Glasgow" = 60, "Highlands & Islands" = 12.5 }')
    config = load_config(write(tmp_path, text))
    assert config.report.region_targets == (("Glasgow", 60.0), ("Highlands & Islands", 12.5))
    assert load_config(write(tmp_path, RENDERED)).report.region_targets == ()


def test_a_whole_number_is_a_number(tmp_path: Path) -> None:
    text = edit("train = 0.8 ", "train = 1 ").replace("validation = 0.1", "validation = 0")
    text = text.replace("test = 0.1", "test = 0").replace("min_clip_s = 0.3", "min_clip_s = 1")
    config = load_config(write(tmp_path, text))
    assert (config.publish.train, config.vad.min_clip_s) == (1.0, 1.0)
    assert isinstance(config.publish.train, float) and isinstance(config.vad.min_clip_s, float)


# -- impossible values ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "target_minutes = 600",
            "target_minutes = -5",
            "[corpus] target_minutes must be more than 0 (got -5)",
        ),
        ("target_minutes = 600", "target_minutes = 0", "[corpus] target_minutes must be more than 0 (got 0)"),
        ('name = "test-corpus"', 'name = " "', "[corpus] name must not be empty"),
        ("padding_ms = 200 ", "padding_ms = -1 ", "[vad] padding_ms must be 0 or more (got -1)"),
        ("min_flux = 0.15 ", "min_flux = -0.1 ", "[vad] min_flux must be 0 or more (got -0.1)"),
        (
            "padding_ms = 200 ",
            "padding_ms = 99999999999 ",
            "[vad] padding_ms must be at most 60000 (one minute; got 99999999999)",
        ),
        (
            "merge_gap_ms = 400 ",
            "merge_gap_ms = 60001 ",
            "[vad] merge_gap_ms must be at most 60000 (one minute; got 60001)",
        ),
        ("aggressiveness = 2 ", "aggressiveness = 7 ", "[vad] aggressiveness must be 0, 1, 2 or 3 (got 7)"),
        ("max_shard_mb = 300", "max_shard_mb = -1", "[publish] max_shard_mb must be more than 0 (got -1)"),
        ("validation = 0.1", "validation = -0.1", "[publish] validation must be 0 or more (got -0.1)"),
        (
            "min_region_minutes = 5 ",
            "min_region_minutes = -1 ",
            "[report] min_region_minutes must be 0 or more (got -1)",
        ),
        (
            "min_bandwidth_hz = 4000",
            "min_bandwidth_hz = -1",
            "[quality] min_bandwidth_hz must be 0 or more (got -1)",
        ),
        (
            "min_lufs = -40 ",
            "min_lufs = 10 ",
            "[quality] min_lufs must be 0 or less: loudness in LUFS is never above 0, full scale (got 10)",
        ),
        ("url_timeout_s = 1800", "url_timeout_s = 0", "[pull] url_timeout_s must be more than 0 (got 0)"),
        ("speakers = []", 'speakers = ["Morag", "Morag"]', '[labels] speakers names "Morag" more than once'),
        ("speakers = []", 'speakers = [""]', "[labels] speakers must not hold an empty name"),
        (
            "max_transcript_chars = 2000",
            "max_transcript_chars = 0",
            "[labels] max_transcript_chars must be more than 0 (got 0)",
        ),
        ("sample_rate = 16000", "sample_rate = 44100", "[audio] sample_rate must be one of 8000, 16000"),
        (
            "region_targets = {}",
            'region_targets = { "Glasgow" = 0 }',
            '[report] region_targets["Glasgow"] must be more than 0 (got 0)',
        ),
        (
            "region_targets = {}",
            'region_targets = { "Glasgo" = 60 }',
            '[report] region_targets names "Glasgo", not an accent region of [labels] accents '
            '(did you mean "Glasgow"?)',
        ),
    ],
)
def test_an_impossible_value_is_refused(tmp_path: Path, old: str, new: str, problem: str) -> None:
    text = edit(old, new)
    message = refused(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'accentds.toml'}: line {line_of(text, new)}: {problem}"), message


@pytest.mark.parametrize(("name", "example"), [("accents", "Glasgow"), ("accent_evidence", "self-described")])
def test_an_empty_label_list_is_refused(tmp_path: Path, name: str, example: str) -> None:
    text = re.sub(rf"\n{name} = \[.*?\]\n", f"\n{name} = []\n", RENDERED, count=1, flags=re.S)
    message = refused(tmp_path, text)
    assert message.endswith(
        f'line {line_of(text, f"{name} = []")}: [labels] {name} must name at least one value, like ["{example}"]'
    ), message


def test_every_problem_is_named_in_one_message_in_the_files_order(tmp_path: Path) -> None:
    text = edit("url_timeout_s = 1800", "url_timeout_s = -1").replace("frame_ms = 30 ", "frame_ms = 25 ")
    text = text.replace('language = "en"', "language = 1").replace("\n[report]\n", "\n[rport]\n")
    message = refused(tmp_path, text)
    lines = [
        line_of(text, needle) for needle in ("language = 1", "frame_ms = 25", "[rport]", "url_timeout_s")
    ]
    assert lines == sorted(lines)
    assert message.startswith(f"{tmp_path / 'accentds.toml'}: line {lines[0]}: ")
    parts = message.split(": ", 1)[1].split("; ")
    assert parts[0] == f"line {lines[0]}: [corpus] language must be a string in quotes (got 1)"
    assert parts[1] == f"line {lines[1]}: [vad] frame_ms must be 10, 20 or 30 (got 25)"
    assert parts[2].startswith(f"line {lines[2]}: unknown section [rport] (did you mean [report]?)")
    assert parts[-1] == f"line {lines[3]}: [pull] url_timeout_s must be more than 0 (got -1)"


# -- at the command line --------------------------------------------------------------------
def test_the_command_prints_one_error_line(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    assert run_cli("init", str(root)).returncode == 0
    toml = root / "accentds.toml"
    text = toml.read_text(encoding="utf-8")
    start = text.index("accents = [")
    text = text[:start] + 'accents = "Glasgow"' + text[text.index("]", start) + 1 :]
    toml.write_text(text, encoding="utf-8")
    done = run_cli("status", cwd=root)
    assert done.returncode == 1
    line = line_of(text, 'accents = "Glasgow"')
    assert done.stderr == (
        f'Error: {toml}: line {line}: [labels] accents must be a list of strings, like ["Glasgow"] '
        '(got the string "Glasgow")\n'
    )


def test_init_refuses_an_impossible_target_and_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    done = run_cli("init", str(root), "--target-minutes", "-5")
    assert done.returncode == 1
    assert done.stderr.startswith("Error: accentds.toml: line 8: [corpus] target_minutes must be more than 0")
    assert "Traceback" not in done.stderr
    assert not (root / "accentds.toml").exists()


def test_the_readme_settings_show_the_default_cut() -> None:
    """The README's settings block gives the [vad] defaults, not values of an older tuning."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Settings (`accentds.toml`)", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    shown = tomllib.loads(block)["vad"]
    defaults = dataclasses.asdict(VadSettings())
    assert shown and {k: defaults[k] for k in shown} == shown
