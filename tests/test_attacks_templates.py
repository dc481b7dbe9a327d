"""Issue 16, item 8: hostile Word templates (``build --modeles DIR``) stop the build cleanly.

An endless loop or recursion, a huge value, an XML entity reading a file: each ends the build with
exit 3 and a French message naming the template, within seconds, with no traceback, leaking nothing,
and every file that was there before (dossier, templates, the previous bundle) is left byte for byte.
The builds run as real processes, with ``DELIBERATION_RENDER_TIMEOUT=2``.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, templates_copy, tree_state
from docx import Document

from deliberation.findings import TemplateError
from deliberation.render import compiled

CLI = [sys.executable, "-m", "deliberation", "build"]
TIMEOUT = "2"  # DELIBERATION_RENDER_TIMEOUT in these builds
SECRET = "SECRET-XXE-7f3a9c"
Run = subprocess.CompletedProcess


def run_build(dossier: Path, out: Path, *args: str, timeout: str = TIMEOUT) -> tuple[Run, float]:
    """``deliberation build DOSSIER -o OUT --sans-pdf ARGS`` in a fresh process: (result, wall seconds)."""
    env = {**os.environ, "DELIBERATION_RENDER_TIMEOUT": timeout}
    start = time.monotonic()
    proc = subprocess.run([*CLI, str(dossier), "-o", str(out), "--sans-pdf", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=300, check=False)
    return proc, time.monotonic() - start


@pytest.fixture
def tree(phase6, tmp_path):
    """The example dossier (phase 6) built once into ``out``, plus a secret file: (dossier, out)."""
    (tmp_path / "secret.txt").write_text(SECRET + "\n", encoding="utf-8")
    out = tmp_path / "out"
    proc, _ = run_build(phase6.root, out)
    assert proc.returncode == 0, proc.stderr
    return phase6.root, out


def attack(tree, tmp_path, templates: Path, timeout: str = TIMEOUT) -> tuple[Run, float]:
    """Build again with ``templates``; check exit 3, no traceback and every earlier file unchanged."""
    dossier, out = tree
    before = tree_state(tmp_path)
    proc, seconds = run_build(dossier, out, "--modeles", str(templates), timeout=timeout)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert tree_state(tmp_path) == before  # nothing changed, nothing added (no temporary folder, no lock)
    return proc, seconds


def names_template(proc: Run, path: Path, message: str) -> None:
    """The error line names ``path`` and says ``message`` (a regular expression)."""
    assert re.search(re.escape(f"ERREUR (template) : {path}: ") + message, proc.stderr), proc.stderr


# ---------------------------------------------------------------------------
# time


ENDLESS = {
    "boucles imbriquées": "{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}{% endfor %}",
    "boucles sur des chaînes": "{% for a in 'x' * 9000000 %}{% for b in 'y' * 9000000 %}{% endfor %}{% endfor %}",
    "petites boucles sans fin": "{% for i in range(99999) %}{% for j in range(99999) %}{% for k in [1] %}"
                                "{% endfor %}{% endfor %}{% endfor %}",
    "récursion exponentielle": "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
                               "{{ f(60) }}",
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(ENDLESS))
def test_endless_template_stops_within_the_time_limit(tree, tmp_path, case):
    templates = templates_copy(tmp_path, "rapport.docx", ENDLESS[case])
    proc, seconds = attack(tree, tmp_path, templates)
    names_template(proc, templates / "rapport.docx", r"rendu arrêté (après 2 s|: plus de .* tours de boucle)")
    assert seconds < 30, seconds  # 2 s of rendering plus start-up; endless without the limit


@pytest.mark.slow
def test_time_limit_applies_in_forked_workers(tmp_path, monkeypatch):
    """A document that runs forever in a worker process is a TemplateError naming its template."""
    path = tmp_path / "modele.docx"
    doc = Document()
    doc.add_paragraph("{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
                      "{% if k > 0 %}{{ f(60) }}{% endif %}{{ k }}")
    doc.save(str(path))
    monkeypatch.setenv("DELIBERATION_RENDER_TIMEOUT", "1")
    monkeypatch.setattr(compiled, "PARALLEL_FROM", 2)
    when = dt.datetime(2024, 12, 9)  # noqa: DTZ001 - a calendar date
    items = [(path, {"k": k}, when) for k in range(20)]  # the first (k = 0) is rendered here, the rest in workers
    start = time.monotonic()
    with pytest.raises(TemplateError, match=re.escape(f"{path}: rendu arrêté après 1 s")):
        compiled.render_many(items, jobs=2)
    assert time.monotonic() - start < 30


def _die(batch):
    os._exit(9)  # a worker killed mid-batch (by the kernel, out of memory…)


def test_killed_worker_is_a_template_error(tmp_path, monkeypatch):
    path = tmp_path / "modele.docx"
    doc = Document()
    doc.add_paragraph("{{ k }}")
    doc.save(str(path))
    monkeypatch.setattr(compiled, "PARALLEL_FROM", 2)
    monkeypatch.setattr(compiled, "_work", _die)  # the forked workers see it too
    when = dt.datetime(2024, 12, 9)  # noqa: DTZ001 - a calendar date
    with pytest.raises(TemplateError, match=re.escape("un processus de rendu s'est arrêté brutalement") + ".*"
                       + re.escape(str(path))):
        compiled.render_many([(path, {"k": k}, when) for k in range(20)], jobs=2)


@pytest.mark.slow
def test_bad_render_timeout_exits_3(tree, tmp_path):
    templates = templates_copy(tmp_path, "rapport.docx", "{{ 1 }}")  # something to render
    proc, _ = attack(tree, tmp_path, templates, timeout="bientôt")
    assert "DELIBERATION_RENDER_TIMEOUT : « bientôt » n'est pas un nombre de secondes positif" in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("case", ["boucles imbriquées", "récursion exponentielle"])
def test_endless_clause_text_stops_within_the_time_limit(tree, tmp_path, case):
    """Clause texts (``templates/clauses/*.md``) are Jinja too: the same limits apply."""
    templates = templates_copy(tmp_path)
    clause = templates / "clauses" / "autres.md"
    clause.write_text(clause.read_text("utf-8") + ENDLESS[case] + "\n", "utf-8")
    proc, seconds = attack(tree, tmp_path, templates)
    assert re.search(re.escape(f"ERREUR (template) : {clause}: ") + r"rendu arrêté (après 2 s|: plus de .* tours)",
                     proc.stderr), proc.stderr
    assert seconds < 30, seconds


# ---------------------------------------------------------------------------
# size


HUGE = {
    "chaîne multipliée": ("{{ 'x' * 30000000000 }}", r"répétition refusée : 30 000 000 000 éléments"),
    "liste multipliée": ("{{ ([1, 2] * 6000000) | length }}", r"répétition refusée"),
    "listes ajoutées": ("{{ ([1] * 9000000) + ([1] * 9000000) }}", r"concaténation refusée"),
    "puissance": ("{{ 9 ** (9 ** 9) }}", r"puissance refusée"),
    "produit d'entiers": ("{{ (2 ** 90000) * (2 ** 90000) }}", r"produit refusé"),
    "largeur de format": ("{{ '%999999999d' % 1 }}", r"format « %999999999 » refusé"),
    "filtre de remplissage": ("{{ 'x' | center(3000000000) }}", r"filtre « center » : taille 3 000 000 000 refusée"),
    "méthode de remplissage": ("{{ 'x'.ljust(3000000000) }}", r"« ljust\(3000000000\) » refusé"),
    "mémoire épuisée": ("{{ '{:30000000000}'.format('x') }}", r"mémoire épuisée pendant le rendu"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(HUGE))
def test_huge_value_exits_3(tree, tmp_path, case):
    paragraph, message = HUGE[case]
    templates = templates_copy(tmp_path, "deliberation.docx", paragraph)
    proc, _ = attack(tree, tmp_path, templates)
    names_template(proc, templates / "deliberation.docx", message)
    assert "MemoryError" not in proc.stderr


# ---------------------------------------------------------------------------
# XML entities


def rewrite_member(path: Path, member: str, change) -> None:
    """Replace member ``member`` of zip ``path`` by ``change(its bytes)``."""
    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, change(data) if info.filename == member else data)
    path.write_bytes(buf.getvalue())


def _entity_in_body(secret: Path):
    def change(data: bytes) -> bytes:
        data = data.replace(b"?>", f'?><!DOCTYPE x [<!ENTITY e SYSTEM "{secret.as_uri()}">]>'.encode(), 1)
        return data.replace(b"</w:body>", b"<w:p><w:r><w:t>&e;</w:t></w:r></w:p></w:body>")
    return change


def _external_dtd(secret: Path):
    return lambda data: data.replace(b"?>", f'?><!DOCTYPE x SYSTEM "{secret.as_uri()}">'.encode(), 1)


def _billion_laughs(secret: Path):
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    return lambda data: data.replace(b"?>", f'?><!DOCTYPE x [<!ENTITY l0 "lol">{lol}]>'.encode(), 1)


def _utf16(secret: Path):
    def change(data: bytes) -> bytes:
        text = _entity_in_body(secret)(data).decode("utf-8")
        text = re.sub(r"encoding=['\"]UTF-8['\"]", 'encoding="UTF-16"', text)
        return text.encode("utf-16")
    return change


XXE = {
    "entité externe dans le corps": ("avenant.docx", "word/document.xml", _entity_in_body),
    "DTD externe dans un pied de page": ("convention.docx", "word/footer1.xml", _external_dtd),
    "entités en cascade dans les styles": ("rapport.docx", "word/styles.xml", _billion_laughs),
    "corps en UTF-16": ("sommaire.docx", "word/document.xml", _utf16),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(XXE))
def test_xml_entity_exits_3_and_leaks_nothing(tree, tmp_path, case):
    name, member, change = XXE[case]
    templates = templates_copy(tmp_path)
    assert member in zipfile.ZipFile(templates / name).namelist()
    rewrite_member(templates / name, member, change(tmp_path / "secret.txt"))
    proc, _ = attack(tree, tmp_path, templates)
    names_template(proc, templates / name, re.escape(f"modèle invalide : {member} : déclaration DOCTYPE interdite"))
    assert SECRET not in proc.stdout + proc.stderr
    assert not any(SECRET.encode() in p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file())
