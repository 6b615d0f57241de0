"""Import du modèle de cahier d'engagements rempli (``xlsx_template``) : ``import_commitments_xlsx``.

Le classeur est lu par ``cdv.core.uploads`` (taille, archive, macros), ses lignes vérifiées par le
``mapper``, puis écrites par le ``writer`` à travers les fonctions de ``services`` (droits, verrou
optimiste, avenants). Tout ou rien : la moindre erreur et rien n'est écrit ; chaque erreur nomme sa
feuille, sa ligne et sa colonne. L'import vérifie ``abilities.can_manage_cahier``.
"""

import logging
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied

from cdv.core import uploads
from cdv.core.uploads import ErrorCollector, UploadError

from . import abilities
from .mapper import SheetMapper
from .writer import Rollback, write_commitments
from .xlsx_export import SHEET

logger = logging.getLogger(__name__)

# Un cahier tient en quelques dizaines de kilo-octets.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
XLSX_LIMITS = uploads.XlsxLimits(max_members=500, max_uncompressed=50 * 1024 * 1024, max_ratio=200)
TOO_LARGE = ". Un cahier d'engagements tient en quelques dizaines de kilo-octets : repartez du modèle."
ADVICE = " Utilisez le modèle téléchargé sur la plateforme."


@dataclass
class ImportReport(uploads.ImportReport):
    WORDS = {
        "created": ("engagement créé", "engagements créés"),
        "would_create": ("engagement serait créé", "engagements seraient créés"),
        "updated": ("modifié", "modifiés"),
        "unchanged": ("inchangé", "inchangés"),
    }


def import_commitments_xlsx(*, user, contract, partner, fileobj, filename="") -> ImportReport:
    """Importe le modèle rempli : tout ou rien, chaque erreur nommant feuille, ligne et colonne.

    Lève ``PermissionDenied`` si ``user`` ne gère pas le cahier de ce partenaire. Les lignes sans
    identifiant créent des engagements (sauf si un engagement du partenaire porte déjà le même
    intitulé et le même contenu : c'est un second envoi du même fichier) ; les autres modifient
    l'engagement désigné, qui doit appartenir à ce contrat et à ce partenaire.
    """
    if not abilities.can_manage_cahier(user, contract, partner):
        raise PermissionDenied("Vous ne pouvez pas importer le cahier d'engagements de ce partenaire.")
    report = ImportReport()
    errors = ErrorCollector(filename, sheet=SHEET)
    errors.header_row = 1
    try:
        workbook = uploads.read_workbook(
            fileobj, max_bytes=MAX_UPLOAD_BYTES, limits=XLSX_LIMITS, too_large=TOO_LARGE, advice=ADVICE
        )
    except UploadError as error:
        errors.file(error.message)
        report.refuse(errors)
        return report
    mapper = SheetMapper(contract=contract, partner=partner, errors=errors)
    try:
        rows = mapper.read(workbook)
    except Exception:  # contenu XML hostile ou incohérent : refus pour l'utilisateur, trace au journal.
        logger.warning("Lecture du classeur XLSX interrompue à l'import", exc_info=True)
        errors.file("ce classeur XLSX n'a pas pu être lu (contenu endommagé).")
        rows = None
    finally:
        workbook.close()
    if rows is None:
        report.refuse(errors)
        return report
    try:
        write_commitments(
            user=user,
            contract=contract,
            partner=partner,
            rows=rows,
            pairs=mapper.columns["pairs"],
            errors=errors,
            report=report,
        )
    except Rollback:
        pass
    if errors:
        report.refuse(errors)
    return report
