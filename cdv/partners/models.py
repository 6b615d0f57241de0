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


def _running(actions) -> models.Q:
    """Les partenaires pilotes ou contributeurs de ces actions."""
    contributors = actions.model.contributors.through.objects.filter(action__in=actions)
    pilots = actions.exclude(pilot_partner=None)
    return models.Q(pk__in=pilots.values("pilot_partner_id")) | models.Q(
        pk__in=contributors.values("partner_id")
    )


class PartnerQuerySet(models.QuerySet):
    def collectives(self):
        return self.filter(kind=PartnerKind.COLLECTIVE)

    def citizen_councils(self):
        return self.filter(kind=PartnerKind.CITIZEN_COUNCIL)

    def taking_part_in(self, contract):
        """Partenaires qui prennent part au contrat : signataires et participants, partenaires au nom
        desquels quelqu'un y a un rôle, partenaires qui y ont des engagements (comme
        ``commitments.abilities.partner_takes_part``). Y ajouter un partenaire est un acte explicite
        du pilote (``contracts.services.add_partner_to_contract``)."""
        from cdv.commitments.models import Commitment
        from cdv.contracts.models import Signatory
        from cdv.users.models import Membership

        return self.filter(
            models.Q(pk__in=Signatory.objects.filter(contract=contract).values("partner_id"))
            | models.Q(pk__in=Membership.objects.filter(contract=contract).values("partner_id"))
            | models.Q(pk__in=Commitment.objects.filter(contract=contract).values("partner_id"))
        )

    def with_public_commitment_counts(self, contract):
        """Annote ``published`` (engagements publiés dans ``contract``) et ``done`` (parmi eux, ceux
        réalisés en tout ou partie)."""
        from cdv.commitments.enums import PUBLIC_STATUSES, REALISED_STATUSES

        public = models.Q(commitments__contract=contract, commitments__status__in=PUBLIC_STATUSES)
        return self.annotate(
            published=models.Count("commitments", filter=public, distinct=True),
            done=models.Count(
                "commitments",
                filter=public & models.Q(commitments__status__in=REALISED_STATUSES),
                distinct=True,
            ),
        )

    def search(self, text: str):
        """Recherche par nom, sigle, SIREN ou SIRET (début du numéro)."""
        text = (text or "").strip()
        digits = "".join(ch for ch in text if ch.isdigit())
        query = models.Q(name__icontains=text) | models.Q(short_name__icontains=text)
        if len(digits) >= 3 and len(digits) == len(text.replace(" ", "")):
            query |= models.Q(siret__startswith=digits) | models.Q(siren__startswith=digits)
        return self.filter(query)

    def with_place_in(self, user, contract):
        """Partenaires qui ont une place visible de ``user`` dans le contrat.

        Pour tous : signataires et participants, pilotes et contributeurs des actions, partenaires qui
        portent un engagement visible (publié pour le public). Pour les membres du contrat, aussi les
        partenaires au nom desquels des personnes y ont un rôle, et ceux qui n'ont que des brouillons.
        """
        from cdv.commitments.abilities import visible_commitments
        from cdv.commitments.models import Commitment
        from cdv.contracts.abilities import contract_abilities
        from cdv.contracts.models import Signatory
        from cdv.plan.models import Action
        from cdv.users.models import Membership

        actions = Action.objects.for_contract(contract)
        place = (
            models.Q(pk__in=Signatory.objects.filter(contract=contract).values("partner_id"))
            | _running(actions)
            | models.Q(
                pk__in=visible_commitments(user, Commitment.objects.all(), contract).values("partner_id")
            )
        )
        if contract_abilities(user, contract)["view_internals"]:
            members = Membership.objects.filter(contract=contract).exclude(partner=None)
            place |= models.Q(pk__in=members.values("partner_id"))
        return self.filter(place)

    def active_in(self, user, contract, qpv):
        """Partenaires actifs dans un quartier, comme sur sa page publique : engagements visibles de
        ``user`` qui s'y appliquent (y compris de portée générale), pilotes et contributeurs des
        actions de sa feuille de route, conseils citoyens qui le couvrent."""
        from cdv.commitments.abilities import visible_commitments
        from cdv.commitments.models import Commitment
        from cdv.plan.models import Action

        actions = Action.objects.for_contract(contract).applying_to(qpv)
        commitments = visible_commitments(user, Commitment.objects.all(), contract).applying_to(qpv)
        return self.filter(
            models.Q(pk__in=commitments.values("partner_id"))
            | _running(actions)
            | models.Q(pk__in=Partner.qpvs.through.objects.filter(territory=qpv).values("partner_id"))
        )


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
    # Identité tenue à jour ici, reprise par chaque dossier de l'appel à projets (CERFA 12156).
    address = models.CharField("adresse du siège", max_length=300, blank=True)
    postal_code = models.CharField("code postal", max_length=5, blank=True)
    city = models.CharField("commune", max_length=100, blank=True)
    legal_representative = models.CharField("représentant légal (nom)", max_length=200, blank=True)
    legal_representative_title = models.CharField("qualité du représentant légal", max_length=100, blank=True)
    employees = models.PositiveIntegerField("salariés", null=True, blank=True)
    volunteers = models.PositiveIntegerField("bénévoles", null=True, blank=True)
    fte = models.DecimalField(
        "équivalents temps plein (ETP)", max_digits=7, decimal_places=2, null=True, blank=True
    )
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
