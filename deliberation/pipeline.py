"""The pipeline, top to bottom: load → amend → compute → validate → render → write.

Figures are computed before validation because declared figures are checked against them
(beancount's balance assertions); computing is pure and tolerant of invalid values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deliberation.acts import Act, plan_acts
from deliberation.amend import Effect, apply_amendments, check_overruns
from deliberation.bundle.write import write_bundle
from deliberation.compute import Figures, compute
from deliberation.findings import Finding, has_errors, sort_findings
from deliberation.load import load_dispositifs, load_dossier
from deliberation.model import Dispositif, Dossier
from deliberation.rules import RuleInput, run_rules
from deliberation.rules.acts import check_acts
from deliberation.settings import Settings


@dataclass
class Checked:
    """A loaded and validated dossier with its figures and every finding."""

    dossier: Dossier | None  # as adopted: amendments applied
    figures: Figures | None
    dispositifs: dict[str, Dispositif] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    acts: list[Act] = field(default_factory=list)
    presented: Dossier | None = None  # as presented in the rapport (the same object without amendments)
    presented_figures: Figures | None = None
    effects: list[Effect] = field(default_factory=list)  # what each adopted amendment touched


def check(settings: Settings) -> Checked:
    """Load, compute and validate a dossier; collect all findings (never raises on bad input)."""
    dossier, findings = load_dossier(settings.source)
    dispositifs, sheet_findings = load_dispositifs(*settings.catalogue_dirs())
    findings += sheet_findings
    if dossier is None:
        return Checked(None, None, dispositifs, sort_findings(findings))
    presented, presented_figures = dossier, compute(dossier)
    dossier, amend_findings, effects = apply_amendments(presented)  # the phase as adopted
    findings += amend_findings
    figures = compute(dossier) if effects else presented_figures
    findings += check_overruns(presented_figures, figures, effects)
    findings += run_rules(RuleInput(dossier, figures, dispositifs, presented, presented_figures))
    acts = plan_acts(dossier, dispositifs)  # one avenant or convention per (structure, convention) pair
    findings += check_acts(dossier, acts, dispositifs, final=settings.final)
    return Checked(dossier, figures, dispositifs, sort_findings(findings), acts, presented, presented_figures,
                   effects)


@dataclass
class Built:
    """The outcome of a build: the checked dossier and the files written (none if blocked)."""

    checked: Checked
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def written(self) -> bool:
        """True when the bundle was written."""
        return bool(self.files)


def build(settings: Settings) -> Built:
    """Check, then render every document in memory, then write them all at once (atomic swap).

    A dossier with errors (or warnings under ``strict``) writes nothing; under ``final`` a
    document with a blank is an error.

    Raises:
        DeliberationError: a template or the output folder stops the build.

    """
    from deliberation.bundle.pdf import ConvertOptions
    from deliberation.bundle.publish import MANIFEST, manifest, publish_pdfs
    from deliberation.render.documents import build_time, default_templates_dir, render_documents

    checked = check(settings)
    if checked.dossier is None or has_errors(checked.findings, settings.strict):
        return Built(checked)
    templates = settings.templates or default_templates_dir()
    files = render_documents(checked, templates_dir=templates)
    when = build_time(checked.dossier.info.seance.date)
    if settings.pdf:
        opts = ConvertOptions(pdfa=settings.pdfa, jobs=settings.jobs)
        files.update(publish_pdfs(checked, files, when, opts, templates))
    options = {"pdf": settings.pdf, "pdfa": settings.pdfa, "strict": settings.strict, "final": settings.final}
    files[MANIFEST] = manifest(checked, files, options, templates, when)
    write_bundle(settings.out_dir, files)
    return Built(checked, files)
