"""The workbench: a local web application over one dossier and its build folder (``deliberation serve``).

Server-rendered HTML in French (Starlette, Jinja2 with autoescape and StrictUndefined); JavaScript only
follows a production's progress (server-sent events). The pages show what the commands compute: the
checked dossier (``commands.check``), the register of acts (``render.register``), an act's review
(``render.acts``), a workbook's preview (``commands.import_xlsx``), an amendment recorded
(``commands.record_amendment``), a build (``commands.build``, incremental into the same folder). The dossier
is written only through those commands' checked writers; files are served only from the build folder.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
import weakref
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from deliberation import commands, fmt
from deliberation.diff import rows as diff_rows
from deliberation.findings import DeliberationError, Severity
from deliberation.render.acts import act_context, load_clauses, word_ops
from deliberation.render.register import register
from deliberation.resources import package_dir, templates_dir
from deliberation.settings import Settings
from deliberation.web.redline import tracked_html

HERE = Path(__file__).parent
#: Uploads larger than this are refused before being read (« 20 Mo »).
MAX_UPLOAD = 20 * 1024 * 1024
#: The environment variable that may carry the access token of a non-local bind.
TOKEN_ENV = "DELIBERATION_JETON"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _money(value) -> str:
    return "—" if value is None else fmt.money(value)


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["money"] = _money
    env.filters["q"] = lambda s: quote(str(s), safe="/")
    return env


@dataclass
class Production:
    """The state of the workbench's production: step, progress, outcome (one at a time)."""

    running: bool = False
    step: str = ""
    done: int = 0
    total: int = 0
    percent: int = 0
    ok: bool | None = None
    message: str = ""
    errors: list[str] = field(default_factory=list)
    started: str = ""
    seconds: float = 0.0
    serial: int = 0

    def data(self) -> dict:
        """The state as JSON for the page's script."""
        return {k: getattr(self, k) for k in ("running", "step", "done", "total", "percent", "ok", "message",
                                              "errors", "started", "seconds", "serial")}


