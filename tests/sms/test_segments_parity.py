"""The reply box's segment counter (inbox/web/static/lib/sms_segments.js) and the server's rule
(inbox/core/sms.py count_segments) agree: the same cases run through both, in one node run,
and the two GSM-7 alphabets are the same. Without node the test skips (fails under
TSUNAGU_TEST_STRICT=1)."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from inbox.core.sms import GSM7_BASIC, GSM7_EXTENSION, count_segments
from tests import skips

STATIC = Path(__file__).resolve().parents[2] / "inbox" / "web" / "static"
MODULE = STATIC / "lib" / "sms_segments.js"

FIXED = [
    "",
    "a" * 160,
    "a" * 161,
    "a" * 306,
    "a" * 307,
    "a" * 159 + "€",  # 161 septets: two parts
    "a" * 152 + "€" + "a",  # the escape pair does not straddle the parts
    "{}[]~|^\\\f€",
    "Hello\r\nTsunagu",
    "あ" * 70,
    "あ" * 71,
    "あ" * 134,
    "あ" * 135,
    "あ" * 66 + "😀" + "あ" * 10,  # a surrogate pair at the boundary goes to the next part
    "😀" * 35,
    "😀" * 36,
    "ご連絡ありがとうございます。担当の者からお返事します。",
    "é" * 161,  # é is GSM-7
    "ê" * 10,  # ê is not
    "ｶﾀｶﾅ",
    "\ud800",  # a lone surrogate: one unit in both
]
POOL = [*"aZ09 .,!?@£$\n€[]{}~^|\\éàÄあア漢ｱ。、ー", "😀", "👍🏽", "𠮷"]


def cases() -> list[str]:
    rng = random.Random(15)
    made = ["".join(rng.choice(POOL) for _ in range(rng.randrange(0, 400))) for _ in range(300)]
    return FIXED + made


def run_node(texts: list[str], tmp_path: Path) -> dict[str, object]:
    node = shutil.which("node")
    if node is None:
        skips.skip_or_fail("node is not installed", "apt-get install nodejs")
    copy = tmp_path / "sms_segments.mjs"  # .mjs: an ES module whatever package.json says
    copy.write_text(MODULE.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "cases.json").write_text(json.dumps(texts), encoding="utf-8")
    script = (
        "const m = await import(process.argv[1]);"
        "const fs = await import('node:fs');"
        "const texts = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));"
        "console.log(JSON.stringify({basic: m.GSM7_BASIC, extension: m.GSM7_EXTENSION,"
        " counts: texts.map((t) => m.countSegments(t))}));"
    )
    done = subprocess.run(
        [node, "--input-type=module", "-e", script, str(copy), str(tmp_path / "cases.json")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout)
    return found


def test_the_console_counts_segments_as_the_server_does(tmp_path: Path) -> None:
    texts = cases()
    js = run_node(texts, tmp_path)
    assert set(str(js["basic"])) == GSM7_BASIC
    assert set(str(js["extension"])) == GSM7_EXTENSION
    counts = js["counts"]
    assert isinstance(counts, list)
    for text, got in zip(texts, counts, strict=True):
        want = count_segments(text)
        assert (got["encoding"], got["units"], got["count"]) == (
            want.encoding.value,
            want.units,
            want.count,
        ), repr(text[:40])


@pytest.mark.parametrize(
    ("text", "count", "per"),
    [("あ" * 70, 1, 70), ("あ" * 71, 2, 67), ("a" * 160, 1, 160), ("a" * 161, 2, 153)],
)
def test_the_counter_says_how_much_one_segment_holds(
    tmp_path: Path, text: str, count: int, per: int
) -> None:
    counts = run_node([text], tmp_path)["counts"]
    assert isinstance(counts, list)
    assert (counts[0]["count"], counts[0]["perSegment"]) == (count, per)
