"""Plan d'action d'un contrat : enjeux → objectifs → actions, et leur déclinaison par QPV.

La feuille de route d'un QPV, ce sont ses priorités locales (``QpvPriority``) et les actions
qui s'y appliquent (celles qui le citent et celles de l'échelle métropolitaine), par enjeu.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from cdv.territories.enums import TerritoryKind

from .enums import ActionScope, ActionStatus

PLAIN_SUMMARY_MAX = 300


class EnjeuQuerySet(models.QuerySet):
    def for_contract(self, contract):
        return self.filter(contract=contract)

    def with_plan_counts(self):
        """Annote ``objective_count`` et ``action_count`` (non archivés) et ``demo_count`` (actions de
        démonstration)."""
        return self.annotate(
            objective_count=models.Count("objectives", filter=Q(objectives__archived_at=None), distinct=True),
            action_count=models.Count(
                "objectives__actions",
                filter=Q(objectives__archived_at=None, objectives__actions__archived_at=None),
                distinct=True,
            ),
            demo_count=models.Count(
                "objectives__actions", filter=Q(objectives__actions__is_demo=True), distinct=True
            ),
        )


class Enjeu(models.Model):
    contract = models.ForeignKey(
        "contracts.Contract", verbose_name="contrat", on_delete=models.CASCADE, related_name="enjeux"
    )
    number = models.PositiveSmallIntegerField("numéro")
    title = models.CharField("intitulé", max_length=200)
    slug = models.SlugField("identifiant d'URL", max_length=80)
    summary_plain = models.CharField("résumé en langage clair", max_length=PLAIN_SUMMARY_MAX, blank=True)
    description = models.TextField("description", blank=True)
    is_demo = models.BooleanField("donnée de démonstration", default=False)
    history = HistoricalRecords()

    objects = EnjeuQuerySet.as_manager()

    class Meta:
        verbose_name = "enjeu"
        verbose_name_plural = "enjeux"
        ordering = ["contract", "number"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="enjeu_unique_number"),
            models.UniqueConstraint(fields=["contract", "slug"], name="enjeu_unique_slug"),
        ]

    def __str__(self):
        return f"{self.number}. {self.title}"


class ObjectiveQuerySet(models.QuerySet):
    def for_contract(self, contract):
        return self.filter(enjeu__contract=contract)

    def active(self):
        """Objectifs non archivés : les seuls montrés au public et proposés aux engagements."""
        return self.filter(archived_at__isnull=True)


class Objective(models.Model):
    enjeu = models.ForeignKey(
        Enjeu, verbose_name="enjeu", on_delete=models.CASCADE, related_name="objectives"
    )
    number = models.PositiveSmallIntegerField("numéro dans l'enjeu")
    title = models.CharField("intitulé", max_length=300)
    description = models.TextField("description", blank=True)
    archived_at = models.DateTimeField("archivé le", null=True, blank=True)
    is_demo = models.BooleanField("donnée de démonstration", default=False)
    history = HistoricalRecords()

    objects = ObjectiveQuerySet.as_manager()

    class Meta:
        verbose_name = "objectif"
        verbose_name_plural = "objectifs"
        ordering = ["enjeu", "number"]
        constraints = [models.UniqueConstraint(fields=["enjeu", "number"], name="objective_unique_number")]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def code(self) -> str:
        return f"{self.enjeu.number}.{self.number}"

    @property
    def contract(self):
        return self.enjeu.contract


class ActionQuerySet(models.QuerySet):
    def in_status(self, status):
        """Un seul état, choisi par exemple dans un filtre (une valeur inconnue ne filtre pas)."""
        return self.filter(status=status) if status in ActionStatus.values else self

    def for_contract(self, contract):
        return self.filter(objective__enjeu__contract=contract)

    def applying_to(self, qpv):
        """Actions de la feuille de route d'un QPV : celles qui le citent et les métropolitaines."""
        return self.filter(Q(scope=ActionScope.METROPOLITAN) | Q(scope=ActionScope.QPV, qpvs=qpv)).distinct()

    def active(self):
        """Actions non archivées (ni elles ni leur objectif) : les seules montrées au public."""
        return self.filter(archived_at__isnull=True, objective__archived_at__isnull=True)

    def with_plan(self):
        return self.select_related("objective__enjeu", "pilot_partner")


