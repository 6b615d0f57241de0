"""Les subventions votées en données ouvertes au format de l'État : SCDL subventions 2.1.1,
cofinancement (Data.Subvention), dispositifs d'aide ; Data Package validé par frictionless,
y compris les cas qui doivent échouer."""

import csv
import datetime
import io
import json
from decimal import Decimal

import frictionless
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cdv.core.validators import luhn_ok
from cdv.grants.enums import InstalmentKind, LineStatus, PaymentTerms
from cdv.partners.enums import PartnerKind
from tests import factories
from tests.worlds import built_once, fresh_copy

from .scdl_columns import SCDL

pytestmark = pytest.mark.django_db

SIGNED_ON = datetime.date(2030, 3, 2)


def siret(seed: int) -> str:
    base = f"2{seed:012d}"[:13]
    return next(base + str(d) for d in range(10) if luhn_ok(base + str(d)))


class World:
    def __init__(self):
        self.contract = factories.ContractFactory()
        self.call = factories.CallFactory(contract=self.contract, voted=True, year=2030)
        self.state = factories.CallFunderFactory(
            call=self.call,
            partner=factories.PartnerFactory(
                name="Préfecture (test SCDL)", kind=PartnerKind.STATE, siret=siret(1)
            ),
        )
        self.metropole = factories.CallFunderFactory(
            call=self.call,
            partner=factories.PartnerFactory(
                name="Métropole (test SCDL)", kind=PartnerKind.EPCI, siret=siret(2)
            ),
        )
        self.association = factories.PartnerFactory(
            name="Association Tremplin (test SCDL)", siret=siret(3), rna="W442001234"
        )

    def application(self, **kwargs):
        kwargs.setdefault("partner", self.association)
        return factories.ApplicationFactory(call=self.call, decided=True, **kwargs)

    def line(self, application, funder, amount="1500.00", *, signed=True, **kwargs):
        line = factories.FunderLineFactory(
            application=application, funder=funder, voted=True, voted_amount=Decimal(amount), **kwargs
        )
        if signed is not None:
            act = factories.GrantActFactory(line=line, reference=f"ACT-{line.pk}")
            if signed:
                act.signed_on = SIGNED_ON
                act.save()
        return line

    def base(self):
        return f"/contrats/{self.contract.slug}/donnees/"


@pytest.fixture(scope="module")
def built_world(django_db_setup, django_db_blocker):
    """Bâti une fois pour le fichier (tests/worlds.py) ; chaque test annule ce qu'il écrit."""
    with built_once(django_db_blocker):
        yield World()


@pytest.fixture
def world(built_world):
    """Les objets du monde, copiés pour le test : ce qu'il y change en mémoire reste à lui."""
    return fresh_copy(built_world)


def rows(client, world, name="subventions"):
    response = client.get(f"{world.base()}{name}.csv")
    assert response.status_code == 200, response.content[:300]
    text = response.content.decode("utf-8")
    return next(csv.reader(io.StringIO(text))), list(csv.DictReader(io.StringIO(text)))


# ---------------------------------------------------------------------------------------------
# Colonnes et valeurs


def test_the_file_has_exactly_the_16_scdl_columns_in_order(client, world):
    header, _ = rows(client, world)
    assert header == SCDL


def test_a_signed_grant_is_one_row_with_the_scdl_values(client, world):
    application = world.application(title="Ateliers d'écriture au pied des tours")
    line = world.line(application, world.state, "12500.50")
    header, data = rows(client, world)
    assert len(data) == 1
    row = data[0]
    assert row == {
        "nomAttribuant": "Préfecture (test SCDL)",
        "idAttribuant": siret(1),
        "dateConvention": "2030-03-02",
        "referenceDecision": f"ACT-{line.pk}",
        "nomBeneficiaire": "Association Tremplin (test SCDL)",
        "idBeneficiaire": siret(3),
        "rnaBeneficiaire": "W442001234",
        "objet": "Ateliers d'écriture au pied des tours",
        "montant": "12500.5",
        "nature": "aide en numéraire",
        "conditionsVersement": "unique",
        # Sans échéancier ni versement : de la signature au 31 décembre de l'année de l'appel.
        "datesPeriodeVersement": "2030-03-02/2030-12-31",
        "idRAE": "",
        "notificationUE": "non",
        "pourcentageSubvention": "1.00",
        "dispositifAide": f"{world.contract.slug}-aap-2030",
    }


