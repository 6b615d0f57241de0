"""Les subventions de l'appel à projets dans les données ouvertes du contrat :

- ``subventions`` : le SCDL « subventions » 2.1.1 de schema.data.gouv.fr, ses 16 colonnes dans
  l'ordre du schéma (une ligne par financeur × bénéficiaire) ;
- ``subventions-cofinancement`` : les colonnes de cofinancement de Data.Subvention, avec les clés
  pour rejoindre le fichier SCDL ;
- ``dispositifs-aide`` : les appels, décrits avec les champs du schéma ``etalab/schema-dispositif-aide``
  (version 0.0.1, qui a les dates d'ouverture, de pré-dépôt et de clôture et « AAP / AMI »).

Ce qui est publié et pourquoi : ``cdv/grants/scdl.py`` et docs/aap/donnees-ouvertes.md.
"""

from cdv.grants import scdl

from .schema import Column, ForeignKey, Resource

DATE_PERIOD = r"^[0-9]{4}\-[0-9]{2}\-[0-9]{2}(\/[0-9]{4}\-[0-9]{2}\-[0-9]{2})?$"


def _s(name, title, description, **options) -> Column:
    return Column(name, "string", title, description, **options)


ATTRIBUANT = (
    _s(
        "nomAttribuant",
        "Nom de l'attribuant",
        "Nom officiel du financeur qui attribue la subvention.",
        required=True,
        example="Nantes Métropole",
    ),
    _s(
        "idAttribuant",
        "Identification de l'attribuant",
        "SIRET du financeur (14 chiffres). Un financeur sans SIRET valide n'est pas publié.",
        required=True,
        pattern=scdl.SIRET_SCDL,
        example="24440040400129",
    ),
)
REFERENCE = _s(
    "referenceDecision",
    "Référence de la décision",
    "Référence de l'acte attributif (arrêté ou convention), à défaut celle de la décision du comité.",
    example="2025-DEL-0142",
)
BENEFICIAIRE = (
    _s(
        "nomBeneficiaire",
        "Nom du bénéficiaire",
        "Nom de l'association bénéficiaire.",
        required=True,
        example="Association Vélo Bellevue",
    ),
    _s(
        "idBeneficiaire",
        "Identification SIRET du bénéficiaire",
        "SIRET de l'association (14 chiffres), s'il est connu.",
        pattern=scdl.SIRET_SCDL,
        example="81234567800015",
    ),
    _s(
        "rnaBeneficiaire",
        "Identification RNA du bénéficiaire",
        "Numéro RNA de l'association (W suivi de 9 chiffres), s'il est connu.",
        pattern=scdl.RNA_SCDL,
        example="W442001234",
    ),
)
DATE_CONVENTION = Column(
    "dateConvention",
    "date",
    "Date de la convention de subvention",
    "Date de signature de l'acte attributif (arrêté ou convention). Une subvention dont l'acte "
    "n'est pas signé n'est pas encore publiée.",
    required=True,
    example="2025-04-15",
)
DISPOSITIF = _s(
    "dispositifAide",
    "Identifiant du dispositif d'aide",
    "Identifiant de l'appel à projets (« <contrat>-aap-<année> »), colonne « id_aide » du fichier "
    "dispositifs-aide.",
    example="nantes-metropole-2024-2030-aap-2025",
)