class Action(models.Model):
    objective = models.ForeignKey(
        Objective, verbose_name="objectif", on_delete=models.CASCADE, related_name="actions"
    )
    code = models.CharField("référence", max_length=20, help_text="Ex. : 1.2.3.")
    title = models.CharField("intitulé", max_length=300)
    summary_plain = models.CharField(
        "résumé en langage clair",
        max_length=PLAIN_SUMMARY_MAX,
        help_text=f"{PLAIN_SUMMARY_MAX} caractères au plus, pour le public : phrases courtes, mots courants.",
    )
    description = models.TextField("description détaillée", blank=True)
    scope = models.CharField("échelle", max_length=10, choices=ActionScope.choices, default=ActionScope.QPV)
    qpvs = models.ManyToManyField(
        "territories.Territory",
        verbose_name="quartiers concernés",
        blank=True,
        related_name="actions",
        limit_choices_to={"kind": TerritoryKind.QPV},
    )
    pilot_partner = models.ForeignKey(
        "partners.Partner",
        verbose_name="partenaire pilote",
        on_delete=models.PROTECT,
        related_name="piloted_actions",
        null=True,
        blank=True,
    )
    contributors = models.ManyToManyField(
        "partners.Partner",
        verbose_name="partenaires contributeurs",
        blank=True,
        related_name="contributed_actions",
    )
    status = models.CharField(
        "état", max_length=12, choices=ActionStatus.choices, default=ActionStatus.PLANNED
    )
    start_on = models.DateField("début", null=True, blank=True)
    end_on = models.DateField("fin", null=True, blank=True)
    archived_at = models.DateTimeField("archivée le", null=True, blank=True)
    is_demo = models.BooleanField("donnée de démonstration", default=False)
    history = HistoricalRecords(m2m_fields=[qpvs, contributors])

    objects = ActionQuerySet.as_manager()

    class Meta:
        verbose_name = "action"
        verbose_name_plural = "actions"
        ordering = ["objective", "code"]
        constraints = [models.UniqueConstraint(fields=["objective", "code"], name="action_unique_code")]

    def __str__(self):
        return f"{self.code} {self.title}"

    def clean(self):
        if self.start_on and self.end_on and self.end_on < self.start_on:
            raise ValidationError({"end_on": "La fin de l'action précède son début."})

    @property
    def contract(self):
        return self.objective.enjeu.contract


def validate_action_qpvs(action: Action, qpvs) -> None:
    """Les quartiers d'une action sont ceux de son contrat ; une action de quartier en cite un."""
    contract = action.contract
    allowed = set(contract.qpvs.values_list("pk", flat=True))
    outside = [q for q in qpvs if q.pk not in allowed]
    if outside:
        names = ", ".join(str(q) for q in outside)
        raise ValidationError({"qpvs": f"Ces quartiers ne relèvent pas du contrat : {names}."})
    if action.scope == ActionScope.QPV and not qpvs:
        raise ValidationError({"qpvs": "Une action de quartier doit citer au moins un QPV."})
    if action.scope == ActionScope.METROPOLITAN and qpvs:
        raise ValidationError(
            {"qpvs": "Une action métropolitaine s'applique à tous les quartiers : n'en citez aucun."}
        )


class QpvPriority(models.Model):
    """Déclinaison d'un enjeu dans un quartier : ses priorités locales."""

    enjeu = models.ForeignKey(
        Enjeu, verbose_name="enjeu", on_delete=models.CASCADE, related_name="qpv_priorities"
    )
    qpv = models.ForeignKey(
        "territories.Territory",
        verbose_name="QPV",
        on_delete=models.PROTECT,
        related_name="priorities",
        limit_choices_to={"kind": TerritoryKind.QPV},
    )
    text = models.TextField("priorités locales")
    is_demo = models.BooleanField("donnée de démonstration", default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "priorité de quartier"
        verbose_name_plural = "priorités de quartier"
        ordering = ["qpv__name", "enjeu__number"]
        constraints = [models.UniqueConstraint(fields=["enjeu", "qpv"], name="qpvpriority_unique")]

    def __str__(self):
        return f"{self.qpv.name} — {self.enjeu.title}"

    def clean(self):
        if self.enjeu_id and self.qpv_id:
            if not self.enjeu.contract.qpvs.filter(pk=self.qpv_id).exists():
                raise ValidationError({"qpv": "Ce quartier ne relève pas du contrat de cet enjeu."})
