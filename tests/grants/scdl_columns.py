"""Les 16 colonnes du SCDL subventions 2.1.1, noms et ordre du schéma national (AAP.md), écrites une
fois pour les tests de l'export (test_scdl_export.py) et du parcours (test_journey_after_vote.py),
sans importer ce dont l'un a besoin et pas l'autre (frictionless)."""

SCDL = [
    "nomAttribuant",
    "idAttribuant",
    "dateConvention",
    "referenceDecision",
    "nomBeneficiaire",
    "idBeneficiaire",
    "rnaBeneficiaire",
    "objet",
    "montant",
    "nature",
    "conditionsVersement",
    "datesPeriodeVersement",
    "idRAE",
    "notificationUE",
    "pourcentageSubvention",
    "dispositifAide",
]