SUBVENTIONS = Resource(
    name="subventions",
    title="Subventions attribuées (SCDL subventions 2.1.1)",
    description=(
        "Les subventions votées par les financeurs de l'appel à projets du contrat, au format SCDL "
        "« subventions » 2.1.1 (schema.data.gouv.fr) : une ligne par financeur et association, "
        "publiée dès que l'acte attributif est signé. Colonnes, noms et ordre du schéma national."
    ),
    columns=(
        *ATTRIBUANT,
        DATE_CONVENTION,
        REFERENCE,
        *BENEFICIAIRE,
        _s(
            "objet",
            "Objet de la subvention",
            "Intitulé du projet financé (moins de 256 caractères).",
            required=True,
            max_length=255,
            example="Atelier d'insertion par la réparation de vélos",
        ),
        Column(
            "montant",
            "number",
            "Montant total de la subvention",
            "Montant attribué par l'acte, en euros, point décimal.",
            required=True,
            minimum=0,
            example="12000",
        ),
        _s(
            "nature",
            "Nature de la subvention",
            "Toujours « aide en numéraire » (l'appel attribue des subventions en argent).",
            required=True,
            enum=(
                "aide en numéraire",
                "aide en nature",
                "aide en numéraire;aide en nature",
                "aide en nature;aide en numéraire",
            ),
            example="aide en numéraire",
        ),
        _s(
            "conditionsVersement",
            "Conditions de versement de la subvention",
            "« unique » (un versement) ou « échelonné » (avance puis solde), selon l'échéancier ou l'acte.",
            required=True,
            enum=(scdl.SINGLE, scdl.STAGED),
            example="échelonné",
        ),
        _s(
            "datesPeriodeVersement",
            "Date ou période de versement",
            "Date (AAAA-MM-JJ) ou période (AAAA-MM-JJ/AAAA-MM-JJ) des versements faits et prévus ; sans "
            "date connue, de la signature de l'acte à la fin de l'action.",
            required=True,
            pattern=DATE_PERIOD,
            example="2025-05-01/2025-12-31",
        ),
        _s(
            "idRAE",
            "Identifiant RAE",
            "Vide : ne concerne que les aides aux entreprises.",
            max_length=5,
            example="12345",
        ),
        _s(
            "notificationUE",
            "Aide d'État notifiée à la Commission européenne",
            "« oui » ou « non » ; toujours « non » pour ces subventions.",
            required=True,
            enum=("oui", "non"),
            example="non",
        ),
        Column(
            "pourcentageSubvention",
            "number",
            "Part du montant attribuée au bénéficiaire",
            "1.00 : une seule association bénéficiaire par subvention.",
            required=True,
            minimum=0.01,
            maximum=1,
            example="1.00",
        ),
        DISPOSITIF,
    ),
    queryset=lambda contract, user: scdl.published_lines(contract),
    rows=lambda queryset, contract, user: scdl.scdl_rows(queryset, contract),
    primary_key=(),
    foreign_keys=(ForeignKey("dispositifAide", "dispositifs-aide", "id_aide"),),
)

COFINANCEMENT = Resource(
    name="subventions-cofinancement",
    title="Subventions : cofinancement (Data.Subvention)",
    description=(
        "Pour chaque ligne du fichier subventions, les colonnes de cofinancement proposées par "
        "Data.Subvention : le dossier cofinancé (identifiantSubvention relie les financeurs d'un même "
        "projet), les dates de dépôt et de décision, le montant total voté et celui de ce financeur."
    ),
    columns=(
        _s(
            "identifiantSubvention",
            "Identifiant de la subvention",
            "Identifiant du dossier (« <contrat>-aap-<année>-<numéro> ») : le même pour tous ses financeurs.",
            required=True,
            example="nantes-metropole-2024-2030-aap-2025-17",
        ),
        Column(
            "multiFinanceur",
            "boolean",
            "Plusieurs financeurs",
            "true si le dossier a reçu une subvention de plusieurs financeurs.",
            required=True,
            example="true",
        ),
        Column(
            "nombreFinanceurs",
            "integer",
            "Nombre de financeurs",
            "Nombre de financeurs qui ont voté un montant pour ce dossier.",
            required=True,
            minimum=1,
            example="2",
        ),
        *ATTRIBUANT,
        REFERENCE,
        Column(
            "dateDecision",
            "date",
            "Date de la décision",
            "Date du vote du comité des financeurs.",
            example="2025-03-20",
        ),
        DATE_CONVENTION,
        Column(
            "dateDepot",
            "date",
            "Date de dépôt",
            "Date de dépôt du dossier par l'association.",
            example="2025-01-31",
        ),
        *BENEFICIAIRE,
        Column(
            "montantTotal",
            "number",
            "Montant total",
            "Total des montants votés par tous les financeurs du dossier (€).",
            required=True,
            minimum=0,
            example="20000",
        ),
        Column(
            "montantAttribuant",
            "number",
            "Montant de l'attribuant",
            "Montant voté par ce financeur (€).",
            required=True,
            minimum=0,
            example="12000",
        ),
        DISPOSITIF,
        Column(
            "est_demonstration",
            "boolean",
            "Donnée de démonstration",
            "true si la subvention est fictive (démonstration) : à écarter, ainsi que la ligne du "
            "fichier subventions qui lui correspond.",
            required=True,
            example="false",
        ),
    ),
    queryset=lambda contract, user: scdl.published_lines(contract),
    rows=lambda queryset, contract, user: scdl.cofinancing_rows(queryset, contract),
    primary_key=("identifiantSubvention", "idAttribuant"),
    foreign_keys=(ForeignKey("dispositifAide", "dispositifs-aide", "id_aide"),),
)

