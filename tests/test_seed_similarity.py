"""Issue 3: the generated délibération and rapport follow the seed's wording (difflib ratio).

Every remaining difference is listed on purpose in fixtures/phase-6-2024/README.md.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

from deliberation import pipeline
from deliberation.render.inspect import docx_text, typed
from deliberation.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seeds" / "004_3eda40cb78383031.txt"


def _norm(text: str) -> list[str]:
    text = typed(text)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"\^\{(ème|ère|er)\}", r"\1", text).replace("**", "").replace("\t", " | ")
    lines = (re.sub(r"\s+", " ", line).strip().removeprefix("- ") for line in text.splitlines())
    return [x for x in lines if x and x not in ("--", ".....")]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("p6") / "out"
    assert pipeline.build(Settings(source=ROOT / "fixtures" / "phase-6-2024", out_dir=out)).written
    return out


@pytest.mark.skipif(not SEED.exists(), reason="shared/seeds not beside the checkout")
@pytest.mark.parametrize(("stem", "first", "last", "minimum"), [
    ("02-deliberation", 1, 119, 0.99),
    ("01-rapport", 937, 1005, 0.99),
])
def test_generated_text_follows_the_seed(bundle, stem, first, last, minimum):
    seed = _norm("\n".join(SEED.read_text(encoding="utf-8").splitlines()[first - 1:last]))
    ours = _norm(docx_text(bundle / f"{stem}.docx"))
    ratio = difflib.SequenceMatcher(None, "\n".join(seed), "\n".join(ours), autojunk=False).ratio()
    print(f"{stem}: similarity with seed lines {first}-{last} = {ratio:.3f}")
    assert ratio >= minimum
    changed = [x for x in difflib.ndiff(seed, ours) if x[:1] in "+-"]
    # the corrected mistakes show up as differences, with the right figure
    assert any("59 200" in x for x in changed if x.startswith("+"))
    assert not any("59 220" in x for x in changed if x.startswith("+"))
