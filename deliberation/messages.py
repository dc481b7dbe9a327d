"""French wording for what the YAML parser and the operating system report in English."""

from __future__ import annotations

import errno
import re
import stat

#: The parser's problems (ruamel.yaml and libyaml wording) → what to tell a user, in French.
_YAML_PROBLEMS: tuple[tuple[re.Pattern, str], ...] = tuple((re.compile(p, re.I), m) for p, m in (
    (r"mapping values are not allowed", "« : » inattendu : une valeur contenant « : » doit être entre guillemets, "
                                        "ou une clé est mal indentée"),
    (r"could not find expected ':'|did not find expected key",
     "clé attendue : indentation incohérente ou « : » manquant après une clé"),
    (r"tab character|found character '\\t'", "tabulation interdite : indenter avec des espaces"),
    (r"undefined alias", "alias (« *nom ») sans ancre (« &nom ») correspondante"),
    (r"unexpected end of stream", "fin de fichier inattendue : guillemet, crochet ou accolade non fermé"),
    (r"expected ',' or '\]'", "« , » ou « ] » attendu : liste entre crochets non fermée"),
    (r"expected ',' or '\}'", "« , » ou « } » attendu : dictionnaire entre accolades non fermé"),
    (r"expected '-' indicator|expected <block end>", "indentation incohérente : élément de liste ou clé mal aligné"),
    (r"cannot start any token", "caractère interdit en début de valeur (« @ », « ` »…) : mettre la valeur "
                                "entre guillemets"),
    (r"unknown escape character", "séquence d'échappement inconnue entre guillemets doubles (« \\ ») : "
                                  "utiliser des guillemets simples"),
    (r"expected alphabetic or numeric character", "ancre ou alias sans nom après « & » ou « * »"),
    (r"found duplicate key", "clé en double"),
    (r"unhashable key|found unacceptable key", "clé invalide : une liste ou un dictionnaire ne peut pas servir de clé"),
    (r"expected a comment or a line break", "texte inattendu après une valeur entre guillemets"),
    (r"block sequence entries are not allowed", "élément de liste « - » inattendu à cet endroit"),
))

#: errno → French reason (the OS's own text is English).
OS_ERRORS = {
    errno.EDQUOT: "quota disque dépassé",
    errno.EACCES: "accès refusé",
    errno.EPERM: "opération non permise",
    errno.EISDIR: "c'est un dossier, pas un fichier",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.ELOOP: "trop de liens symboliques (boucle)",
    errno.ENAMETOOLONG: "nom de fichier trop long",
    errno.EIO: "erreur d'entrée-sortie du disque",
    errno.ENOSPC: "disque plein",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.ENOENT: "fichier introuvable",
    errno.EEXIST: "le fichier existe déjà",
    errno.ENOTEMPTY: "dossier non vide",
    errno.EXDEV: "déplacement impossible d'un disque à un autre",
    errno.EFBIG: "fichier trop gros pour le système de fichiers",
    errno.ETXTBSY: "fichier en cours d'utilisation",
    errno.ENXIO: "périphérique absent",
    errno.ENODEV: "périphérique inconnu",
    errno.EAGAIN: "ressource momentanément indisponible",
    errno.EINVAL: "argument invalide",
    errno.ENOMEM: "mémoire épuisée",
    errno.EPIPE: "tube fermé par l'autre bout",
    errno.EMFILE: "trop de fichiers ouverts",
    errno.EBUSY: "fichier occupé",
}


#: File type (``stat.S_IFMT``) → French name, for a path that is not a regular file.
FILE_KINDS = {
    stat.S_IFIFO: "tube nommé (FIFO)",
    stat.S_IFCHR: "périphérique (mode caractère)",
    stat.S_IFBLK: "périphérique (mode bloc)",
    stat.S_IFSOCK: "socket",
    stat.S_IFDIR: "dossier",
}

#: Messages about what the loader refuses to read.
SPECIAL_FILE = "pas un fichier ordinaire (tube, périphérique…) : {kind} ; seuls les fichiers ordinaires sont lus"
EXTERNAL_LINK = ("lien symbolique menant hors du dossier : non suivi, contenu non lu "
                 "(un lien doit mener à l'intérieur du dossier ; sinon, y copier le fichier)")
TOO_BIG = "fichier trop gros : {size} octets (au plus {limit} octets)"
TOO_BIG_GROWING = "fichier trop gros : plus de {limit} octets lus (au plus {limit} octets)"


def file_kind(mode: int) -> str:
    """The French name of the file type in ``mode`` (an ``st_mode``)."""
    return FILE_KINDS.get(stat.S_IFMT(mode), "type de fichier inconnu")


def yaml_problem(problem: str) -> str:
    """The parser's English ``problem`` in French; an unknown wording is kept, quoted, after a French lead."""
    for pattern, message in _YAML_PROBLEMS:
        if pattern.search(problem):
            return message
    return f"syntaxe invalide (analyseur : « {problem} »)"