DISPOSITIFS_AIDE = Resource(
    name="dispositifs-aide",
    title="Appels à projets (schéma des dispositifs d’aide)",
    description=(
        "Les appels à projets du contrat (publiés ou archivés), décrits avec les champs du schéma "
        "national des dispositifs d'aide (etalab/schema-dispositif-aide, version 0.0.1)."
    ),
    columns=(
        _s(
            "id_aide",
            "Identifiant de l'aide",
            "« <contrat>-aap-<année> », stable.",
            required=True,
            unique=True,
            example="nantes-metropole-2024-2030-aap-2025",
        ),
        _s(
            "nom_aide",
            "Nom de l'aide",
            "Titre de l'appel.",
            example="Appel à projets politique de la ville 2025",
        ),
        _s(
            "nom_aide_normalise",
            "Nom de l'aide normalisé",
            "Titre commençant par un verbe à l'infinitif (moins de 180 caractères).",
            required=True,
            max_length=179,
            example="Financer un projet associatif dans un quartier prioritaire",
        ),
        _s(
            "programme_aides",
            "Programme",
            "Le contrat de ville dont relève l'appel.",
            example="Contrat de ville de Nantes Métropole 2024-2030",
        ),
        _s(
            "porteur_aide",
            "Porteurs de l'aide",
            "Financeurs de l'appel, séparés par des virgules.",
            required=True,
            example="Nantes Métropole, État",
        ),
        _s(
            "porteur_siren",
            "SIREN des porteurs",
            "SIREN des financeurs qui en ont un, séparés par des virgules.",
            pattern=r"^(?:[^,]{9},)*[^,]{9}$",
            example="244400404,214401093",
        ),
        _s(
            "instructeurs_aide",
            "Instructeurs",
            "Chaque financeur instruit sa ligne de chaque dossier.",
            example="Nantes Métropole, État",
        ),
        _s("beneficiaires_aide", "Bénéficiaires", "Associations.", required=True, example="Associations"),
        _s("types_aides", "Types d'aides", "Subvention.", required=True, example="Subvention"),
        Column(
            "aap_ami",
            "boolean",
            "Appel à projets",
            "true : c'est un appel à projets.",
            required=True,
            example="true",
        ),
        _s(
            "description",
            "Description",
            "Présentation de l'appel en langage clair.",
            required=True,
            example="Des subventions aux projets associatifs au bénéfice des habitants des quartiers.",
        ),
        _s(
            "thematique_aide",
            "Thématique",
            "Politique de la ville.",
            required=True,
            example="Politique de la ville",
        ),
        _s(
            "recurrence_aide",
            "Récurrence",
            "Récurrente : l'appel est relancé chaque année.",
            required=True,
            enum=("Permanente", "Ponctuelle", "Récurrente"),
            example="Récurrente",
        ),
        Column(
            "date_ouverture",
            "date",
            "Date d'ouverture",
            "Ouverture du dépôt des dossiers.",
            required=True,
            example="2024-10-01",
        ),
        Column(
            "date_pre_depot",
            "date",
            "Date de pré-dépôt",
            "Vide : l'appel n'a pas de date limite de pré-dépôt (l'échange avec le quartier le précède).",
            example="2024-11-15",
        ),
        Column(
            "date_cloture",
            "date",
            "Date de clôture",
            "Dernier jour du dépôt des dossiers.",
            required=True,
            example="2024-12-15",
        ),
        _s(
            "condition_eligibilite",
            "Conditions d'éligibilité",
            "Les règles d'éligibilité réglées pour l'appel.",
            example="Association loi 1901 ; projet au bénéfice des habitants d'un QPV",
        ),
        _s(
            "zone_geographique",
            "Zone géographique",
            "Les quartiers prioritaires du contrat.",
            required=True,
            example="Quartiers prioritaires de Nantes Métropole",
        ),
        _s(
            "url_descriptif",
            "Descriptif",
            "Page publique de l'appel (vide s'il est archivé).",
            format="uri",
            example="https://metropole.nantes.fr/aap-politique-de-la-ville",
        ),
        _s(
            "url_demarche",
            "Démarche en ligne",
            "Où déposer un dossier (vide s'il est archivé).",
            format="uri",
            example="https://metropole.nantes.fr/aap-politique-de-la-ville/deposer",
        ),
        _s("contact", "Contact", "Qui joindre.", required=True, example="politique.ville@nantesmetropole.fr"),
        Column(
            "date_mise_a_jour",
            "date",
            "Date de mise à jour",
            "Dernière modification de l'appel.",
            required=True,
            example="2024-09-30",
        ),
        Column(
            "annee",
            "integer",
            "Année",
            "Année des projets de l'appel (hors schéma national).",
            required=True,
            minimum=2000,
            maximum=2100,
            example="2025",
        ),
        Column(
            "est_demonstration",
            "boolean",
            "Donnée de démonstration",
            "true si l'appel est fictif (démonstration) : à écarter (hors schéma national).",
            required=True,
            example="false",
        ),
    ),
    queryset=lambda contract, user: scdl.published_calls(contract),
    rows=lambda queryset, contract, user: scdl.dispositif_rows(queryset, contract),
    primary_key=("id_aide",),
)

GRANT_RESOURCES = (SUBVENTIONS, COFINANCEMENT, DISPOSITIFS_AIDE)
