"""Partenaires : les organisations qui signent, s'engagent ou participent.

Un partenaire est une organisation de l'instance (l'État ou la CAF peuvent prendre part à
plusieurs contrats) ; sa place dans un contrat passe par ``contracts.Signatory`` et par les
adhésions des personnes (``users.Membership``).
"""

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from cdv.core import validators

from .enums import PartnerKind


class PartnerQuerySet(models.QuerySet):
    def collectives(self):
        return self.filter(kind=PartnerKind.COLLECTIVE)

    def citizen_councils(self):
        return self.filter(kind=PartnerKind.CITIZEN_COUNCIL)


class Partner(models.Model):
    name = models.CharField("nom", max_length=200, unique=True)
    short_name = models.CharField("nom court ou sigle", max_length=60, blank=True)
    slug = models.SlugField("identifiant d'URL", max_length=80, unique=True)
    kind = models.CharField("type", max_length=20, choices=PartnerKind.choices)
    siren = models.CharField("SIREN", max_length=9, blank=True, validators=[validators.validate_siren])
    siret = models.CharField("SIRET", max_length=14, blank=True, validators=[validators.validate_siret])
    rna = models.CharField(
        "numéro RNA",
        max_length=10,
        blank=True,
        validators=[validators.validate_rna],
        help_text="Répertoire national des associations : W suivi de 9 caractères.",
    )
    website = models.URLField("site web", blank=True)
    description = models.TextField("présentation", blank=True)
    member_of = models.ManyToManyField(
        "self",
        verbose_name="membre des collectifs",
        symmetrical=False,
        blank=True,
        related_name="members",
        limit_choices_to={"kind": PartnerKind.COLLECTIVE},
    )
    qpvs = models.ManyToManyField(
        "territories.Territory",
        verbose_name="QPV couverts",
        blank=True,
        related_name="partners_covering",
        limit_choices_to={"kind": "QPV"},
        help_text="Pour un conseil citoyen : les quartiers qu'il couvre.",
    )
    is_demo = models.BooleanField("donnée de démonstration", default=False)
    history = HistoricalRecords()

    objects = PartnerQuerySet.as_manager()

    class Meta:
        verbose_name = "partenaire"
        verbose_name_plural = "partenaires"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.siren and self.siret and not self.siret.startswith(self.siren):
            raise ValidationError({"siret": "Le SIRET doit commencer par le SIREN de l'organisation."})
        if self.rna and self.kind not in {
            PartnerKind.ASSOCIATION,
            PartnerKind.COLLECTIVE,
            PartnerKind.CITIZEN_COUNCIL,
        }:
            raise ValidationError(
                {"rna": "Seule une association (ou un collectif associatif) a un numéro RNA."}
            )
