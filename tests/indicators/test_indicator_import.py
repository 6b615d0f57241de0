"""Import des valeurs d'indicateurs (CSV, XLSX ; format long ou large) : tout ou rien, idempotent."""

import io
import zipfile
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from cdv.indicators import importer, mapper
from cdv.indicators.enums import Aggregation, Scope, ValueStatus
from cdv.indicators.importer import import_indicator_values
from cdv.indicators.models import Indicator, IndicatorValue
from cdv.territories.models import Territory
from tests import factories

pytestmark = pytest.mark.django_db

LONG_HEADER = ["indicateur", "territoire", "periode", "valeur"]


# --- outils ----------------------------------------------------------------------------------


def csv_bytes(rows, *, sep=";", encoding="utf-8", newline="\n") -> bytes:
    return newline.join(sep.join(str(cell) for cell in row) for row in rows).encode(encoding) + b"\n"


def xlsx_bytes(rows, *, title="Valeurs", before=()) -> bytes:
    workbook = Workbook()
    ws = workbook.active
    ws.title = title
    for row in [*before, *rows]:
        ws.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_bytes(members: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def run(contract, content, filename="valeurs.csv", **kwargs):
    """Un import ; la source et le millésime de tout le fichier sont donnés sauf mention contraire."""
    kwargs.setdefault("source", "INSEE, fichier de test")
    kwargs.setdefault("vintage", "2021")
    return import_indicator_values(
        contract=contract, fileobj=io.BytesIO(content), filename=filename, **kwargs
    )


def snapshot():
    return list(
        IndicatorValue.objects.order_by("pk").values_list(
            "pk",
            "indicator_id",
            "scope",
            "territory_id",
            "year",
            "quarter",
            "value",
            "numerator",
            "denominator",
            "is_secret",
            "status",
            "source",
            "vintage",
            "comment",
        )
    )


def stored(code, territory, year, quarter=0):
    if territory is None:
        return IndicatorValue.objects.get(
            indicator__code=code, scope=Scope.CONTRACT_QPVS, year=year, quarter=quarter
        )
    return IndicatorValue.objects.get(
        indicator__code=code, territory__code=territory, year=year, quarter=quarter
    )


@pytest.fixture
def qpvs(nantes):
    return list(nantes.qpvs.order_by("code").values_list("code", flat=True))


def assert_refused(report, *fragments, before=None):
    assert not report.ok, "l'import aurait dû être refusé"
    text = "\n".join(report.errors)
    for fragment in fragments:
        assert fragment in text, f"« {fragment} » absent de :\n{text}"
    assert report.created == report.updated == report.unchanged == 0
    assert report.summary.startswith("Import refusé")
    assert "n'a pas été modifiée" in report.summary
    if before is not None:
        assert snapshot() == before, "la base a changé malgré le refus"


# --- fichiers corrects -----------------------------------------------------------------------


def test_long_csv_utf8_semicolon_decimal_comma_and_thousands_spaces(nantes, qpvs):
    content = csv_bytes(
        [
            [*LONG_HEADER, "statut", "millesime", "commentaire"],
            ["population", qpvs[0], "2021", "12\u202f345", "provisoire", "RP 2021", "Recensement"],
            ["population", qpvs[1], "2021", "4 321", "définitive", "RP 2021", ""],
            ["taux-chomage-localise", "5216", "2026-T1", "6,8", "", "", ""],
            ["taux-chomage-localise", "FR", "2026T2", "7,25", "", "", ""],
            ["taux-chomage-localise", "FR", "2026-Q3", "7,3", "", "", ""],
            ["population", "44109", "2021", "320 732", "", "", ""],
            ["population", "244400404", "2021", "680000", "", "", ""],
        ]
    )
    report = run(nantes, content)
    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (7, 0, 0)
    assert report.layout == "long"
    assert report.summary == "Import terminé : 7 valeurs créées, 0 modifiée, 0 inchangée."
    first = stored("population", qpvs[0], 2021)
    assert first.value == Decimal("12345")
    assert (first.status, first.vintage, first.comment) == (ValueStatus.PROVISIONAL, "RP 2021", "Recensement")
    assert first.scope == Scope.TERRITORY and not first.is_secret
    assert stored("population", qpvs[1], 2021).status == ValueStatus.FINAL
    assert stored("taux-chomage-localise", "5216", 2026, 1).value == Decimal("6.8")
    assert stored("taux-chomage-localise", "FR", 2026, 2).value == Decimal("7.25")
    assert stored("taux-chomage-localise", "FR", 2026, 3).value == Decimal("7.3")
    assert stored("population", "44109", 2021).value == 320732
    assert stored("population", "244400404", 2021).value == 680000


def test_long_csv_latin1_comma_separated_with_english_and_accented_headers(nantes, qpvs):
    content = csv_bytes(
        [
            ["Indicator", "Code territoire", "Période", "Value", "Millésime", "Commentaire"],
            ["population", qpvs[2], "2020", "1500", "Données définitives", "Quartier étudié"],
            ["POPULATION", qpvs[3].lower(), "2020", '"1500,5"', "", "Écart à vérifier"],
        ],
        sep=",",
        encoding="cp1252",
    )
    assert "é".encode("cp1252") in content  # le fichier est bien en Windows-1252
    report = run(nantes, content, filename="valeurs-latin1.csv")
    assert report.ok, report.errors
    assert report.created == 2
    value = stored("population", qpvs[2], 2020)
    assert (value.vintage, value.comment) == ("Données définitives", "Quartier étudié")
    assert stored("population", qpvs[3], 2020).value == Decimal("1500.5")
    assert stored("population", qpvs[3], 2020).comment == "Écart à vérifier"


def test_long_csv_utf8_with_bom_tab_separated_and_crlf(nantes, qpvs):
    content = b"\xef\xbb\xbf" + csv_bytes(
        [["Indicateur", "Territoire", "Periode", "Valeur"], ["population", qpvs[4], "2019", "987"]],
        sep="\t",
        newline="\r\n",
    )
    report = run(nantes, content, filename="valeurs.tsv")
    assert report.ok, report.errors
    assert stored("population", qpvs[4], 2019).value == 987


def test_utf16_export_uploaded_file_and_progress_bars(nantes, qpvs):
    """Export « texte Unicode » d'Excel (UTF-16, tabulations), reçu comme un fichier téléversé."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = f"indicateur\tterritoire\tperiode\tvaleur\r\npopulation\t{qpvs[5]}\t2019\t1\u00a0234,5\r\n"
    upload = SimpleUploadedFile("export.txt", text.encode("utf-16"))
    bars = []

    class Bar:
        def __init__(self, **kwargs):
            self.kwargs, self.done, self.closed = kwargs, 0, False
            bars.append(self)

        def update(self, n=1):
            self.done += n

        def close(self):
            self.closed = True

    report = import_indicator_values(
        contract=nantes, fileobj=upload, filename=upload.name, source="INSEE", vintage="2019", progress=Bar
    )
    assert report.ok, report.errors
    assert stored("population", qpvs[5], 2019).value == Decimal("1234.5")
    assert [bar.kwargs["desc"] for bar in bars] == ["Lecture", "Écriture"]
    assert bars[1].done == 1 and all(bar.closed for bar in bars)


def test_unknown_columns_are_ignored_and_listed(nantes, qpvs):
    content = csv_bytes(
        [[*LONG_HEADER, "Nom du quartier", "Note"], ["population", qpvs[0], "2018", "10", "X", "y"]]
    )
    report = run(nantes, content)
    assert report.ok, report.errors
    assert report.ignored_columns == ["Nom du quartier", "Note"]
    assert "Colonnes ignorées : « Nom du quartier », « Note »." in report.summary


def as_published(value):
    """Les options d'un import qui redonne la provenance d'une valeur déjà publiée."""
    return {"source": value.source, "vintage": value.vintage, "final": value.status == ValueStatus.FINAL}


def test_contract_wide_value_qpv_contrat_updates_the_published_figure(nantes):
    published = stored("population", None, 2023)
    assert published.value == 54800 and published.territory_id is None
    content = csv_bytes(
        [
            LONG_HEADER,
            ["population", "QPV_CONTRAT", "2023", "54800"],  # déjà publié : inchangé
            ["population", "ensemble_qpv", "2024", "55 100"],
        ]
    )
    report = run(nantes, content, **as_published(published))
    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (1, 0, 1)
    new = stored("population", None, 2024)
    assert (new.scope, new.territory_id, new.value) == (Scope.CONTRACT_QPVS, None, 55100)
    published.refresh_from_db()
    assert published.vintage == "non précisé" and published.comment  # ce que le fichier ne dit pas reste


def test_secret_cells_are_stored_without_number(nantes, qpvs):
    content = csv_bytes(
        [
            [*LONG_HEADER, "secret"],
            ["population", qpvs[0], "2017", "s", ""],
            ["population", qpvs[1], "2017", "", "oui"],
            ["population", qpvs[2], "2017", "ND", ""],
            ["population", qpvs[3], "2017", "12", "non"],
        ]
    )
    report = run(nantes, content)
    assert report.ok, report.errors
    for code in qpvs[:3]:
        value = stored("population", code, 2017)
        assert value.is_secret and value.value is None and value.numerator is None
        assert value.display == "s"
    assert not stored("population", qpvs[3], 2017).is_secret


def test_ratio_with_numerator_and_denominator_within_tolerance(nantes, qpvs):
    content = csv_bytes(
        [
            [*LONG_HEADER, "numerateur", "denominateur"],
            ["taux-pauvrete", qpvs[0], "2021", "33,33", "1", "3"],  # 33,333… à 0,05 près
            ["taux-pauvrete", qpvs[1], "2021", "40", "400", "1 000"],
            ["population", qpvs[1], "2021", "999", "1", "2"],  # pas un taux : pas de contrôle
        ]
    )
    report = run(nantes, content)
    assert report.ok, report.errors
    value = stored("taux-pauvrete", qpvs[1], 2021)
    assert (value.value, value.numerator, value.denominator) == (40, 400, 1000)


def test_a_rate_is_checked_at_its_own_scale_whatever_its_unit_wording(nantes, qpvs):
    """« % des ménages » (échelle 100) et « pour 1 000 habitants » (échelle 1 000) sont des taux :
    45 = 45 / 100 × 100 et 8,5 = 17 / 2 000 × 1 000 sont acceptés ; 0,45 est refusé."""

    common = {"contract": nantes, "aggregation": Aggregation.RATIO}
    Indicator.objects.create(code="menages", name="Ménages", unit="% des ménages", rate_scale=100, **common)
    Indicator.objects.create(
        code="faits", name="Faits", unit="pour 1 000 habitants", rate_scale=1000, **common
    )
    header = [*LONG_HEADER, "numerateur", "denominateur"]
    report = run(
        nantes,
        csv_bytes(
            [
                header,
                ["menages", qpvs[0], "2021", "45", "45", "100"],
                ["faits", qpvs[0], "2021", "8,5", "17", "2000"],
            ]
        ),
    )
    assert report.ok, report.errors
    assert stored("faits", qpvs[0], 2021).value == Decimal("8.5")
    before = snapshot()
    refused = run(nantes, csv_bytes([header, ["menages", qpvs[1], "2021", "0,45", "45", "100"]]))
    assert_refused(refused, "0,45 ne correspond pas", "45 / 100 × 100 = 45 % des ménages", before=before)
    # Un taux agrégé autrement (moyenne pondérée) est vérifié de même dès qu'il a une échelle.
    Indicator.objects.create(
        contract=nantes,
        code="pondere",
        name="Pondéré",
        unit="%",
        rate_scale=100,
        aggregation=Aggregation.WEIGHTED_MEAN,
    )
    refused = run(nantes, csv_bytes([header, ["pondere", qpvs[1], "2021", "50", "45", "100"]]))
    assert_refused(refused, "50 ne correspond pas", "45 / 100 × 100 = 45 %", before=before)


def test_wide_insee_csv_with_mapping_and_period(nantes, qpvs):
    content = csv_bytes(
        [
            ["CODGEO", "LIBGEO", "P21_POP", "P21_POP15P", "C21_MEN"],
            [qpvs[0], "Quartier A", "1234", "1000", "500"],
            [qpvs[1], "Quartier B", "s", "900", "400"],
            [qpvs[2], "Quartier C", "nd", "", ""],
            [qpvs[3], "Quartier D", "", "", ""],  # vide : rien à importer
            ["44109", "Nantes", "320732", "", ""],
        ]
    )
    report = run(nantes, content, mapping={"P21_POP": "population", mapper.PERIOD_KEY: "2021"})
    assert report.ok, report.errors
    assert report.layout == "large"
    assert report.created == 4
    assert report.ignored_columns == ["P21_POP15P", "C21_MEN"]
    assert stored("population", qpvs[0], 2021).value == 1234
    assert stored("population", qpvs[1], 2021).is_secret
    assert stored("population", qpvs[2], 2021).is_secret
    assert not IndicatorValue.objects.filter(territory__code=qpvs[3], year=2021).exists()
    assert stored("population", "44109", 2021).value == 320732


def test_xlsx_long_layout(nantes, qpvs):
    content = xlsx_bytes(
        [
            ["Indicateur", "Territoire", "Période", "Valeur", "Secret"],
            ["population", qpvs[0], 2016, 1500, None],
            ["population", qpvs[1], "2016", 12.5, None],
            ["taux-chomage-localise", 5216, "2026-T4", "7,1", None],
            ["population", "QPV_CONTRAT", 2016, None, "oui"],
        ]
    )
    report = run(nantes, content, filename="valeurs.xlsx")
    assert report.ok, report.errors
    assert report.created == 4
    assert stored("population", qpvs[1], 2016).value == Decimal("12.5")
    assert stored("taux-chomage-localise", "5216", 2026, 4).value == Decimal("7.1")
    assert stored("population", None, 2016).is_secret


def test_xlsx_wide_layout_with_insee_title_rows(nantes, qpvs):
    content = xlsx_bytes(
        [
            ["CODGEO", "LIBGEO", "P21_POP"],
            [qpvs[0], "Quartier A", 1111],
            [qpvs[1], "Quartier B", "s"],
        ],
        title="COM",
        before=[["Populations légales 2021"], [None], ["Source : Insee"]],
    )
    report = run(
        nantes, content, filename="base-insee.xlsx", mapping={"p21_pop": "population", "_periode": 2021}
    )
    assert report.ok, report.errors
    assert report.created == 2
    assert stored("population", qpvs[0], 2021).value == 1111


def test_xlsx_is_recognised_by_content_whatever_the_name(nantes, qpvs):
    content = xlsx_bytes([LONG_HEADER, ["population", qpvs[0], 2015, 3]])
    report = run(nantes, content, filename="export.csv")
    assert report.ok, report.errors
    assert report.created == 1


def test_second_import_changes_nothing(nantes, qpvs):
    content = csv_bytes(
        [
            [*LONG_HEADER, "numerateur", "denominateur", "statut", "millesime"],
            ["taux-pauvrete", qpvs[0], "2022", "25", "250", "1000", "provisoire", "FiLoSoFi 2022"],
            ["population", qpvs[0], "2022", "1000,1234", "", "", "", ""],
            ["population", qpvs[1], "2022", "s", "", "", "", ""],
            ["population", "QPV_CONTRAT", "2022", "54 000", "", "", "", ""],
        ]
    )
    first = run(nantes, content)
    assert first.ok and first.created == 4
    before = snapshot()
    second = run(nantes, content)
    assert second.ok, second.errors
    assert (second.created, second.updated, second.unchanged) == (0, 0, 4)
    assert second.summary == "Import terminé : 0 valeur créée, 0 modifiée, 4 inchangées."
    assert snapshot() == before


def test_a_changed_value_is_updated_and_the_rest_left_alone(nantes, qpvs):
    header = [*LONG_HEADER, "commentaire"]
    run(
        nantes,
        csv_bytes(
            [header, ["population", qpvs[0], "2022", "100", "a"], ["population", qpvs[1], "2022", "200", "b"]]
        ),
    )
    untouched = stored("population", qpvs[1], 2022)
    report = run(
        nantes,
        csv_bytes(
            [LONG_HEADER, ["population", qpvs[0], "2022", "150"], ["population", qpvs[1], "2022", "200"]]
        ),
    )
    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    changed = stored("population", qpvs[0], 2022)
    assert changed.value == 150 and changed.comment == "a"  # sans colonne commentaire : gardé
    assert stored("population", qpvs[1], 2022) == untouched
    # Une valeur devenue secrète perd son nombre.
    report = run(nantes, csv_bytes([LONG_HEADER, ["population", qpvs[0], "2022", "s"]]))
    assert report.updated == 1
    changed.refresh_from_db()
    assert changed.is_secret and changed.value is None


def test_dry_run_counts_without_writing(nantes, qpvs):
    before = snapshot()
    content = csv_bytes(
        [LONG_HEADER, ["population", qpvs[0], "2014", "1"], ["population", "QPV_CONTRAT", "2023", "54800"]]
    )
    report = run(nantes, content, dry_run=True, **as_published(stored("population", None, 2023)))
    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (1, 0, 1)
    assert report.summary.startswith("Simulation, rien n'a été enregistré : 1 valeur serait créée")
    assert snapshot() == before


def test_long_file_without_period_column_takes_the_given_period(nantes, qpvs):
    content = csv_bytes([["indicateur", "territoire", "valeur"], ["population", qpvs[0], "7"]])
    report = run(nantes, content, mapping={"_periode": "2013"})
    assert report.ok, report.errors
    assert stored("population", qpvs[0], 2013).value == 7


# --- refus : une ligne, une colonne, un message, base inchangée ------------------------------


@pytest.fixture
def other_contract_indicator():
    other = factories.ContractFactory(title="Contrat de Rezé")
    return Indicator.objects.create(contract=other, code="indicateur-ailleurs", name="Ailleurs", unit="%")


BAD_ROWS = [
    # (cas, en-tête, ligne fautive, ligne, colonne, extrait du message)
    (
        "unknown indicator",
        LONG_HEADER,
        ["inconnu", "{qpv}", "2024", "1"],
        "indicateur",
        "n'existe pas dans le contrat",
    ),
    (
        "indicator of another contract",
        LONG_HEADER,
        ["indicateur-ailleurs", "{qpv}", "2024", "1"],
        "indicateur",
        "appartient à un autre contrat (« Contrat de Rezé »)",
    ),
    (
        "missing indicator",
        LONG_HEADER,
        ["", "{qpv}", "2024", "1"],
        "indicateur",
        "code d'indicateur manquant",
    ),
    (
        "unknown QPV",
        LONG_HEADER,
        ["population", "QN09999M", "2024", "1"],
        "territoire",
        "aucun QPV de la géographie 2024",
    ),
    (
        "malformed QPV",
        LONG_HEADER,
        ["population", "QN123", "2024", "1"],
        "territoire",
        "n'est pas un code QPV valide",
    ),
    (
        "unknown commune",
        LONG_HEADER,
        ["population", "01001", "2024", "1"],
        "territoire",
        "aucune commune n'a le code INSEE",
    ),
    (
        "unreadable territory",
        LONG_HEADER,
        ["population", "Nantes", "2024", "1"],
        "territoire",
        "n'est pas un code de territoire reconnu",
    ),
    (
        "bad period",
        LONG_HEADER,
        ["population", "{qpv}", "2024/03", "1"],
        "periode",
        "n'est pas une période reconnue",
    ),
    (
        "bad quarter",
        LONG_HEADER,
        ["population", "{qpv}", "2024-T5", "1"],
        "periode",
        "trimestre 5 impossible",
    ),
    (
        "year out of range",
        LONG_HEADER,
        ["population", "{qpv}", "1980", "1"],
        "periode",
        "l'année 1980 sort de la plage",
    ),
    (
        "non-numeric value",
        LONG_HEADER,
        ["population", "{qpv}", "2024", "12,a"],
        "valeur",
        "« 12,a » n'est pas un nombre.",
    ),
    ("missing value", LONG_HEADER, ["population", "{qpv}", "2024", ""], "valeur", "valeur manquante"),
    (
        "too large value",
        LONG_HEADER,
        ["population", "{qpv}", "2024", "1234567890123"],
        "valeur",
        "trop grand",
    ),
    (
        "zero denominator",
        [*LONG_HEADER, "numerateur", "denominateur"],
        ["population", "{qpv}", "2024", "1", "0", "0"],
        "denominateur",
        "strictement positif (« 0 »)",
    ),
    (
        "negative denominator",
        [*LONG_HEADER, "numerateur", "denominateur"],
        ["population", "{qpv}", "2024", "1", "5", "-5"],
        "denominateur",
        "strictement positif (« -5 »)",
    ),
    (
        "numerator without denominator",
        [*LONG_HEADER, "numerateur", "denominateur"],
        ["population", "{qpv}", "2024", "1", "5", ""],
        "denominateur",
        "numérateur et dénominateur vont ensemble",
    ),
    (
        "value and secret",
        [*LONG_HEADER, "secret"],
        ["population", "{qpv}", "2024", "12", "oui"],
        "valeur",
        "une valeur secrète n'a pas de nombre",
    ),
    (
        "secret word",
        [*LONG_HEADER, "secret"],
        ["population", "{qpv}", "2024", "12", "peut-être"],
        "secret",
        "attendu oui ou non",
    ),
    (
        "secret with numerator",
        [*LONG_HEADER, "numerateur", "denominateur"],
        ["population", "{qpv}", "2024", "s", "5", "10"],
        "numerateur",
        "n'a pas de numérateur",
    ),
    (
        "ratio inconsistent",
        [*LONG_HEADER, "numerateur", "denominateur"],
        ["taux-pauvrete", "{qpv}", "2024", "30", "250", "1000"],
        "valeur",
        "30 ne correspond pas au rapport numérateur / dénominateur (250 / 1000 × 100 = 25 %, à 0,05 près)",
    ),
    (
        "secret mark against secret column",
        [*LONG_HEADER, "secret"],
        ["population", "{qpv}", "2024", "s", "non"],
        "valeur",
        "signale un secret statistique, mais la colonne secret dit non",
    ),
    (
        "bad status",
        [*LONG_HEADER, "statut"],
        ["population", "{qpv}", "2024", "1", "estimée"],
        "statut",
        "attendu « provisoire » ou « définitive »",
    ),
    (
        "duplicate row",
        LONG_HEADER,
        ["population", "{first}", "2024", "2"],
        "territoire",
        "doublon de la ligne 2",
    ),
]


@pytest.mark.parametrize(
    ("header", "bad", "column", "fragment"),
    [case[1:] for case in BAD_ROWS],
    ids=[case[0] for case in BAD_ROWS],
)
def test_bad_row_is_reported_with_row_and_column_and_nothing_is_written(
    nantes, qpvs, other_contract_indicator, header, bad, column, fragment
):
    good = [["population", qpvs[0], "2024", "1"] + [""] * (len(header) - 4)]
    rows = good + [["population", qpvs[i], "2024", "1"] + [""] * (len(header) - 4) for i in range(1, 10)]
    bad = [cell.format(qpv=qpvs[12], first=qpvs[0]) for cell in bad]
    before = snapshot()
    report = run(nantes, csv_bytes([header, *rows, bad]))  # la ligne fautive est la 12e
    assert_refused(report, f"Ligne 12, colonne « {column} » : ", fragment, before=before)
    assert len(report.errors) == 1, report.errors
    assert not IndicatorValue.objects.filter(
        indicator__code="population", year=2024, territory__code__in=qpvs
    ).exists()


def test_the_message_reads_as_in_the_specification(nantes, qpvs):
    rows = (
        [LONG_HEADER]
        + [["population", qpvs[i], "2012", "1"] for i in range(10)]
        + [["population", qpvs[11], "2012", "12,a"]]
    )
    report = run(nantes, csv_bytes(rows))
    assert report.errors == ["Ligne 12, colonne « valeur » : « 12,a » n'est pas un nombre."]


def test_every_error_is_collected_in_row_order(nantes, qpvs):
    before = snapshot()
    content = csv_bytes(
        [
            LONG_HEADER,
            ["population", qpvs[0], "2024", "x"],
            ["population", "QN09999M", "2024-T9", "1"],
            ["inconnu", qpvs[1], "2024", "2"],
            ["population", qpvs[2], "2024", "3"],
        ]
    )
    report = run(nantes, content)
    assert_refused(report, before=before)
    assert [error.split(" : ")[0] for error in report.errors] == [
        "Ligne 2, colonne « valeur »",
        "Ligne 3, colonne « territoire »",
        "Ligne 3, colonne « periode »",
        "Ligne 4, colonne « indicateur »",
    ]
    assert report.summary == "Import refusé : 4 erreurs. La base de données n'a pas été modifiée."


def test_errors_beyond_the_limit_are_counted(nantes, qpvs, monkeypatch):
    monkeypatch.setattr(importer, "MAX_ERRORS", 3)
    rows = [LONG_HEADER] + [["population", qpvs[0], str(2000 + i), "x"] for i in range(6)]
    report = run(nantes, csv_bytes(rows))
    assert len(report.errors) == 4
    assert report.errors[-1] == "… et 3 autres erreurs non affichées."


def test_missing_required_column(nantes, qpvs):
    before = snapshot()
    report = run(
        nantes, csv_bytes([["indicateur", "territoire", "periode"], ["population", qpvs[0], "2024"]])
    )
    assert_refused(report, "Ligne 1, colonne « valeur » : colonne obligatoire absente", before=before)


def test_neither_long_nor_wide_header(nantes):
    report = run(nantes, csv_bytes([["a", "b"], ["1", "2"]]))
    assert_refused(
        report,
        "Ligne 1, colonne « indicateur » : colonne obligatoire absente",
        "Ligne 1, colonne « territoire »",
    )


def test_column_given_twice(nantes, qpvs):
    report = run(nantes, csv_bytes([[*LONG_HEADER, "Value"], ["population", qpvs[0], "2024", "1", "2"]]))
    assert_refused(report, "Ligne 1, colonne « Value » : deux colonnes désignent « valeur »")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "le fichier est vide"),
        (b"  \n\n", "le fichier est vide"),
        (b"indicateur;territoire;periode;valeur\n", "aucune ligne de données"),
        (b"\x00\x01\x02binaire\x00" * 50, "contenu binaire refusé"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "ce fichier est un PDF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "Excel 97-2003 (.xls)"),
        (b"PK\x03\x04 pas une archive", "archive endommagée"),
    ],
    ids=["empty", "blank", "header only", "binary", "pdf", "xls", "broken zip"],
)
def test_file_level_refusals(nantes, content, fragment):
    before = snapshot()
    assert_refused(
        run(nantes, content, filename="valeurs.csv"), "Fichier « valeurs.csv » : ", fragment, before=before
    )


def test_csv_content_named_xlsx_is_refused(nantes, qpvs):
    report = run(
        nantes, csv_bytes([LONG_HEADER, ["population", qpvs[0], "2024", "1"]]), filename="valeurs.xlsx"
    )
    assert_refused(report, "n'est pas un classeur XLSX (quel que soit son nom)")


def test_too_large_file_is_refused(nantes, qpvs, monkeypatch):
    monkeypatch.setattr(importer, "MAX_UPLOAD_BYTES", 100)
    before = snapshot()
    rows = [LONG_HEADER] + [["population", qpvs[0], str(2000 + i), "1"] for i in range(10)]
    assert_refused(run(nantes, csv_bytes(rows)), "dépasse la taille maximale de 100 octets", before=before)


def test_too_many_rows_is_refused(nantes, qpvs, monkeypatch):
    monkeypatch.setattr(mapper, "MAX_ROWS", 3)
    rows = [LONG_HEADER] + [["population", qpvs[0], str(2000 + i), "1"] for i in range(5)]
    assert_refused(run(nantes, csv_bytes(rows)), "Ligne 5 : le fichier dépasse 3 lignes")


def test_xlsx_with_a_formula_is_refused(nantes, qpvs):
    before = snapshot()
    content = xlsx_bytes(
        [LONG_HEADER, ["population", qpvs[0], 2024, 1], ["population", qpvs[1], 2024, "=D2*2"]]
    )
    report = run(nantes, content, filename="valeurs.xlsx")
    assert_refused(
        report,
        "Feuille « Valeurs », ligne 3, colonne « valeur » : les formules ne sont pas acceptées (=D2*2)",
        before=before,
    )
    assert len(report.errors) == 1


def test_xlsx_errors_name_the_sheet(nantes, qpvs):
    content = xlsx_bytes([LONG_HEADER, ["population", qpvs[0], 2024, "abc"]])
    report = run(nantes, content, filename="valeurs.xlsx")
    assert report.errors == [
        "Feuille « Valeurs », ligne 2, colonne « valeur » : « abc » n'est pas un nombre."
    ]


def test_zip_bomb_and_non_workbook_zip_are_refused(nantes):
    bomb = zip_bytes({"[Content_Types].xml": "<x/>", "xl/workbook.xml": b"\0" * (5 * 1024 * 1024)})
    assert_refused(run(nantes, bomb, filename="bombe.xlsx"), "anormalement grand")
    assert_refused(
        run(nantes, zip_bytes({"word/document.xml": "<w/>"})), "archive ZIP mais pas un classeur XLSX"
    )
    macros = zip_bytes({"[Content_Types].xml": "<x/>", "xl/workbook.xml": "<w/>", "xl/vbaProject.bin": "x"})
    assert_refused(run(nantes, macros, filename="macro.xlsm"), "macros")


def test_wide_file_without_period_is_refused(nantes, qpvs):
    before = snapshot()
    content = csv_bytes([["CODGEO", "LIBGEO", "P21_POP"], [qpvs[0], "A", "12"]])
    report = run(nantes, content, mapping={"P21_POP": "population"})
    assert_refused(
        report, "un fichier large (une colonne par indicateur) doit recevoir sa période", before=before
    )


def test_wide_file_without_mapping_is_refused(nantes, qpvs):
    content = csv_bytes([["CODGEO", "LIBGEO", "P21_POP"], [qpvs[0], "A", "12"]])
    assert_refused(run(nantes, content, mapping={"_periode": "2021"}), "aucune n'a été donnée")


def test_wide_mapping_to_an_unknown_indicator(nantes, qpvs):
    before = snapshot()
    content = csv_bytes([["CODGEO", "LIBGEO", "P21_POP"], [qpvs[0], "A", "12"]])
    report = run(nantes, content, mapping={"P21_POP": "popu", "_periode": "2021"})
    assert_refused(report, "Ligne 1, colonne « P21_POP » : l'indicateur « popu » n'existe pas", before=before)


def test_wide_mapping_to_a_missing_column_and_twice_the_same_indicator(nantes, qpvs):
    content = csv_bytes([["CODGEO", "P21_POP", "P20_POP"], [qpvs[0], "12", "11"]])
    report = run(
        nantes,
        content,
        mapping={
            "P21_POP": "population",
            "P20_POP": "population",
            "P19_POP": "population",
            "_periode": "2021",
        },
    )
    assert_refused(
        report,
        "la correspondance nomme la colonne « P19_POP », absente du fichier",
        "Ligne 1, colonne « P20_POP » : "
        "l'indicateur « population » est déjà associé à la colonne « P21_POP »",
    )


def test_wide_bad_cells_name_row_and_column(nantes, qpvs):
    before = snapshot()
    content = csv_bytes(
        [
            ["CODGEO", "LIBGEO", "P21_POP"],
            [qpvs[0], "A", "12"],
            ["QN09999M", "B", "3"],
            [qpvs[1], "C", "douze"],
        ]
    )
    report = run(nantes, content, mapping={"P21_POP": "population", "_periode": "2021"})
    assert_refused(report, before=before)
    assert report.errors[0].startswith("Ligne 3, colonne « CODGEO » : aucun QPV")
    assert report.errors[1] == "Ligne 4, colonne « P21_POP » : « douze » n'est pas un nombre."


def test_bad_period_argument_and_mapping_on_a_long_file(nantes, qpvs):
    wide = csv_bytes([["CODGEO", "P21_POP"], [qpvs[0], "12"]])
    assert_refused(
        run(nantes, wide, mapping={"P21_POP": "population", "_periode": "2021-T7"}), "trimestre 7 impossible"
    )
    assert_refused(
        run(nantes, wide, mapping={"P21_POP": "population", "_annee": "2021"}), "clé « _annee » inconnue"
    )
    long = csv_bytes([LONG_HEADER, ["population", qpvs[0], "2024", "1"]])
    assert_refused(run(nantes, long, mapping={"valeur": "population"}), "ne vaut que pour un fichier large")
    assert_refused(run(nantes, long, mapping={"_periode": "2021"}), "ne donnez pas en plus de période")


def test_a_ratio_indicator_uses_its_rate_scale(nantes, qpvs):
    Indicator.objects.create(
        contract=nantes,
        code="taux-pour-mille",
        name="Taux",
        unit="‰",
        rate_scale=1000,
        aggregation=Aggregation.RATIO,
    )
    Indicator.objects.create(
        contract=nantes,
        code="rapport-simple",
        name="Rapport",
        unit="personnes par logement",
        aggregation=Aggregation.RATIO,
    )
    content = csv_bytes(
        [
            [*LONG_HEADER, "numerateur", "denominateur"],
            ["taux-pour-mille", qpvs[0], "2024", "2,5", "5", "2000"],
            ["rapport-simple", qpvs[0], "2024", "2,3", "230", "100"],
            ["rapport-simple", qpvs[1], "2024", "230", "230", "100"],
        ]
    )
    report = run(nantes, content)
    assert_refused(
        report,
        "Ligne 4, colonne « valeur » : 230 ne correspond pas au rapport numérateur / dénominateur "
        "(230 / 100 = 2,3, à 0,05 près)",
    )
    assert len(report.errors) == 1


def test_territories_of_every_level_resolve(nantes):
    zone = Territory.objects.get(kind="ZONE_EMPLOI")
    content = csv_bytes(
        [
            LONG_HEADER,
            ["taux-chomage-localise", zone.code, "2011-T1", "1"],
            ["taux-chomage-localise", "fr", "2011-T1", "2"],
            ["population", "244400404", "2011", "3"],
            ["population", "44", "2011", "4"],
        ]
    )
    report = run(nantes, content)
    assert report.ok, report.errors
    assert stored("population", "44", 2011).territory.kind == "DEPARTEMENT"


# --- commande --------------------------------------------------------------------------------


def test_command_imports_and_prints_the_summary(nantes, qpvs, tmp_path):
    path = tmp_path / "valeurs.csv"
    path.write_bytes(
        csv_bytes([LONG_HEADER, ["population", qpvs[0], "2010", "10"], ["population", qpvs[1], "2010", "s"]])
    )
    out, err = io.StringIO(), io.StringIO()
    source = ["--source", "INSEE, RP 2010", "--millesime", "2010"]
    call_command("import_indicator_values", str(path), *source, contract=nantes.slug, stdout=out, stderr=err)
    assert "Import terminé : 2 valeurs créées, 0 modifiée, 0 inchangée." in out.getvalue()
    assert stored("population", qpvs[0], 2010).value == 10
    out = io.StringIO()
    call_command(
        "import_indicator_values", str(path), "--contract", nantes.slug, *source, stdout=out, stderr=err
    )
    assert "0 valeur créée, 0 modifiée, 2 inchangées" in out.getvalue()


def test_command_wide_with_mapping_period_and_dry_run(nantes, qpvs, tmp_path):
    path = tmp_path / "insee.csv"
    path.write_bytes(
        csv_bytes([["CODGEO", "LIBGEO", "P21_POP", "P21_MEN"], [qpvs[0], "A", "1 234", "500"]], sep=",")
    )
    before = snapshot()
    out = io.StringIO()
    args = [str(path), "--contract", nantes.slug, "--mapping", "P21_POP=population", "--period", "2021"]
    args += ["--source", "INSEE, RP 2021", "--millesime", "2021"]
    call_command("import_indicator_values", *args, "--dry-run", stdout=out, stderr=io.StringIO())
    assert "Simulation, rien n'a été enregistré : 1 valeur serait créée" in out.getvalue()
    assert "Colonnes ignorées : « P21_MEN »." in out.getvalue()
    assert snapshot() == before
    call_command("import_indicator_values", *args, stdout=io.StringIO(), stderr=io.StringIO())
    assert stored("population", qpvs[0], 2021).value == 1234


def test_command_refuses_and_prints_every_error(nantes, qpvs, tmp_path):
    path = tmp_path / "faux.csv"
    path.write_bytes(
        csv_bytes(
            [
                LONG_HEADER,
                ["population", qpvs[0], "2024", "1"],
                ["inconnu", qpvs[0], "2024", "1"],
                ["population", qpvs[1], "2024-T8", "x"],
            ]
        )
    )
    before = snapshot()
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(
            "import_indicator_values",
            str(path),
            "--source=INSEE",
            "--millesime=2024",
            contract=nantes.slug,
            stdout=io.StringIO(),
            stderr=err,
        )
    assert "Import refusé : 3 erreurs" in str(raised.value)
    printed = err.getvalue()
    assert "Ligne 3, colonne « indicateur »" in printed
    assert "Ligne 4, colonne « periode » : trimestre 8 impossible" in printed
    assert "Ligne 4, colonne « valeur » : « x » n'est pas un nombre." in printed
    assert snapshot() == before


def test_command_argument_errors(nantes, tmp_path):
    path = tmp_path / "v.csv"
    path.write_bytes(csv_bytes([LONG_HEADER]))
    with pytest.raises(CommandError, match="Contrat introuvable"):
        call_command("import_indicator_values", str(path), contract="inconnu")
    with pytest.raises(CommandError, match="Fichier introuvable"):
        call_command("import_indicator_values", str(tmp_path / "absent.csv"), contract=nantes.slug)
    with pytest.raises(CommandError, match="attendu COLONNE=code-indicateur"):
        call_command("import_indicator_values", str(path), "--contract", nantes.slug, "--mapping", "P21_POP")


# --- source, millésime et statut : chaque valeur importée dit d'où elle vient -----------------


def test_an_import_without_source_or_vintage_is_refused(nantes, qpvs):
    content = csv_bytes([LONG_HEADER, ["population", qpvs[0], "2009", "10"]])
    before = snapshot()
    report = run(nantes, content, source=None, vintage=None)
    assert_refused(
        report,
        "source des valeurs absente : ajoutez une colonne « source » ou donnez la source de tout "
        "le fichier (--source",
        "millésime des valeurs absent : ajoutez une colonne « millesime » ou donnez le millésime de "
        "tout le fichier (--millesime",
        before=before,
    )


def test_a_row_without_source_is_refused_and_named(nantes, qpvs):
    content = csv_bytes(
        [
            [*LONG_HEADER, "source", "millesime"],
            ["population", qpvs[0], "2009", "10", "INSEE, RP 2009", "2009"],
            ["population", qpvs[1], "2009", "11", "", "2009"],
            ["population", qpvs[2], "2009", "12", "INSEE, RP 2009", ""],
        ]
    )
    before = snapshot()
    report = run(nantes, content, source=None, vintage=None)
    assert_refused(
        report,
        "Ligne 3, colonne « source » : source manquante : indiquez-la sur la ligne ou pour tout le fichier",
        "Ligne 4, colonne « millesime » : millésime manquant",
        before=before,
    )
    assert len(report.errors) == 2


def test_file_default_source_row_columns_override_and_values_are_provisional(nantes, qpvs):
    content = csv_bytes(
        [
            [*LONG_HEADER, "source", "millesime", "statut"],
            ["population", qpvs[0], "2008", "10", "", "", ""],
            ["population", qpvs[1], "2008", "11", "Ville de Nantes, comptage", "2008-bis", "définitive"],
        ]
    )
    report = run(nantes, content, source="INSEE, RP 2008", vintage="2008")
    assert report.ok, report.errors
    first, second = stored("population", qpvs[0], 2008), stored("population", qpvs[1], 2008)
    assert (first.source, first.vintage, first.status) == ("INSEE, RP 2008", "2008", ValueStatus.PROVISIONAL)
    assert (second.source, second.vintage, second.status) == (
        "Ville de Nantes, comptage",
        "2008-bis",
        ValueStatus.FINAL,
    )
    # Le même fichier avec la même source : rien ne change.
    again = run(nantes, content, source="INSEE, RP 2008", vintage="2008")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    # Déclaré définitif pour tout le fichier : la ligne sans statut le devient.
    final = run(nantes, content, source="INSEE, RP 2008", vintage="2008", final=True)
    assert (final.created, final.updated, final.unchanged) == (0, 1, 1)
    assert stored("population", qpvs[0], 2008).status == ValueStatus.FINAL


def test_wide_file_takes_the_file_source_and_vintage(nantes, qpvs):
    content = csv_bytes([["CODGEO", "LIBGEO", "P21_POP"], [qpvs[0], "A", "1 234"]], sep=",")
    mapping = {"P21_POP": "population", mapper.PERIOD_KEY: "2007"}
    assert_refused(run(nantes, content, mapping=mapping, source=None), "source des valeurs absente")
    report = run(nantes, content, mapping=mapping, source="INSEE, RP 2021", vintage="2021")
    assert report.ok, report.errors
    value = stored("population", qpvs[0], 2007)
    assert (value.source, value.vintage, value.status) == ("INSEE, RP 2021", "2021", ValueStatus.PROVISIONAL)


def test_command_takes_source_vintage_and_final_options(nantes, qpvs, tmp_path):
    path = tmp_path / "valeurs.csv"
    path.write_bytes(csv_bytes([LONG_HEADER, ["population", qpvs[0], "2006", "10"]]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="Import refusé"):
        call_command(
            "import_indicator_values", str(path), contract=nantes.slug, stdout=io.StringIO(), stderr=err
        )
    assert "source des valeurs absente" in err.getvalue()
    args = [str(path), "--contract", nantes.slug, "--source", "INSEE, Filosofi 2021", "--millesime", "2021"]
    call_command("import_indicator_values", *args, stdout=io.StringIO(), stderr=io.StringIO())
    value = stored("population", qpvs[0], 2006)
    assert (value.source, value.vintage, value.status) == (
        "INSEE, Filosofi 2021",
        "2021",
        ValueStatus.PROVISIONAL,
    )
    call_command("import_indicator_values", *args, "--definitif", stdout=io.StringIO(), stderr=io.StringIO())
    assert stored("population", qpvs[0], 2006).status == ValueStatus.FINAL