def test_one_row_per_funder_and_beneficiary(client, world):
    application = world.application()
    world.line(application, world.state, "3000")
    world.line(application, world.metropole, "2000")
    _, data = rows(client, world)
    assert sorted((r["nomAttribuant"], r["montant"]) for r in data) == [
        ("Métropole (test SCDL)", "2000"),
        ("Préfecture (test SCDL)", "3000"),
    ]


def test_a_grant_waits_for_its_signed_act_then_is_published(client, world):
    """Choix documenté : dateConvention est la signature de l'acte ; sans elle, rien n'est publié."""
    application = world.application()
    unsigned = world.line(application, world.state, signed=False)
    world.line(world.application(), world.metropole, signed=None)  # pas même d'acte préparé
    assert rows(client, world)[1] == []
    unsigned.act.signed_on = SIGNED_ON
    unsigned.act.save()
    assert [r["referenceDecision"] for r in rows(client, world)[1]] == [unsigned.act.reference]


def test_only_voted_lines_of_a_held_committee_are_published(client, world):
    application = world.application()
    world.line(application, world.state, "1000")
    world.line(application, world.metropole, "0")  # voté à 0 : pas une subvention
    rejected = factories.FunderLineFactory(
        application=world.application(), funder=world.state, status=LineStatus.REJECTED
    )
    factories.GrantActFactory(line=rejected, signed=True, amount=Decimal("1000"))
    other = factories.CallFactory(contract=world.contract, year=2031)  # comité pas encore tenu
    pending = factories.FunderLineFactory(
        application=factories.ApplicationFactory(call=other, decided=True),
        funder=factories.CallFunderFactory(call=other, partner=world.state.partner),
        voted=True,
    )
    factories.GrantActFactory(line=pending, signed=True)
    _, data = rows(client, world)
    assert [r["montant"] for r in data] == ["1000"]


def test_staged_payments_give_a_period_and_a_single_payment_a_date(client, world):
    staged = world.line(world.application(title="Échelonné"), world.state, "4000")
    factories.PaymentInstalmentFactory(
        line=staged, kind=InstalmentKind.ADVANCE, order=1, amount=2000, due_date=datetime.date(2030, 3, 15)
    )
    factories.PaymentInstalmentFactory(
        line=staged, kind=InstalmentKind.BALANCE, order=2, amount=2000, due_date=datetime.date(2030, 11, 30)
    )
    factories.PaymentFactory(line=staged, amount=2000, paid_on=datetime.date(2030, 3, 20))
    single = world.line(world.application(title="Unique"), world.metropole, "900")
    factories.PaymentFactory(line=single, amount=900, paid_on=datetime.date(2030, 4, 1))
    by_title = {r["objet"]: r for r in rows(client, world)[1]}
    assert by_title["Échelonné"]["conditionsVersement"] == "échelonné"
    assert by_title["Échelonné"]["datesPeriodeVersement"] == "2030-03-15/2030-11-30"
    assert by_title["Unique"]["conditionsVersement"] == "unique"
    assert by_title["Unique"]["datesPeriodeVersement"] == "2030-04-01"


def test_the_act_payment_terms_decide_when_there_is_no_schedule(client, world):
    line = world.line(world.application(), world.state)
    line.act.payment_terms = PaymentTerms.STAGED
    line.act.save()
    row = rows(client, world)[1][0]
    assert row["conditionsVersement"] == "échelonné"
    assert row["datesPeriodeVersement"] == "2030-03-02/2030-12-31"


def test_a_long_title_is_cut_under_256_characters(client, world):
    world.line(
        world.application(title="Projet " + "très " * 55), world.state
    )  # 282 caractères, sous les 300 du champ
    objet = rows(client, world)[1][0]["objet"]
    assert len(objet) < 256 and objet.endswith("…")


# ---------------------------------------------------------------------------------------------
# Un financeur sans SIRET valide : la ligne n'est pas publiée, le pilote sait pourquoi


