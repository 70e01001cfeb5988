"""Licences derived from the clips: SPDX ids checked, the card's licence what the clips'
licences give together, refusals where they cannot be combined, and the attribution
CC-BY needs."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import run_cli
from huggingface_hub import DatasetCard
from releasing import NOW, check_against_workspace, front_matter, load, speaker_source

from accentds.errors import AccentdsError
from accentds.labels import set_source_licence
from accentds.licences import combine, credits, normalise, set_attribution
from accentds.publish import publish
from accentds.workspace import Workspace


def _allow(ws: Workspace, *licences: str) -> Workspace:
    config = ws.root / "accentds.toml"
    text = config.read_text(encoding="utf-8")
    listed = "".join(f'    "{name}",\n' for name in licences)
    text = re.sub(r"^allowed_licences = \[\n", lambda m: m.group(0) + listed, text, count=1, flags=re.M)
    config.write_text(text, encoding="utf-8")
    return Workspace(ws.root)


def test_mixed_licences_give_the_right_card(ws: Workspace, tmp_path: Path) -> None:
    hamish = speaker_source(ws, "Hamish")
    set_source_licence(ws, hamish, "cc-by-sa-4.0")  # any spelling of a known id is stored as SPDX
    assert next(s.licence for s in ws.read_sources() if s.source_id == hamish) == "CC-BY-SA-4.0"
    # a local file carries no author or title: the attribution CC-BY-SA asks for cannot be given
    with pytest.raises(AccentdsError, match=rf"source {hamish} is CC-BY-SA-4.0, which requires attribution"):
        publish(ws, "1.0.0")
    done = run_cli(
        "source", "set", hamish, "--author", "Hamish Ross", "--title", "Ferry talk",
        "--url", "https://example.org/ferry", cwd=ws.root,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    release = publish(ws, "1.0.0", now=NOW)
    card = (release.path / "README.md").read_text(encoding="utf-8")
    assert front_matter(card)["license"] == ["cc-by-sa-4.0", "cc0-1.0"]
    assert DatasetCard(card).data.license == ["cc-by-sa-4.0", "cc0-1.0"]  # the Hub's parser agrees
    assert "### Attribution" in card
    assert (
        f"| {hamish} | Ferry talk | Hamish Ross | https://example.org/ferry | "
        "CC-BY-SA-4.0 https://creativecommons.org/licenses/by-sa/4.0/ |" in card
    )
    splits = load(release.path, tmp_path / "cache")
    check_against_workspace(ws, splits)
    assert {r["licence"] for rows in splits.values() for r in rows} == {"CC-BY-SA-4.0", "CC0-1.0"}

    # NonCommercial clips beside ShareAlike ones: refused, saying why and what to do
    ailsa = speaker_source(ws, "Ailsa")
    set_source_licence(ws, ailsa, "CC-BY-NC-4.0")
    set_attribution(ws, ailsa, {"author": "Ailsa", "title": "Fife walk"})
    ws = _allow(ws, "CC-BY-NC-4.0")
    with pytest.raises(
        AccentdsError, match=r"ShareAlike \(CC-BY-SA-4\.0\) and NonCommercial \(CC-BY-NC-4\.0\)"
    ):
        publish(ws, "1.1.0")
    assert not (ws.releases / "1.1.0").exists()


def test_unlicensed_clips_are_stated_not_covered_by_a_licence(ws: Workspace, tmp_path: Path) -> None:
    release = publish(ws, "1.0.0", include_unlicensed=True, now=NOW)
    card = (release.path / "README.md").read_text(encoding="utf-8")
    assert front_matter(card)["license"] == "unknown"
    assert "published with `--include-unlicensed`" in card and "claims no licence (`unknown`)" in card
    check_against_workspace(ws, load(release.path, tmp_path / "cache"))


def test_licences_are_checked_against_the_known_list(ws: Workspace) -> None:
    morag = speaker_source(ws, "Morag")
    with pytest.raises(AccentdsError, match=r"unknown licence 'CC-BY-5\.0': give an SPDX id"):
        set_source_licence(ws, morag, "CC-BY-5.0")
    bad = run_cli("source", "set", morag, "--licence", "free to use", cwd=ws.root)
    assert bad.returncode == 1 and "unknown licence 'free to use'" in bad.stderr
    with pytest.raises(AccentdsError, match="needs its name and link"):
        set_source_licence(ws, morag, "other")
    other = run_cli(
        "source", "set", morag, "--licence", "other", "--licence-name", "Morag's own terms",
        "--licence-url", "https://example.org/terms", "--author", "Morag", "--title", "Morning", cwd=ws.root,
    )  # fmt: skip
    assert other.returncode == 0, other.stderr
    ws = _allow(ws, "other")
    card = (publish(ws, "1.0.0", now=NOW).path / "README.md").read_text(encoding="utf-8")
    meta = front_matter(card)
    assert meta["license"] == ["cc0-1.0", "other"]
    assert meta["license_name"] == "Morag's own terms" and meta["license_link"] == "https://example.org/terms"
    assert normalise("Creative Commons Attribution license (reuse allowed)") == "CC-BY-3.0"  # YouTube's
    with pytest.raises(AccentdsError, match="forbid sharing adaptations"):
        combine(["CC0-1.0", "CC-BY-ND-4.0"])
    assert combine(["CC-BY-NC-SA-4.0", "CC-BY-4.0", "CC0-1.0"]) == ["CC-BY-4.0", "CC-BY-NC-SA-4.0", "CC0-1.0"]


def test_a_downloaded_video_is_credited_from_its_info_json(ws: Workspace) -> None:
    sources = ws.read_sources()
    video = replace(sources[0], source_id="yt-abc123def45", kind="url", origin="https://youtu.be/abc123def45")
    ws.write_sources(
        [*sources, replace(video, licence="Creative Commons Attribution license (reuse allowed)")]
    )
    (ws.raw / video.source_id).mkdir(parents=True)
    info = {
        "title": "Blether",
        "uploader": "Glasgow Voices",
        "webpage_url": "https://www.youtube.com/watch?v=abc",
    }
    (ws.raw / video.source_id / "info.json").write_text(json.dumps(info), encoding="utf-8")
    [credit] = credits(ws, [video.source_id]).values()
    assert (credit.licence, credit.title, credit.author, credit.url) == (
        "CC-BY-3.0", "Blether", "Glasgow Voices", "https://www.youtube.com/watch?v=abc",
    )  # fmt: skip
    assert credit.needs_attribution and credit.complete


def test_an_author_who_is_also_a_hidden_speaker_is_warned_about(ws: Workspace) -> None:
    """A vlogger credited as the author of their own video: with names unpublished, the
    attribution table still names them beside their source, so the release says so (naming
    nobody)."""
    morag = speaker_source(ws, "Morag")
    set_source_licence(ws, morag, "CC-BY-4.0")
    set_attribution(ws, morag, {"author": "morag", "title": "Morning"})
    release = publish(ws, "1.0.0", now=NOW)
    [warning] = [w for w in release.warnings if "also a speaker" in w]
    assert (
        warning.startswith("1 source(s) credit an author who is also a speaker")
        and "morag" not in warning.lower()
    )
    card = (release.path / "README.md").read_text(encoding="utf-8")
    assert "also a speaker of their clips by name" in card


def test_typed_credits_show_as_typed_in_the_card(ws: Workspace) -> None:
    """A title or author (typed, or a video's title from its site) is text in the card: no
    link, emphasis, code or entity of its own, and its link column still a plain address."""
    from markdown_it import MarkdownIt

    hamish = speaker_source(ws, "Hamish")
    set_source_licence(ws, hamish, "CC-BY-4.0")
    title = r"Ferry *talk* [x](https://evil.example) a\|b &amp; `c` ~~d~~ _e_"
    author = "1. <b>Ann</b> \\"
    url = "https://example.org/ferry_talk?a=1&b=2"
    set_attribution(ws, hamish, {"title": title, "author": author, "url": url})
    card = (publish(ws, "1.0.0", now=NOW).path / "README.md").read_text(encoding="utf-8")
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(card)
    row = next(r for r in html.split("<tr>") if f"<td>{hamish}</td>" in r and "creativecommons.org" in r)
    cells = [c.split("</td>")[0] for c in row.split("<td>")[1:]]
    assert cells[1:4] == [
        r"Ferry *talk* [x](https://evil.example) a\|b &amp;amp; `c` ~~d~~ _e_",
        "1. &lt;b&gt;Ann&lt;/b&gt; \\",
        "https://example.org/ferry_talk?a=1&amp;b=2",
    ]
    assert f"| {url} |" in card


def test_a_licence_corrected_since_a_release_is_a_change_the_changelog_tells(ws: Workspace) -> None:
    """A source's licence corrected after a release changes the `licence` of its clips: publish
    refused it as "nothing changed", status had nothing to publish, and the changelog and
    `accentds diff` said nothing of it."""
    publish(ws, "1.0.0", now=NOW)
    hamish = speaker_source(ws, "Hamish")
    set_source_licence(ws, hamish, "CC-BY-4.0")
    set_attribution(
        ws, hamish, {"author": "Hamish Ross", "title": "Ferry talk", "url": "https://example.org/f"}
    )
    status = run_cli("status", cwd=ws.root)
    assert "2 relabelled" in status.stdout and "accentds publish 1.1.0" in status.stdout, status.stdout
    second = publish(ws, "1.1.0")
    card = (second.path / "README.md").read_text(encoding="utf-8")
    assert "2 relabelled (licence 2)" in card
    assert f"`{hamish}-" in card and 'licence: "CC0-1.0" → "CC-BY-4.0"' in card
    shown = run_cli("diff", "1.0.0", "1.1.0", cwd=ws.root)
    assert shown.returncode == 0 and 'licence: "CC0-1.0" → "CC-BY-4.0"' in shown.stdout


def test_a_credit_corrected_since_a_release_is_published_and_told(ws: Workspace) -> None:
    """An author's name corrected after a release was refused as "nothing changed" (--force then
    put "nothing changed" in the card); the card's changelog now names the source credited anew."""
    hamish = speaker_source(ws, "Hamish")
    set_source_licence(ws, hamish, "CC-BY-4.0")
    set_attribution(ws, hamish, {"author": "H. Ross", "title": "Ferry talk", "url": "https://example.org/f"})
    publish(ws, "1.0.0", now=NOW)
    set_attribution(ws, hamish, {"author": "Hamish Ross"})
    card = (publish(ws, "1.1.0").path / "README.md").read_text(encoding="utf-8")
    assert f"Credit corrected (see the attribution table):\n\n- source `{hamish}`" in card
    assert f"| {hamish} | Ferry talk | Hamish Ross | https://example.org/f |" in card
    assert "nothing changed" not in card
    with pytest.raises(AccentdsError, match=r"nothing changed since 1\.1\.0"):
        publish(ws, "1.2.0")
