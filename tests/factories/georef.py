import factory
from django.utils import timezone

from cdv.georef.models import GeorefJob, JobStatus

from .base import ModelFactory, qpv_of
from .contracts import ContractFactory
from .users import UserFactory

__all__ = ["GeorefJobFactory"]


def done_summary(contract):
    qpv = qpv_of(contract)
    return {
        "rows": 20,
        "by_status": {"DANS_QPV": 12, "HORS_QPV": 8},
        "by_qpv": {qpv.code: [qpv.name, 12]},
    }


class GeorefJobFactory(ModelFactory):
    """Un traitement de géoréférencement en attente, lancé par une personne pour un contrat.

    Le trait ``done`` écrit un fichier résultat dans MEDIA_ROOT : le test en choisit un jetable."""

    class Meta:
        model = GeorefJob

    owner = factory.SubFactory(UserFactory)
    contract = factory.SubFactory(ContractFactory)
    original_name = "beneficiaires.csv"
    options = factory.LazyFunction(lambda: {"mode": "lonlat", "geography": "2024"})
    status = JobStatus.PENDING

    class Params:
        running = factory.Trait(
            status=JobStatus.RUNNING, started_at=factory.LazyFunction(timezone.now), progress_total=20
        )
        done = factory.Trait(
            status=JobStatus.DONE,
            started_at=factory.LazyFunction(timezone.now),
            finished_at=factory.LazyFunction(timezone.now),
            progress_done=20,
            progress_total=20,
            summary=factory.LazyAttribute(lambda o: done_summary(o.contract)),
            output_file=factory.django.FileField(
                filename="resultat.csv", data=b"nom;statut_qpv\nA;DANS_QPV\n"
            ),
        )
        failed = factory.Trait(
            status=JobStatus.FAILED,
            finished_at=factory.LazyFunction(timezone.now),
            error_message="Le fichier n'a pas de colonne de longitude.",
        )
