"""Les fabriques de tests/factories/ : chacune (et chacun de ses traits) bâtit seule un objet
enregistré et valide, et chaque modèle de cdv/ a la sienne."""

import factory
import pytest
from django.apps import apps
from simple_history.models import HistoricalChanges

from tests import factories

pytestmark = pytest.mark.django_db


def all_factories():
    found = []
    for name in sorted(factories.__all__ if hasattr(factories, "__all__") else dir(factories)):
        value = getattr(factories, name)
        if (
            isinstance(value, type)
            and issubclass(value, factory.django.DjangoModelFactory)
            and not value._meta.abstract
        ):
            found.append(value)
    return found


FACTORIES = all_factories()


def traits(factory_class):
    return sorted(
        name for name, value in factory_class._meta.parameters.items() if isinstance(value, factory.Trait)
    )


CASES = [(f, None) for f in FACTORIES] + [(f, trait) for f in FACTORIES for trait in traits(f)]


def cdv_models():
    return [
        model
        for model in apps.get_models()
        if model.__module__.startswith("cdv.") and not issubclass(model, HistoricalChanges)
    ]


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    """Pièces jointes et fichiers résultats dans un dossier jetable."""
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.parametrize(
    ("factory_class", "trait"),
    CASES,
    ids=[f"{f.__name__}-{trait or 'default'}" for f, trait in CASES],
)
def test_factory_builds_a_valid_saved_instance(factory_class, trait):
    instance = factory_class(**({trait: True} if trait else {}))
    assert instance.pk is not None
    instance.refresh_from_db()
    instance.full_clean()


def test_every_cdv_model_has_a_factory():
    by_model = {f._meta.model for f in FACTORIES}
    names = {f.__name__ for f in FACTORIES}
    missing = []
    for model in cdv_models():
        if model._meta.proxy:
            # Un modèle mandataire (Qpv, Commune, Epci) : sa fabrique porte son nom et bâtit le modèle réel.
            if f"{model.__name__}Factory" not in names or model._meta.concrete_model not in by_model:
                missing.append(model.__name__)
        elif model not in by_model:
            missing.append(model.__name__)
    assert not missing, f"Modèles sans fabrique dans tests/factories/ : {', '.join(missing)}"


def test_a_commitment_factory_alone_builds_a_consistent_world():
    commitment = factories.CommitmentFactory(in_qpv=True, confirmed=True)
    contract = commitment.contract
    assert commitment.objective.enjeu.contract == contract
    assert list(commitment.qpvs.all()) == list(contract.qpvs.all())
    report = factories.ProgressReportFactory(accepted=True)
    assert report.commitment.contract == report.campaign.contract
    assert report.partner == report.commitment.partner
    answer = factories.AnswerFactory()
    assert answer.item.questionnaire == answer.response.questionnaire
    assert answer.response.questionnaire.qpv in answer.response.questionnaire.evaluation.contract.qpvs.all()


def test_file_factories_write_their_file_under_its_given_name():
    attachment = factories.ReportAttachmentFactory(original_name="compte-rendu.pdf")
    assert attachment.file.name.endswith("/compte-rendu.pdf")
    with attachment.file.open("rb") as stored:
        assert stored.read() == factories.PDF
    assert attachment.size == len(factories.PDF)
    means = factories.CommitmentFactory(means=[2025, 2026]).means.order_by("year")
    assert [m.year for m in means] == [2025, 2026]


def test_qpv_codes_of_the_factory_are_valid_distinct_and_never_a_fixed_test_code():
    """800 codes bien formés et distincts avant que la fabrique ne revienne au premier (un monde de
    test tient bien moins de QPV à la fois), jamais un code réel (départements 096 et 097, qui
    n'existent pas) ni un code fixe des tests (départements 098 et 099)."""
    from cdv.core.validators import QPV_2024_RE
    from tests.factories.territories import qpv_code

    codes = [qpv_code(n) for n in range(800)]
    assert len(set(codes)) == 800 and qpv_code(800) == codes[0]
    assert all(QPV_2024_RE.match(code) for code in codes)
    assert {code[:5] for code in codes} == {"QN096", "QN097"}
    created = {factories.QpvFactory().code for _ in range(3)}
    assert len(created) == 3 and created <= set(codes)