def test_a_funder_without_a_valid_siret_is_withheld_and_the_pilot_is_told(client, world):
    world.line(world.application(), world.state)
    world.line(world.application(), world.metropole)
    world.metropole.partner.siret = "12345678901234"  # 14 chiffres, mauvaise clé
    world.metropole.partner.save()
    unsigned = world.line(world.application(), world.state, signed=False)
    assert [r["nomAttribuant"] for r in rows(client, world)[1]] == ["Préfecture (test SCDL)"]
    _, cofinancing = rows(client, world, "subventions-cofinancement")
    assert [r["nomAttribuant"] for r in cofinancing] == ["Préfecture (test SCDL)"]

    public = client.get(world.base()).content.decode()
    assert "Subventions pas encore publiées" not in public
    client.force_login(factories.MembershipFactory(contract=world.contract, role="PILOTE").user)
    page = client.get(world.base()).content.decode()
    assert "Subventions pas encore publiées" in page
    assert "Métropole (test SCDL)" in page and "12345678901234" in page and "invalide" in page
    assert "1 subvention votée attend la signature" in page
    assert unsigned.act.reference not in page


# ---------------------------------------------------------------------------------------------
# Cofinancement et dispositifs d'aide


def test_the_cofinancing_file_links_the_funders_of_one_application(client, world):
    application = world.application()
    world.line(application, world.state, "3000")
    world.line(application, world.metropole, "2000")
    alone = world.application()
    world.line(alone, world.state, "700")
    _, data = rows(client, world, "subventions-cofinancement")
    shared = [r for r in data if r["multiFinanceur"] == "true"]
    assert len(shared) == 2 and len({r["identifiantSubvention"] for r in shared}) == 1
    assert shared[0]["identifiantSubvention"] == f"{world.contract.slug}-aap-2030-{application.number}"
    assert {r["montantTotal"] for r in shared} == {"5000"}
    assert sorted(r["montantAttribuant"] for r in shared) == ["2000", "3000"]
    single = next(r for r in data if r["multiFinanceur"] == "false")
    assert single["montantTotal"] == single["montantAttribuant"] == "700"
    assert single["dateDecision"] and single["dateDepot"] and single["dateConvention"] == "2030-03-02"


def test_the_call_is_published_with_the_dispositif_aide_fields(client, world):
    world.call.contacts = "Mission politique de la ville, 02 40 00 00 00"
    world.call.save()
    factories.CallFactory(contract=world.contract, draft=True, year=2032)
    _, data = rows(client, world, "dispositifs-aide")
    assert len(data) == 1
    row = data[0]
    assert row["id_aide"] == f"{world.contract.slug}-aap-2030"
    assert row["aap_ami"] == "true" and row["types_aides"] == "Subvention"
    assert row["date_ouverture"] == world.call.filing_opens.isoformat()
    assert row["date_cloture"] == world.call.filing_closes.isoformat()
    assert row["porteur_aide"] == "Préfecture (test SCDL),Métropole (test SCDL)"
    assert row["porteur_siren"] == f"{siret(1)[:9]},{siret(2)[:9]}"
    assert row["url_descriptif"] == f"http://testserver/contrats/{world.contract.slug}/aap/2030/"
    assert row["contact"] == "Mission politique de la ville, 02 40 00 00 00"


# ---------------------------------------------------------------------------------------------
# Data Package et frictionless


def download_package(client, world, folder):
    descriptor = json.loads(client.get(f"{world.base()}datapackage.json").content)
    for resource in descriptor["resources"]:
        response = client.get(resource["path"].removeprefix("http://testserver"))
        assert response.status_code == 200
        (folder / f"{resource['name']}.csv").write_bytes(response.content)
        resource["path"] = f"{resource['name']}.csv"
    (folder / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False), encoding="utf-8")
    return descriptor


_PACKAGE = {}  # le paquet du monde complet, téléchargé une fois pour le fichier : {nom: octets}


def full_package(client, world, folder):
    """``full_world`` puis ``download_package`` dans ``folder`` ; le paquet est le même document pour
    chaque test (même monde, mêmes données) : téléchargé au premier test, recopié pour les suivants,
    qui le valident (et l'altèrent) chacun dans leur propre dossier."""
    if not _PACKAGE:
        full_world(world)
        download_package(client, world, folder)
        _PACKAGE.update({path.name: path.read_bytes() for path in folder.iterdir()})
        return
    for name, content in _PACKAGE.items():
        (folder / name).write_bytes(content)


def errors(report):
    return [
        (error.type, getattr(error, "field_name", None)) for task in report.tasks for error in task.errors
    ] + [(error.type, None) for error in report.errors]