class Workbench:
    """One dossier and its build folder, the cached check, the production in progress, uploads waiting."""

    def __init__(self, dossier: Path, out: Path, token: str | None = None, pdf: bool = True):
        self.dossier = dossier.resolve()
        self.out = out.resolve()
        self.token = token
        self.pdf = pdf
        self.csrf = secrets.token_urlsafe(32)
        self.production = Production()
        self._lock = threading.Lock()
        self._cache: tuple | None = None
        self.uploads: dict[str, Path] = {}
        self.upload_dir = Path(tempfile.mkdtemp(prefix="deliberation-serve-"))
        weakref.finalize(self, shutil.rmtree, self.upload_dir, ignore_errors=True)  # uploads waiting, at exit

    # -- the dossier, checked once per state of its files

    def _signature(self) -> tuple:
        out = []
        for root, dirs, files in os.walk(self.dossier):
            dirs.sort()
            for name in sorted(files):
                st = os.stat(os.path.join(root, name))
                out.append((root, name, st.st_mtime_ns, st.st_size))
        return tuple(out)

    def checked(self):
        """The dossier checked (``commands.check``), again only when one of its files changed."""
        sig = self._signature()
        if self._cache is None or self._cache[0] != sig:
            self._cache = (sig, commands.check(Settings(source=self.dossier)), None)
        return self._cache[1]

    def register(self):
        """The register of acts of the checked dossier (computed once per state)."""
        checked = self.checked()
        if self._cache[2] is None:
            self._cache = (self._cache[0], checked, register(checked) if checked.dossier else [])
        return self._cache[2]

    # -- the build folder

    def manifest(self) -> dict | None:
        """The last build's manifest, or None."""
        try:
            return json.loads((self.out / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def built_file(self, name: str) -> Path | None:
        """A file of the build folder listed in its manifest: never ``..``, an absolute path or a link out."""
        if not name or name.startswith("/") or "\\" in name or any(p in ("..", ".", "") for p in name.split("/")):
            return None
        m = self.manifest()
        if m is None or (name not in m.get("sorties", {}) and name not in ("manifest.json", "CHANGES.md")):
            return None
        path = self.out / name
        real = Path(os.path.realpath(path))
        if not real.is_relative_to(Path(os.path.realpath(self.out))) or not real.is_file():
            return None
        return real

    def source_file(self, name: str) -> Path | None:
        """A text file of the dossier (or of the engine: ``@moteur/…``) to show; None outside them."""
        root = self.dossier
        if name.startswith("@moteur/"):
            root, name = package_dir(), name[len("@moteur/"):]
        if not name or name.startswith("/") or ".." in name.split("/") or not name.endswith((".yaml", ".yml", ".md")):
            return None
        real = Path(os.path.realpath(root / name))
        if not real.is_relative_to(Path(os.path.realpath(root))) or not real.is_file():
            return None
        return real

    def rel(self, file: str) -> str:
        """A finding's file as the source page names it."""
        path = os.path.abspath(file)
        for root, prefix in ((str(self.dossier), ""), (str(package_dir()), "@moteur/")):
            r = os.path.relpath(path, root)
            if not r.startswith(".."):
                return prefix + r.replace(os.sep, "/")
        return file

    # -- production

    def start_build(self) -> tuple[bool, str]:
        """Start a production in a thread; False with the reason when one is running."""
        with self._lock:
            p = self.production
            if p.running:
                return False, (f"une production est en cours (lancée à {p.started}) : attendez sa fin, "
                               "la page suit sa progression")
            self.production = Production(running=True, step="contrôle du dossier", percent=2,
                                         started=time.strftime("%H:%M:%S"), serial=p.serial + 1)
        threading.Thread(target=self._build, daemon=True).start()
        return True, "production lancée"

    def _progress(self, done: int, total: int, _batch: bool) -> None:
        p = self.production
        p.done, p.total = done, total
        p.step = f"conversion PDF : {done}/{total} document(s)"
        p.percent = 10 + int(80 * done / total) if total else 10

    def _build(self) -> None:
        p = self.production
        begin = time.perf_counter()
        try:
            p.step, p.percent = "contrôle et rendu des documents", 5
            settings = Settings(source=self.dossier, out_dir=self.out, pdf=self.pdf, progress=self._progress)
            built = commands.build(settings)
            errors = [f for f in built.checked.findings if f.severity is Severity.ERROR]
            if not built.written and not built.unchanged:
                p.ok, p.message = False, "production refusée : le dossier a des erreurs ; le jeu précédent est conservé"
                p.errors = [f"{self.rel(f.loc.file)}:{f.loc.line}: {f.message} [{f.code}]" for f in errors]
            elif built.unchanged:
                p.ok, p.message = True, f"aucun document modifié : la version {built.version} reste à jour"
            else:
                docs = built.documents
                what = (f" — {len(docs.modifies)} modifié(s), {len(docs.ajoutes)} ajouté(s), "
                        f"{len(docs.supprimes)} supprimé(s), {docs.inchanges} inchangé(s)") if docs else ""
                pdfs = f" ; {p.total} PDF converti(s)" if self.pdf else ""
                p.ok, p.message = True, f"version {built.version} produite{what}{pdfs}"
        except DeliberationError as err:
            p.ok, p.message = False, f"production impossible : {err} ; le jeu précédent est conservé"
        except Exception as err:  # noqa: BLE001 - the page must say it rather than hang at 10 %
            p.ok, p.message = False, f"production interrompue par une erreur interne : {err!r}"
        finally:
            p.seconds = round(time.perf_counter() - begin, 1)
            p.percent, p.step, p.running = 100, "terminé", False


# ---------------------------------------------------------------------------
# the application


def create_app(dossier: Path, out: Path, token: str | None = None, pdf: bool = True) -> Starlette:
    """The workbench over ``dossier`` and its build folder ``out``; ``token``: required on every request."""
    wb = Workbench(dossier, out, token, pdf)
    env = _env()

    def page(request: Request, _template: str, status: int = 200, **ctx) -> HTMLResponse:
        checked = ctx.get("checked")
        titre = ""
        if checked is not None and checked.dossier is not None and checked.dossier.info is not None:
            info = checked.dossier.info
            titre = f"Délibération n°{info.deliberation.numero}" if info.deliberation else ""
        html = env.get_template(_template).render(csrf=wb.csrf, path=request.url.path, titre_phase=titre,
                                             dossier=wb.dossier.name, production=wb.production, **ctx)
        return HTMLResponse(html, status_code=status)

    def refuse(request: Request, status: int, message: str) -> HTMLResponse:
        return page(request, "erreur.html", status=status, message=message)

    async def csrf_ok(request: Request, form=None) -> bool:
        sent = request.headers.get("x-csrf") or (form.get("csrf") if form is not None else None)
        return isinstance(sent, str) and secrets.compare_digest(sent, wb.csrf)

    # -- pages

    async def phase(request: Request):
        checked = wb.checked()
        d = checked.dossier
        groups: dict[str, list] = {}
        for f in checked.findings:
            groups.setdefault(f.code, []).append(f)
        findings = [{"code": code, "severity": "erreur" if fs[0].severity is Severity.ERROR else "avertissement",
                     "items": [{"message": f.message, "file": wb.rel(f.loc.file), "line": f.loc.line} for f in fs]}
                    for code, fs in sorted(groups.items(), key=lambda kv: (kv[1][0].severity is not Severity.ERROR,
                                                                           kv[0]))]
        budget, thematiques = [], []
        if d is not None and checked.figures is not None:
            for code, b in checked.figures.budget.items():
                budget.append({"code": code, "libelle": b.ligne.libelle or "", "ae": b.ligne.ae,
                               "disponible": b.ligne.disponible, "proposition": b.proposition, "solde": b.solde,
                               "loc": {"file": wb.rel(b.ligne.loc.file), "line": b.ligne.loc.line}})
            for t in d.thematiques:
                tt = checked.figures.of(t)
                ops = [{"numero": o.numero, "titre": o.titre, "lignes": len(o.lignes), "budget": o.budget,
                        "montant": checked.figures.of(o).montant,
                        "loc": {"file": wb.rel(o.loc.file), "line": o.loc.line}} for o in t.operations]
                thematiques.append({"numero": t.numero, "titre": t.titre, "montant": tt.montant, "lignes": tt.lignes,
                                    "operations": ops})
        m = wb.manifest()
        last = None
        if m is not None:
            outs = m.get("sorties", {})
            try:
                date_fr = fmt.date_long(dt.date.fromisoformat(m.get("date", "")))
            except (TypeError, ValueError):
                date_fr = str(m.get("date"))
            last = {"version": m.get("version"), "date_fr": date_fr, "moteur": m.get("moteur", {}).get("version"),
                    "documents": sorted(n for n in outs if n.endswith(".docx")), "bundle": "bundle.pdf" in outs,
                    "registre": "actes/registre.xlsx" in outs, "actes_pdf": "actes.pdf" in outs}
        total = checked.figures.phase.montant if checked.figures and checked.figures.phase else None
        return page(request, "phase.html", checked=checked, budget=budget, thematiques=thematiques,
                    findings=findings, last=last, total=total, note=request.query_params.get("note", ""),
                    n_errors=sum(f.severity is Severity.ERROR for f in checked.findings))

    async def source(request: Request):
        name = request.query_params.get("fichier", "")
        path = wb.source_file(name)
        if path is None:
            return refuse(request, 404, f"fichier introuvable ou hors du dossier : « {name} »")
        try:
            line = int(request.query_params.get("ligne", "0"))
        except ValueError:
            line = 0
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = [{"n": i, "text": t, "target": i == line, "near": 0 < abs(i - line) <= 2}
                 for i, t in enumerate(text.splitlines(), 1)]
        return page(request, "source.html", name=name, lines=lines, line=line)

    async def documents(request: Request):
        m = wb.manifest()
        docs = []
        if m is not None:
            outs = m.get("sorties", {})
            for name in sorted(outs):
                if name.endswith(".docx") and not name.startswith("revisions/"):
                    pdf = name[:-5] + ".pdf"
                    docs.append({"name": name, "pdf": pdf if pdf in outs else None, "pages": outs[name].get("pages")})
        return page(request, "documents.html", docs=docs, manifest=m)

    async def document(request: Request):
        name = request.path_params["name"]
        if wb.built_file(name) is None or not name.endswith(".pdf"):
            return refuse(request, 404, f"document introuvable dans le jeu produit : « {name} »")
        return page(request, "document.html", name=name)

    async def fichier(request: Request):
        name = request.path_params["name"]
        path = wb.built_file(name)
        if path is None:
            return refuse(request, 404, f"fichier introuvable dans le jeu produit : « {name} »")
        inline = name.endswith(".pdf") and request.query_params.get("telecharger") is None
        return FileResponse(path, filename=Path(name).name,
                            content_disposition_type="inline" if inline else "attachment")

    async def bundle_zip(request: Request):
        m = wb.manifest()
        if m is None:
            return refuse(request, 404, "aucun jeu produit : lancez « Produire »")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name in sorted({*m.get("sorties", {}), "manifest.json"}):
                path = wb.built_file(name)
                if path is not None:
                    z.write(path, f"{wb.out.name}/{name}")
        return Response(buf.getvalue(), media_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{wb.out.name}.zip"'})

    async def actes(request: Request):
        entries = wb.register()
        q = request.query_params.get("q", "").strip().casefold()
        statut = request.query_params.get("statut", "")
        conformite = request.query_params.get("conformite", "")
        tri = request.query_params.get("tri", "numero")
        ordre = request.query_params.get("ordre", "asc")
        rows = [e for e in entries
                if (not q or q in " ".join((e.structure, e.convention, e.modele, *e.lignes_budgetaires)).casefold())
                and (not statut or (statut == "PROJET") == e.projet)
                and (not conformite or e.conformite.startswith(conformite))]
        keys = {"numero": lambda e: e.numero, "structure": lambda e: e.structure.casefold(),
                "convention": lambda e: e.convention.casefold(), "modele": lambda e: e.modele,
                "conformite": lambda e: e.conformite, "statut": lambda e: (e.statut, len(e.manquants)),
                "montant": lambda e: e.montant, "budget": lambda e: e.lignes_budgetaires}
        rows.sort(key=keys.get(tri, keys["numero"]), reverse=ordre == "desc")
        m = wb.manifest()
        outs = m.get("sorties", {}) if m else {}
        return page(request, "actes.html", checked=wb.checked(), rows=rows, total=len(entries), q=q, statut=statut,
                    conformite=conformite, tri=tri, ordre=ordre, outs=outs)

    async def acte(request: Request):
        entries = wb.register()
        n = request.path_params["numero"]
        if not 1 <= n <= len(entries):
            return refuse(request, 404, f"aucun acte n°{n} : le registre en compte {len(entries)}")
        checked = wb.checked()
        e, act = entries[n - 1], checked.acts[n - 1]
        ctx, _ = act_context(act, checked.dossier, load_clauses(templates_dir()))
        decisions = {x.clause: x for x in act.decisions}
        articles = []
        for a in ctx.get("liste_articles", []):
            x = decisions.get(a["clause"])
            articles.append({"numero": a["numero"], "titre": a["titre"],
                             "rule": x.rule if x else "toujours présent",
                             "why": x.reason if x else "article fixe de tout avenant",
                             "data": [{"label": dd.label, "value": dd.value,
                                       "file": wb.rel(dd.loc.file) if dd.loc else None,
                                       "line": dd.loc.line if dd.loc else 0} for dd in (x.data if x else [])]})
        left = [{"rule": x.rule, "why": x.reason, "clause": x.clause} for x in act.decisions if not x.included]
        conf = ctx.get("conformite")
        gaps = []
        for g in conf.gaps if conf else ():
            ops = word_ops(g.modele, g.acte) if g.modele and g.acte else (
                [("-", g.modele)] if g.modele else [("+", g.acte)])
            gaps.append({"titre": g.titre, "numero_acte": g.numero_acte, "numero_modele": g.numero_modele,
                         "ops": ops})
        m = wb.manifest()
        outs = m.get("sorties", {}) if m else {}
        revision = f"revisions/{e.document}.docx"
        tracked, marks = (None, 0)
        if revision in outs and (path := wb.built_file(revision)) is not None:
            tracked, marks = tracked_html(path.read_bytes())
        return page(request, "acte.html", checked=checked, e=e, n=n, articles=articles, left=left, conf=conf,
                    gaps=gaps, tracked=tracked, marks=marks, revision=revision if tracked is not None else None,
                    pdf=f"{e.document}.pdf" if f"{e.document}.pdf" in outs else None,
                    docx=f"{e.document}.docx" if f"{e.document}.docx" in outs else None,
                    revue=f"{e.document}.revue.md" if f"{e.document}.revue.md" in outs else None,
                    kind=act.kind, loc={"file": wb.rel(e.loc.file), "line": e.loc.line}, count=len(entries))

    # -- production

    async def produire(request: Request):
        form = await request.form()
        if not await csrf_ok(request, form):
            return refuse(request, 403, "jeton CSRF absent ou invalide : rechargez la page puis recommencez")
        started, message = wb.start_build()
        if request.headers.get("accept", "").startswith("application/json"):
            return JSONResponse({"ok": started, "message": message}, status_code=202 if started else 409)
        if not started:
            return refuse(request, 409, message)
        return RedirectResponse("/?note=production", status_code=303)

    async def etat(request: Request):
        return JSONResponse(wb.production.data())

    async def flux(request: Request):
        async def events():
            last = None
            for _ in range(36000):  # at most an hour at 0.1 s
                data = json.dumps(wb.production.data(), ensure_ascii=False)
                if data != last:
                    yield f"data: {data}\n\n"
                    last = data
                if not wb.production.running:
                    return
                await asyncio.sleep(0.1)

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    # -- amendments

    async def amendements(request: Request):
        checked = wb.checked()
        d = checked.dossier
        context = {"lignes": [], "operations": [], "structures": [], "findings": [], "recorded": None, "values": {}}
        if d is not None:
            context["lignes"] = [{"id": ligne.id, "label": f"{ligne.id} — {d.structures[ligne.structure].nom}"
                                  if ligne.structure in d.structures else ligne.id,
                                  "montant": ligne.montant} for _, _, ligne in d.lignes()]
            context["operations"] = [f"{t.numero}.{o.numero}" for t, o in d.operations()]
            context["structures"] = sorted(d.structures)
            seance = d.info.seance.date if d.info and d.info.seance else None
            context["values"] = {"date": seance.strftime("%d/%m/%Y") if seance else ""}
        if request.method == "POST":
            form = await request.form()
            if not await csrf_ok(request, form):
                return refuse(request, 403, "jeton CSRF absent ou invalide : rechargez la page puis recommencez")
            values = {k: str(form.get(k, "")).strip() for k in ("cible", "cle", "montant", "objet", "date",
                                                                 "convention")}
            values["retrait"] = form.get("retrait") == "oui"
            context["values"] = values
            if values["cible"] not in ("ligne", "operation", "structure") or not values["cle"] or not values["objet"]:
                context["findings"] = ["indiquez la cible, l'élément visé et l'objet de l'amendement"]
            elif not values["retrait"] and not values["montant"]:
                context["findings"] = ["indiquez le nouveau montant, ou cochez « retrait »"]
            else:
                try:
                    rec = commands.record_amendment(wb.dossier, values["date"], values["objet"], values["cible"],
                                                    values["cle"], values["montant"] or None, values["retrait"],
                                                    values["convention"] or None)
                except DeliberationError as err:
                    return refuse(request, 409, f"amendement non enregistré : {err}")
                context["findings"] = [f"{wb.rel(f.loc.file)}:{f.loc.line}: {f.message} [{f.code}]"
                                       for f in rec.findings or [] if f.severity is Severity.ERROR]
                if rec.written:
                    wb.start_build()
                    return RedirectResponse(f"/amendements?enregistre={rec.numero}", status_code=303)
        changes = ""
        try:
            from markdown_it import MarkdownIt

            text = (wb.out / "CHANGES.md").read_text(encoding="utf-8")
            changes = Markup(MarkdownIt("commonmark", {"html": False}).enable("table").render(text))
        except OSError:
            pass
        existing = (wb.dossier / "amendements.yaml").read_text(encoding="utf-8") \
            if (wb.dossier / "amendements.yaml").is_file() else ""
        return page(request, "amendements.html", checked=checked, changes=changes, existing=existing,
                    enregistre=request.query_params.get("enregistre", ""), **context)

    # -- workbooks

    async def excel(request: Request):
        if request.method == "GET":
            return page(request, "excel.html", preview=None, upload="", name="", checked=wb.checked())
        length = request.headers.get("content-length")
        if length is None or not length.isdigit():
            return refuse(request, 411, "envoi refusé : taille inconnue (en-tête Content-Length absent)")
        if int(length) > MAX_UPLOAD + 64 * 1024:
            return refuse(request, 413, "classeur refusé : plus de 20 Mo (limite des envois)")
        form = await request.form(max_files=1, max_fields=10)
        if not await csrf_ok(request, form):
            return refuse(request, 403, "jeton CSRF absent ou invalide : rechargez la page puis recommencez")
        upload = form.get("classeur")
        if upload is None or isinstance(upload, str):
            return refuse(request, 400, "aucun classeur envoyé : choisissez un fichier .xlsx")
        data = await upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            return refuse(request, 413, "classeur refusé : plus de 20 Mo (limite des envois)")
        name = Path(upload.filename or "classeur.xlsx").name
        if not name.lower().endswith(".xlsx") or not _is_xlsx(data):
            return refuse(request, 415, f"« {name} » n'est pas un classeur Excel .xlsx (contenu vérifié)")
        key = secrets.token_hex(12)
        folder = wb.upload_dir / key
        folder.mkdir()
        path = folder / name
        path.write_bytes(data)
        wb.uploads[key] = path
        result = commands.import_xlsx([path], wb.dossier, dry_run=True)
        return page(request, "excel.html", preview=_preview(wb, result), upload=key, name=name, checked=wb.checked())

    async def excel_apply(request: Request):
        form = await request.form()
        if not await csrf_ok(request, form):
            return refuse(request, 403, "jeton CSRF absent ou invalide : rechargez la page puis recommencez")
        path = wb.uploads.pop(str(form.get("classeur", "")), None)
        if path is None:
            return refuse(request, 404, "classeur inconnu ou déjà appliqué : envoyez-le de nouveau")
        try:
            result = commands.import_xlsx([path], wb.dossier)
        except DeliberationError as err:
            return refuse(request, 409, f"import impossible : {err} ; le dossier est inchangé")
        if result.failed:
            return page(request, "excel.html", preview=_preview(wb, result), upload="", name=path.name,
                        checked=wb.checked())
        started, message = wb.start_build()
        note = "import" if started else "import-attente"
        return RedirectResponse(f"/?note={note}&fichiers={len(result.written)}", status_code=303)

    routes = [
        Route("/", phase), Route("/source", source), Route("/documents", documents),
        Route("/documents/{name:path}", document), Route("/fichiers/{name:path}", fichier),
        Route("/telecharger/bundle.zip", bundle_zip), Route("/actes", actes), Route("/actes/{numero:int}", acte),
        Route("/produire", produire, methods=["POST"]), Route("/produire/etat", etat),
        Route("/produire/flux", flux), Route("/amendements", amendements, methods=["GET", "POST"]),
        Route("/excel", excel, methods=["GET", "POST"]), Route("/excel/appliquer", excel_apply, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    async def not_found(request: Request, _exc):
        return refuse(request, 404, f"page introuvable : « {request.url.path} »")

    app = Starlette(routes=routes, exception_handlers={404: not_found},
                    middleware=[Middleware(TokenMiddleware, token=token, env=env)])
    app.state.workbench = wb
    return app


def _is_xlsx(data: bytes) -> bool:
    """A real workbook: a zip holding ``[Content_Types].xml`` and ``xl/workbook.xml``."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, ValueError):
        return False
    return "[Content_Types].xml" in names and "xl/workbook.xml" in names


def _preview(wb: Workbench, result) -> dict:
    """What the import would do (or did not do), for the page."""
    folders = {str(p.parent) + os.sep for p in wb.uploads.values()} | {str(wb.upload_dir) + os.sep}
    sheets = []
    for sheet in result.sheets:
        for folder in folders:
            sheet = sheet.replace(folder, "")
        sheets.append(re.sub(r"[^ (]*deliberation-serve-[^/]*/[0-9a-f]+/", "", sheet))
    return {
        "sheets": sheets,
        "edits": [{"file": e.file, "element": e.element, "field": e.field, "before": e.before, "after": e.after}
                  for e in result.edits],
        "added": result.added,
        "changes": [dict(zip(("portee", "libelle", "champ", "avant", "apres", "ecart"), row, strict=True))
                    for row in diff_rows(result.changes)],
        "findings": [{"severity": "erreur" if f.severity is Severity.ERROR else "avertissement",
                      "text": f"{wb.rel(f.loc.file)}:{f.loc.line}: {f.message} [{f.code}]"} for f in result.findings],
        "after": sum(f.severity is Severity.ERROR for f in result.after or []),
        "after_warnings": sum(f.severity is Severity.WARNING for f in result.after or []),
        "failed": result.failed,
        "ignored": result.ignored_codes,
    }


class TokenMiddleware:
    """On a non-local bind, every request carries the token: ``?jeton=``, the cookie it sets, or ``X-Jeton``."""

    def __init__(self, app, token: str | None, env: Environment):
        self.app, self.token, self.env = app, token, env

    async def __call__(self, scope, receive, send):
        """Refuse (403, in French) a request without the right token; remember a token given in the address."""
        if scope["type"] != "http" or not self.token:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        sent = (request.query_params.get("jeton") or request.headers.get("x-jeton")
                or request.cookies.get("deliberation_jeton"))
        if not (isinstance(sent, str) and secrets.compare_digest(sent.encode(), self.token.encode())):
            html = self.env.get_template("jeton.html").render()
            await HTMLResponse(html, status_code=403)(scope, receive, send)
            return

        async def send_with_cookie(message):
            if message["type"] == "http.response.start" and request.query_params.get("jeton"):
                headers = list(message.get("headers", []))
                headers.append((b"set-cookie", f"deliberation_jeton={self.token}; HttpOnly; SameSite=Strict; "
                                               "Path=/".encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def serve(dossier: Path, out: Path, host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
          pdf: bool = True, ready=None) -> None:
    """Run the workbench with uvicorn until interrupted (``ready(address)`` is told the address first).

    Raises:
        ValueError: a non-local ``host`` without a token (the message is French).

    """
    import uvicorn

    token = token or os.environ.get(TOKEN_ENV) or None
    if host not in LOCAL_HOSTS and not token:
        msg = (f"l'adresse {host} rend l'atelier visible d'autres machines : donnez un jeton d'accès "
               f"(--jeton ou la variable {TOKEN_ENV})")
        raise ValueError(msg)
    app = create_app(dossier, out, token if host not in LOCAL_HOSTS or token else None, pdf)
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{shown}:{port}/" + (f"?jeton={token}" if token else "")
    if ready is not None:
        ready(address)
    uvicorn.run(app, host=host, port=port, log_level="warning")