def os_reason(err: OSError) -> str:
    """Why the system refused, in French (the errno's symbolic name when it has no French wording here)."""
    if err.errno in OS_ERRORS:
        return OS_ERRORS[err.errno]
    code = errno.errorcode.get(err.errno or 0)
    return f"erreur système {err.errno} ({code})" if code else "erreur système"


#: What the template engine (Jinja) says in English → French (regular expressions, first match wins).
_JINJA_PROBLEMS: tuple[tuple[re.Pattern, str], ...] = tuple((re.compile(p, re.I), m) for p, m in (
    (r"unexpected end of template", "fin du modèle inattendue : une balise {{%…%}} ou {{{{…}}}} n'est pas fermée"),
    (r"Encountered unknown tag '([^']*)'", "balise inconnue « {0} »"),
    (r"expected token '([^']*)', got '([^']*)'", "« {0} » attendu, « {1} » trouvé"),
    (r"unexpected char '(.*)' at (\d+)", "caractère inattendu « {0} » (position {1})"),
    (r"unexpected '([^']*)'", "« {0} » inattendu"),
    (r"no filter named '([^']*)'", "filtre inconnu « {0} »"),
    (r"no test named '([^']*)'", "test inconnu « {0} »"),
    (r"'([^']*)' is undefined", "« {0} » n'est pas défini"),
    (r"'([^']*)' has no attribute '([^']*)'", "« {0} » n'a pas d'attribut « {1} »"),
    (r"access to attribute '([^']*)' of '([^']*)' object is unsafe", "accès interdit à l'attribut « {0} » "
                                                                    "(objet {1}) : le modèle tourne en bac à sable"),
    (r"unsafe", "opération interdite dans le bac à sable des modèles"),
    (r"Range too big", "plage trop grande : le bac à sable des modèles la refuse"),
    (r"division by zero|divided by zero", "division par zéro"),
    (r"unsupported operand type", "opération entre des valeurs de types incompatibles"),
    (r"object is not iterable", "valeur qui n'est pas une liste"),
    (r"object is not callable", "valeur qui n'est pas une fonction"),
    (r"maximum recursion depth", "récursion trop profonde"),
))

#: Exception class names → French (when nothing more precise is known).
_CLASSES = {
    "BadZipFile": "archive zip illisible (pas un fichier Office valide, ou fichier tronqué)",
    "PackageNotFoundError": "fichier introuvable ou qui n'est pas un document Word (.docx)",
    "XMLSyntaxError": "XML invalide",
    "ParseError": "XML invalide",
    "ExpatError": "XML invalide",
    "UnicodeDecodeError": "texte dont l'encodage n'est pas UTF-8",
    "UnicodeEncodeError": "caractère impossible à écrire dans cet encodage",
    "MemoryError": "mémoire épuisée",
    "RecursionError": "récursion trop profonde",
    "ZeroDivisionError": "division par zéro",
    "OverflowError": "nombre trop grand",
    "KeyError": "élément manquant",
    "IndexError": "indice hors limites",
    "TypeError": "opération sur une valeur du mauvais type",
    "ValueError": "valeur invalide",
    "AttributeError": "attribut inconnu",
    "EOFError": "fichier tronqué",
    "TimeoutError": "délai dépassé",
}


def library_error(err: BaseException) -> str:
    """What an exception from the system or a library means, in French (never its English wording).

    The system's errors give their errno's French reason; XML errors their line; Jinja's the
    translated sentence; anything else the French name of its kind, with the class name for support.
    """
    if type(err).__module__.startswith("deliberation"):
        return str(err)  # the engine's own exceptions already speak French
    if isinstance(err, OSError) and err.errno is not None:
        return os_reason(err)
    name = type(err).__name__
    text = str(err.args[0]) if getattr(err, "args", None) else ""
    if name in ("XMLSyntaxError", "ParseError", "ExpatError"):
        line = getattr(err, "lineno", None) or (getattr(err, "position", None) or (None,))[0]
        return f"XML invalide (ligne {line})" if isinstance(line, int) else "XML invalide"
    for pattern, message in _JINJA_PROBLEMS:
        m = pattern.search(text)
        if m:
            return message.format(*m.groups())
    if name == "KeyError" and "There is no item named" in text:
        part = re.search(r"named '([^']+)'", text)
        return f"partie {part.group(1) if part else ''} absente de l'archive (fichier Office incomplet)".replace(
            "partie  ", "partie ")
    fr = _CLASSES.get(name)
    if fr is None:
        fr = next((v for k, v in _CLASSES.items() if any(c.__name__ == k for c in type(err).__mro__)), None)
    return f"{fr} ({name})" if fr else f"erreur de la bibliothèque ({name})"