def full_world(world):
    application = world.application()
    staged = world.line(application, world.state, "3000.25")
    factories.PaymentInstalmentFactory(line=staged, order=1, amount=1500, due_date=datetime.date(2030, 4, 1))
    factories.PaymentInstalmentFactory(
        line=staged, order=2, amount=1500.25, due_date=datetime.date(2030, 9, 1)
    )
    world.line(application, world.metropole, "2000")
    world.line(
        world.application(partner=factories.PartnerFactory(name="Asso sans SIRET")), world.state, "800"
    )


def test_the_grant_files_are_in_the_datapackage_with_their_table_schema(client, world):
    descriptor = json.loads(client.get(f"{world.base()}datapackage.json").content)
    resources = {r["name"]: r for r in descriptor["resources"]}
    schema = resources["subventions"]["schema"]
    fields = {f["name"]: f for f in schema["fields"]}
    assert [f["name"] for f in schema["fields"]] == SCDL
    assert fields["idAttribuant"]["constraints"] == {"required": True, "pattern": r"^\d{14}$"}
    assert fields["rnaBeneficiaire"]["constraints"]["pattern"] == r"^W\d{9}$"
    assert fields["pourcentageSubvention"]["constraints"] == {"required": True, "minimum": 0.01, "maximum": 1}
    assert fields["notificationUE"]["constraints"]["enum"] == ["oui", "non"]
    assert fields["conditionsVersement"]["constraints"]["enum"] == ["unique", "échelonné"]
    assert "aide en numéraire" in fields["nature"]["constraints"]["enum"]
    assert fields["dateConvention"]["type"] == "date" and fields["montant"]["type"] == "number"
    assert {"subventions-cofinancement", "dispositifs-aide"} <= set(resources)


def test_the_package_with_grants_is_valid_for_frictionless(client, world, tmp_path):
    full_package(client, world, tmp_path)
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])[:10]
    text = (tmp_path / "subventions.csv").read_text(encoding="utf-8")
    assert len(list(csv.DictReader(io.StringIO(text)))) == 3


def corrupt(path, column, value):
    text = path.read_bytes().decode("utf-8")
    data = list(csv.reader(io.StringIO(text)))
    data[1][data[0].index(column)] = value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(data)
    path.write_bytes(buffer.getvalue().encode("utf-8"))


@pytest.mark.parametrize(
    "column, value",
    [
        ("idAttribuant", "1234567890123"),  # 13 chiffres
        ("idAttribuant", "ABCDEFGHIJKLMN"),
        ("rnaBeneficiaire", "W12345"),
        ("pourcentageSubvention", "1.50"),
        ("notificationUE", "peut-être"),
        ("conditionsVersement", "en trois fois"),
        ("datesPeriodeVersement", "02/03/2030"),
        ("dateConvention", ""),
    ],
)
def test_a_bad_value_in_the_scdl_file_fails_validation_on_that_field(client, world, tmp_path, column, value):
    full_package(client, world, tmp_path)
    corrupt(tmp_path / "subventions.csv", column, value)
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert not report.valid
    found = errors(report)
    assert any(field == column for _, field in found), found


def test_a_grant_pointing_to_an_unknown_call_fails_the_foreign_key(client, world, tmp_path):
    full_package(client, world, tmp_path)
    corrupt(tmp_path / "subventions.csv", "dispositifAide", "appel-inconnu")
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert not report.valid and any(t == "foreign-key" for t, _ in errors(report))


# ---------------------------------------------------------------------------------------------
# Requêtes bornées


def test_the_scdl_export_does_not_query_per_row(client, world):
    def count(name):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"{world.base()}{name}.csv").status_code == 200
        return len(queries.captured_queries)

    world.line(world.application(), world.state)
    before = {name: count(name) for name in ("subventions", "subventions-cofinancement", "dispositifs-aide")}
    for i in range(12):
        line = world.line(world.application(), world.state if i % 2 else world.metropole, f"{100 + i}")
        factories.PaymentInstalmentFactory(line=line, order=1, amount=100, due_date=datetime.date(2030, 5, 1))
        factories.PaymentFactory(line=line, amount=50, paid_on=datetime.date(2030, 5, 2))
    after = {name: count(name) for name in before}
    assert after == before
    assert len(rows(client, world)[1]) == 13
    assert before["subventions"] <= 6
