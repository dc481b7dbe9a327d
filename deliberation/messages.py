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
    """Why the system refused, in French (the errno's English text as a last resort)."""
    return OS_ERRORS.get(err.errno, f"erreur système {err.errno} ({err.strerror or err})")
