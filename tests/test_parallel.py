"""Two processes for one check (issue 23): the same findings, in the same order, as one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from generate import generate  # noqa: E402


def _python(code: str, env: dict | None = None) -> str:
    """Run ``code`` in a fresh interpreter (one thread: forking allowed there, unlike in a test worker)."""
    run = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         env={**os.environ, "DELIBERATION_CACHE": "", **(env or {})}, cwd=ROOT, check=False)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_a_split_runs_each_share_in_its_process_and_keeps_the_order():
    """Verify that the child's tasks run in another process and that both lists come back in their order."""
    out = json.loads(_python("""
        import json, os
        from deliberation.parallel import run_split
        here, there = run_split([lambda n=n: (n, os.getpid()) for n in range(3)],
                                [lambda n=n: (n, os.getpid()) for n in range(3, 7)])
        print(json.dumps([here, there, os.getpid()]))
    """))
    here, there, me = out
    assert [n for n, _ in here] == [0, 1, 2] and [n for n, _ in there] == [3, 4, 5, 6]
    assert {pid for _, pid in here} == {me}
    assert len({pid for _, pid in there}) == 1 and there[0][1] != me


@pytest.mark.parametrize("failure", ["raise ValueError('x')", "os.kill(os.getpid(), 9)", "return lambda: 0"])
def test_a_child_that_fails_leaves_its_tasks_to_this_process(failure):
    """Verify that a child that raises, is killed or returns what pickle refuses: its tasks run here, same results."""
    out = json.loads(_python(f"""
        import json, os
        from deliberation.parallel import run_split
        me = os.getpid()
        def fails():
            if os.getpid() != me:
                {failure}
            return "done here"
        print(json.dumps(run_split([lambda: 1], [lambda: 2, fails])))
    """))
    assert out == [[1], [2, "done here"]]


def test_one_process_when_asked_or_when_threads_run():
    """Verify that ``DELIBERATION_JOBS=1`` and a second thread keep every task in this process."""
    code = """
        import json, os, threading
        from deliberation.parallel import run_split
        if {thread}:
            threading.Thread(target=threading.Event().wait, args=(5,), daemon=True).start()
        print(json.dumps([*run_split([os.getpid], [os.getpid]), [os.getpid()]]))
    """
    here, there, me = json.loads(_python(code.format(thread=False), {"DELIBERATION_JOBS": "1"}))
    assert here == there == me
    here, there, me = json.loads(_python(code.format(thread=True)))
    assert here == there == me


CHECK = """
    import json, os, sys
    from pathlib import Path
    from deliberation import parallel, pipeline
    from deliberation.findings import format_finding
    from deliberation.settings import Settings
    forks = []
    fork = os.fork
    def counted():
        forks.append(1)
        return fork()
    parallel.os.fork = counted
    import deliberation.load.yaml
    deliberation.load.yaml.idle_core = lambda: True  # the files shared whatever the machine's load
    checked = pipeline.check(Settings(source=Path(sys.argv[1])))
    print(json.dumps({"forks": len(forks), "findings": [format_finding(f) for f in checked.findings]}))
"""


@pytest.mark.slow
def test_a_big_dossier_checked_in_two_processes_has_the_findings_of_one(tmp_path):
    """Verify that on 1 500 lines (files parsed and rules run in two processes) the findings are those of one.

    The dossier carries findings from both sides: a key unknown in a file parsed by the child and in one
    parsed here, a misspelt word and a misspelt structure name (rules run by the child).
    """
    root = generate(tmp_path / "big", 1500, 150)
    t1, t3 = root / "thematiques" / "t1.yaml", root / "thematiques" / "t3.yaml"
    t1.write_text(t1.read_text(encoding="utf-8").replace("        montant: 0\n", "        montnt: 0\n", 1),
                  encoding="utf-8")
    t3.write_text(t3.read_text(encoding="utf-8").replace(
        "narrative: |\n  Thématique générée pour le banc d'essai.",
        "narrative: |\n  Thématique générée pour le banc d'esai, avec la Structure fictve 12.", 1), encoding="utf-8")
    structures = root / "structures.yaml"
    structures.write_text(structures.read_text(encoding="utf-8").replace("    siege:", "    sige:", 1),
                          encoding="utf-8")
    path = tmp_path / "check.py"
    path.write_text(textwrap.dedent(CHECK), encoding="utf-8")

    def check(jobs: str) -> dict:
        run = subprocess.run([sys.executable, str(path), str(root)], capture_output=True, text=True, cwd=ROOT,
                             env={**os.environ, "DELIBERATION_CACHE": "", "DELIBERATION_JOBS": jobs,
                                  "PYTHONHASHSEED": "0"}, check=False)  # Grammalecte orders ties by hash
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)

    two, one = check(""), check("1")
    assert two["forks"] == 2 and one["forks"] == 0  # the files, then the rules
    assert two["findings"] == one["findings"]
    codes = {f.rsplit("[", 1)[1] for f in two["findings"]}
    assert {"schema.cle_inconnue]", "orthographe.mot]", "nom.graphie]"} <= codes
    assert sum("montnt" in f or "sige" in f for f in two["findings"]) == 2
