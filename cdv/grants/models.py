"""L'appel à projets annuel (AAP) d'un contrat : l'appel, ses financeurs et leur enveloppe, les
dossiers des associations avec leur budget (CERFA 12156) et une ligne par financeur, qui porte son
propre état, son avis, ses montants proposé et voté (comme dans Dauphin).

La partie 2 (conventions, paiements, compte-rendu financier) s'ajoute à ces modèles sans les
changer : chaque ligne de financeur votée devient le point d'accroche d'un acte et d'échéances.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from simple_history.models import HistoricalRecords

from cdv.territories.enums import TerritoryKind

from .enums import (
    INSTRUCTED_APPLICATION_STATUSES,
    PUBLIC_LINE_STATUSES,
    Account,
    ActKind,
    ApplicationStatus,
    CallStatus,
    DocumentKind,
    EventKind,
    FunderKind,
    InstalmentKind,
    LineStatus,
    Opinion,
    OpinionKind,
    PaymentTerms,
    ProjectScope,
    QpvShareSource,
    ReportPath,
    ReportStatus,
    ReviewDecision,
    Simulation,
    budget_row_title,
)

MONEY = {"max_digits": 12, "decimal_places": 2}
PERCENT = {"max_digits": 5, "decimal_places": 2}
MAX_YEARS = 4  # conventions pluriannuelles d'objectifs : 4 ans au plus


def percent_validators():
    return [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


def money_validators():
    return [MinValueValidator(Decimal("0"))]


# ---------------------------------------------------------------------------------------------
# L'appel


class CallQuerySet(models.QuerySet):
    def for_contract(self, contract):
        return self.filter(contract=contract)

    def published(self):
        return self.filter(status=CallStatus.PUBLISHED)

    def open_on(self, day):
        """Appels publiés dont la fenêtre de dépôt contient ``day`` (une date)."""
        return self.published().filter(filing_opens__lte=day, filing_closes__gte=day)


class Call(models.Model):
    """L'appel à projets d'un contrat pour une année, monté par le pilote."""

    contract = models.ForeignKey(
        "contracts.Contract", verbose_name="contrat", on_delete=models.CASCADE, related_name="calls"
    )
    year = models.PositiveSmallIntegerField("année des projets")
    title = models.CharField("titre", max_length=200)
    summary = models.TextField("présentation en langage clair", blank=True)
    status = models.CharField("état", max_length=12, choices=CallStatus.choices, default=CallStatus.DRAFT)
    copied_from = models.ForeignKey(
        "self",
        verbose_name="copié de l'appel",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="copies",
    )
    # Calendrier
    publication_date = models.DateField("publication", null=True, blank=True)
    info_meetings = models.TextField(
        "réunions d'information", blank=True, help_text="Une réunion par ligne : date, lieu, quartier."
    )
    filing_opens = models.DateField("ouverture du dépôt")
    filing_closes = models.DateField(
        "clôture du dépôt", help_text="Dernier jour de dépôt (jusqu'à 23 h 59, heure de Paris)."
    )
    instruction_ends = models.DateField("fin de l'instruction", null=True, blank=True)
    committee_date = models.DateField("comité des financeurs", null=True, blank=True)
    notification_date = models.DateField("notification des décisions", null=True, blank=True)
    reporting_date = models.DateField("compte-rendu des projets de l'année précédente", null=True, blank=True)
    # Ce qui est éligible
    eligible_enjeux = models.ManyToManyField(
        "plan.Enjeu", verbose_name="enjeux éligibles", blank=True, related_name="calls"
    )
    eligible_objectives = models.ManyToManyField(
        "plan.Objective", verbose_name="objectifs éligibles", blank=True, related_name="calls"
    )
    eligible_qpvs = models.ManyToManyField(
        "territories.Territory",
        verbose_name="quartiers éligibles",
        blank=True,
        related_name="calls",
        limit_choices_to={"kind": TerritoryKind.QPV},
        help_text="Vide : tous les quartiers du contrat.",
    )
    allow_whole_territory = models.BooleanField(
        "projets à l'échelle de tout le territoire admis", default=True
    )
    # Règles d'éligibilité : des réglages de l'appel
    min_qpv_share = models.DecimalField(
        "part minimale de bénéficiaires habitant un QPV (%)",
        default=Decimal("50"),
        validators=percent_validators(),
        **PERCENT,
    )
    min_amount = models.DecimalField(
        "montant minimal demandé (€)", null=True, blank=True, validators=money_validators(), **MONEY
    )
    max_amount = models.DecimalField(
        "montant maximal demandé (€)", null=True, blank=True, validators=money_validators(), **MONEY
    )
    max_call_share = models.DecimalField(
        "part maximale du budget demandée aux financeurs de l'appel (%)",
        default=Decimal("80"),
        validators=percent_validators(),
        **PERCENT,
        help_text="Règle de cofinancement : le reste vient d'autres ressources.",
    )
    min_funders = models.PositiveSmallIntegerField("nombre minimal de financeurs sollicités", default=1)
    contacts = models.TextField("contacts", blank=True, help_text="Qui joindre, par quartier.")
    last_number = models.PositiveIntegerField("dernier numéro de dossier", default=0, editable=False)
    committee_held_at = models.DateTimeField("vote du comité enregistré le", null=True, blank=True)
    version = models.PositiveIntegerField("version", default=1)
    is_demo = models.BooleanField("donnée de démonstration", default=False)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)
    history = HistoricalRecords(m2m_fields=[eligible_enjeux, eligible_objectives, eligible_qpvs])

    objects = CallQuerySet.as_manager()

    class Meta:
        verbose_name = "appel à projets"
        verbose_name_plural = "appels à projets"
        ordering = ["contract", "-year"]
        constraints = [models.UniqueConstraint(fields=["contract", "year"], name="call_unique_year")]

    def __str__(self):
        return f"{self.title} ({self.year})"

    def is_open_on(self, day) -> bool:
        return self.status == CallStatus.PUBLISHED and self.filing_opens <= day <= self.filing_closes


class CallFunder(models.Model):
    """Un financeur qui prend part à l'appel, avec son enveloppe."""

    call = models.ForeignKey(Call, verbose_name="appel", on_delete=models.CASCADE, related_name="funders")
    partner = models.ForeignKey(
        "partners.Partner", verbose_name="financeur", on_delete=models.PROTECT, related_name="call_funders"
    )
    kind = models.CharField(
        "place dans le cofinancement", max_length=12, choices=FunderKind.choices, default=FunderKind.PARTNER
    )
    label = models.CharField(
        "ligne budgétaire",
        max_length=200,
        blank=True,
        help_text="Ex. : programme 147 « Politique de la ville ».",
    )
    envelope = models.DecimalField("enveloppe (€)", validators=money_validators(), **MONEY)
    order = models.PositiveSmallIntegerField("ordre", default=0)
    last_act_number = models.PositiveIntegerField("dernier numéro d'acte", default=0, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "financeur de l'appel"
        verbose_name_plural = "financeurs de l'appel"
        ordering = ["call", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["call", "partner"], name="call_funder_unique")]

    def __str__(self):
        return str(self.partner)


class CallDocument(models.Model):
    """Une pièce demandée par l'appel."""

    call = models.ForeignKey(
        Call, verbose_name="appel", on_delete=models.CASCADE, related_name="required_documents"
    )
    kind = models.CharField("pièce", max_length=10, choices=DocumentKind.choices)
    label = models.CharField("précision", max_length=200, blank=True)
    required = models.BooleanField("obligatoire", default=True)

    class Meta:
        verbose_name = "pièce demandée"
        verbose_name_plural = "pièces demandées"
        ordering = ["call", "id"]
        constraints = [models.UniqueConstraint(fields=["call", "kind"], name="call_document_unique")]

    def __str__(self):
        return self.label or self.get_kind_display()


class ScoringCriterion(models.Model):
    """Un critère de la grille de notation de l'appel (facultative)."""

    call = models.ForeignKey(Call, verbose_name="appel", on_delete=models.CASCADE, related_name="criteria")
    label = models.CharField("critère", max_length=200)
    description = models.TextField("ce qu'on regarde", blank=True)
    scale_max = models.PositiveSmallIntegerField(
        "note maximale", default=5, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    order = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "critère de notation"
        verbose_name_plural = "critères de notation"
        ordering = ["call", "order", "id"]

    def __str__(self):
        return self.label


# ---------------------------------------------------------------------------------------------
# Les pièces d'une association (réutilisées d'un dossier à l'autre)


def document_path(instance, filename):
    return f"aap/pieces/{instance.partner_id}/{filename}"


class PartnerDocumentQuerySet(models.QuerySet):
    def of_partner(self, partner):
        return self.filter(partner=partner)


class PartnerDocument(models.Model):
    """Une pièce (statuts, RIB, comptes…) déposée par une association ; jointe à un ou plusieurs
    dossiers, elle n'est pas redemandée l'année suivante."""

    partner = models.ForeignKey(
        "partners.Partner", verbose_name="association", on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField("pièce", max_length=10, choices=DocumentKind.choices)
    file = models.FileField("fichier", upload_to=document_path, max_length=200)
    original_name = models.CharField("nom d'origine", max_length=200)
    content_type = models.CharField("type", max_length=100)
    size = models.PositiveIntegerField("taille (octets)")
    sha256 = models.CharField("empreinte SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="déposée par",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField("déposée le", auto_now_add=True)

    objects = PartnerDocumentQuerySet.as_manager()

    class Meta:
        verbose_name = "pièce d'une association"
        verbose_name_plural = "pièces des associations"
        ordering = ["partner", "kind", "-uploaded_at"]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.original_name}"


# ---------------------------------------------------------------------------------------------
# Le dossier


class ApplicationQuerySet(models.QuerySet):
    def for_call(self, call):
        return self.filter(call=call)

    def for_contract(self, contract):
        return self.filter(call__contract=contract)

    def of_partner(self, partner):
        return self.filter(partner=partner)

    def submitted(self):
        """Déposés (un brouillon ni un dossier retiré ne sont pas instruits)."""
        return self.exclude(status__in=[ApplicationStatus.DRAFT, ApplicationStatus.WITHDRAWN])

    def drafts(self):
        return self.filter(status=ApplicationStatus.DRAFT)

    def renewable(self):
        """Dossiers dont on peut repartir l'an suivant : déposés, qu'ils soient décidés ou non."""
        return self.submitted()

    def publicly_funded(self):
        """Dossiers financés que tout le monde voit : déposés, avec au moins une ligne votée (montant
        non nul), d'un appel publié dont le comité s'est tenu (comme ``call_abilities['view_voted']``)."""
        return (
            self.submitted()
            .filter(call__status=CallStatus.PUBLISHED, call__committee_held_at__isnull=False)
            .filter(models.Exists(FunderLine.objects.public_funding().filter(application=OuterRef("pk"))))
        )


class Application(models.Model):
    """Le dossier d'une association pour un projet : une seule saisie pour tous les financeurs."""

    call = models.ForeignKey(
        Call, verbose_name="appel", on_delete=models.PROTECT, related_name="applications"
    )
    partner = models.ForeignKey(
        "partners.Partner", verbose_name="association", on_delete=models.PROTECT, related_name="applications"
    )
    number = models.CharField(
        "numéro de dossier", max_length=20, blank=True, help_text="Donné au dépôt, ex. 2025-0042."
    )
    external_ref = models.CharField(
        "numéro Dauphin",
        max_length=40,
        blank=True,
        help_text="Numéro du dossier dans Dauphin (import) : une seconde importation le retrouve.",
    )
    status = models.CharField(
        "état", max_length=12, choices=ApplicationStatus.choices, default=ApplicationStatus.DRAFT
    )
    renewal_of = models.ForeignKey(
        "self",
        verbose_name="renouvellement du dossier",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="renewals",
    )
    # Le projet
    title = models.CharField("intitulé du projet", max_length=300)
    summary = models.TextField("résumé en langage clair", blank=True)
    objectives = models.TextField("objectifs", blank=True)
    public = models.TextField("public visé", blank=True)
    beneficiaries = models.PositiveIntegerField("nombre de bénéficiaires prévus", null=True, blank=True)
    qpv_share = models.DecimalField(
        "part des bénéficiaires habitant un QPV (%)",
        null=True,
        blank=True,
        validators=percent_validators(),
        **PERCENT,
    )
    scope = models.CharField("portée", max_length=12, choices=ProjectScope.choices, default=ProjectScope.QPV)
    qpvs = models.ManyToManyField(
        "territories.Territory",
        verbose_name="quartiers concernés",
        blank=True,
        related_name="applications",
        limit_choices_to={"kind": TerritoryKind.QPV},
    )
    places = models.TextField("lieux de l'action", blank=True)
    start_date = models.DateField("début", null=True, blank=True)
    end_date = models.DateField("fin", null=True, blank=True)
    enjeu = models.ForeignKey(
        "plan.Enjeu",
        verbose_name="enjeu",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
    )
    objective = models.ForeignKey(
        "plan.Objective",
        verbose_name="objectif",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
    )
    action = models.ForeignKey(
        "plan.Action",
        verbose_name="action",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
    )
    evaluation_indicators = models.TextField("indicateurs d'évaluation", blank=True)
    human_means = models.TextField("moyens humains", blank=True)
    years = models.PositiveSmallIntegerField(
        "durée (années)", default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_YEARS)]
    )
    # Le dépôt : un acte explicite d'une personne nommée
    sworn_name = models.CharField(
        "nom du représentant légal ou de son délégataire", max_length=200, blank=True
    )
    sworn_statement = models.BooleanField("déclaration sur l'honneur", default=False)
    republican_contract = models.BooleanField("contrat d'engagement républicain", default=False)
    submitted_at = models.DateTimeField("déposé le", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="déposé par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    documents = models.ManyToManyField(
        PartnerDocument, verbose_name="pièces jointes", blank=True, related_name="applications"
    )
    version = models.PositiveIntegerField("version", default=1)
    is_demo = models.BooleanField("donnée de démonstration", default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="créé par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)
    history = HistoricalRecords(m2m_fields=[qpvs, documents])

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = "dossier de demande"
        verbose_name_plural = "dossiers de demande"
        ordering = ["call", "number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "number"], condition=~Q(number=""), name="application_unique_number"
            ),
            models.UniqueConstraint(
                fields=["call", "external_ref"],
                condition=~Q(external_ref=""),
                name="application_unique_external_ref",
            ),
        ]

    def __str__(self):
        return f"{self.number or 'Brouillon'} — {self.title}"

    @property
    def is_draft(self) -> bool:
        return self.status == ApplicationStatus.DRAFT

    @property
    def is_submitted(self) -> bool:
        """Déposé (ni brouillon ni retiré) : instruit, ou décidé."""
        return self.status not in (ApplicationStatus.DRAFT, ApplicationStatus.WITHDRAWN)

    @property
    def in_instruction(self) -> bool:
        """Entre les mains des financeurs : déposé ou rendu pour compléments, pas encore décidé."""
        return self.status in INSTRUCTED_APPLICATION_STATUSES

    def concerns(self, qpv_id) -> bool:
        """Le dossier concerne ce quartier : un projet de tout le territoire, ou l'un de ses quartiers
        (ceux sur lesquels un avis de quartier se donne)."""
        return self.scope == ProjectScope.WHOLE or self.qpvs.filter(pk=qpv_id).exists()


class BudgetLine(models.Model):
    """Une ligne du budget du projet (première année), sur le plan comptable des associations."""

    application = models.ForeignKey(
        Application, verbose_name="dossier", on_delete=models.CASCADE, related_name="budget_lines"
    )
    account = models.CharField("compte", max_length=2, choices=Account.choices)
    label = models.CharField("détail", max_length=200, blank=True)
    amount = models.DecimalField("montant (€)", validators=money_validators(), **MONEY)
    order = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "ligne de budget"
        verbose_name_plural = "lignes de budget"
        ordering = ["application", "account", "order", "id"]

    def __str__(self):
        return f"{self.account} {self.label} : {self.amount} €"


class FunderLineQuerySet(models.QuerySet):
    def for_call(self, call):
        return self.filter(application__call=call)

    def of_funder(self, call_funder):
        return self.filter(funder=call_funder)

    def voted(self):
        return self.filter(status=LineStatus.VOTED)

    def public(self):
        """Ce qu'un anonyme voit des lignes : après le vote, les seules lignes votées."""
        return self.filter(status__in=PUBLIC_LINE_STATUSES)

    def granted(self):
        """Les lignes votées avec un montant : les subventions accordées."""
        return self.filter(status=LineStatus.VOTED, voted_amount__gt=0)

    def public_funding(self):
        """Les lignes votées avec un montant : ce que les pages publiques montrent d'un dossier
        financé (à combiner avec ``Application.objects.publicly_funded()``)."""
        return self.public().filter(voted_amount__gt=0)

    def with_follow_up(self):
        """Ajoute à chaque ligne ce que ``followup.stage_of`` lit, sans requête par ligne :
        ``paid_amount``, ``last_paid_on``, ``act_reference``, ``act_signed_on``, ``report_status``."""
        paid = (
            Payment.objects.filter(line=OuterRef("pk"))
            .order_by()
            .values("line")
            .annotate(total=Sum("amount"), last=Max("paid_on"))
        )
        return self.annotate(
            paid_amount=Coalesce(
                Subquery(paid.values("total")), Decimal("0"), output_field=models.DecimalField(**MONEY)
            ),
            last_paid_on=Subquery(paid.values("last")),
            act_reference=Coalesce(F("act__reference"), Value("")),
            act_signed_on=F("act__signed_on"),
            report_status=F("application__final_report__status"),
        )


class FunderLine(models.Model):
    """La demande faite à un financeur de l'appel (compte 74 du budget) : son état, son avis et ses
    montants sont écrits par les seuls instructeurs de ce financeur ; le vote par le comité."""

    application = models.ForeignKey(
        Application, verbose_name="dossier", on_delete=models.CASCADE, related_name="funder_lines"
    )
    funder = models.ForeignKey(
        CallFunder, verbose_name="financeur", on_delete=models.PROTECT, related_name="lines"
    )
    status = models.CharField("état", max_length=16, choices=LineStatus.choices, default=LineStatus.DRAFT)
    requested_amount = models.DecimalField("montant demandé (€)", validators=money_validators(), **MONEY)
    later_amounts = models.JSONField(
        "montants demandés les années suivantes (€)",
        default=list,
        blank=True,
        help_text="Projet pluriannuel : un montant (texte décimal) par année après la première.",
    )
    proposed_amount = models.DecimalField(
        "montant proposé (€)", null=True, blank=True, validators=money_validators(), **MONEY
    )
    opinion = models.CharField("avis du financeur", max_length=12, choices=Opinion.choices, blank=True)
    comment = models.TextField("commentaire de l'instructeur", blank=True)
    # Simulation du comité (provisoire) puis vote
    simulation = models.CharField(
        "simulation", max_length=3, choices=Simulation.choices, blank=True, default=""
    )
    simulated_amount = models.DecimalField(
        "montant simulé (€)", null=True, blank=True, validators=money_validators(), **MONEY
    )
    voted_amount = models.DecimalField(
        "montant voté (€)", null=True, blank=True, validators=money_validators(), **MONEY
    )
    decision_date = models.DateField("date de la décision", null=True, blank=True)
    decision_reference = models.CharField("référence de la décision", max_length=100, blank=True)
    version = models.PositiveIntegerField("version", default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="modifiée par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField("modifiée le", auto_now=True)
    history = HistoricalRecords()

    objects = FunderLineQuerySet.as_manager()

    class Meta:
        verbose_name = "ligne de financeur"
        verbose_name_plural = "lignes de financeur"
        ordering = ["application", "funder__order", "funder_id"]
        constraints = [models.UniqueConstraint(fields=["application", "funder"], name="funder_line_unique")]

    def __str__(self):
        return f"{self.application} — {self.funder}"

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_LINE_STATUSES


class QuartierOpinion(models.Model):
    """L'avis du correspondant de quartier ou du délégué du préfet pour un QPV du projet."""

    application = models.ForeignKey(
        Application, verbose_name="dossier", on_delete=models.CASCADE, related_name="quartier_opinions"
    )
    qpv = models.ForeignKey(
        "territories.Territory", verbose_name="quartier", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField("avis de", max_length=16, choices=OpinionKind.choices)
    opinion = models.CharField("avis", max_length=12, choices=Opinion.choices)
    comment = models.TextField("commentaire", blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="auteur",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    version = models.PositiveIntegerField("version", default=1)
    updated_at = models.DateTimeField("modifié le", auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "avis de quartier"
        verbose_name_plural = "avis de quartier"
        ordering = ["application", "qpv", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["application", "qpv", "kind"], name="quartier_opinion_unique")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.qpv}) : {self.get_opinion_display()}"

    def clean(self):
        """Un avis porte sur un quartier que le dossier concerne (``Application.concerns``, la règle
        du service) : le back-office le vérifie aussi."""
        from django.core.exceptions import ValidationError

        if self.application_id and self.qpv_id and not self.application.concerns(self.qpv_id):
            raise ValidationError({"qpv": "Ce quartier n'est pas l'un des quartiers du dossier."})


class Score(models.Model):
    """La note d'un instructeur sur un critère de la grille de l'appel."""

    application = models.ForeignKey(
        Application, verbose_name="dossier", on_delete=models.CASCADE, related_name="scores"
    )
    criterion = models.ForeignKey(
        ScoringCriterion, verbose_name="critère", on_delete=models.CASCADE, related_name="scores"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="instructeur", on_delete=models.CASCADE, related_name="+"
    )
    value = models.PositiveSmallIntegerField("note")
    comment = models.TextField("commentaire", blank=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    class Meta:
        verbose_name = "note"
        verbose_name_plural = "notes"
        ordering = ["application", "criterion", "author"]
        constraints = [
            models.UniqueConstraint(fields=["application", "criterion", "author"], name="score_unique")
        ]

    def __str__(self):
        return f"{self.criterion} : {self.value}/{self.criterion.scale_max}"


class InfoRequest(models.Model):
    """Une demande de compléments : l'instructeur rend le dossier avec ses questions ;
    l'association répond et dépose à nouveau."""

    application = models.ForeignKey(
        Application, verbose_name="dossier", on_delete=models.CASCADE, related_name="info_requests"
    )
    funder = models.ForeignKey(
        CallFunder,
        verbose_name="au nom du financeur",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    questions = models.TextField("questions")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="demandé par",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    asked_at = models.DateTimeField("demandé le", auto_now_add=True)
    answer = models.TextField("réponse", blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="répondu par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField("répondu le", null=True, blank=True)

    class Meta:
        verbose_name = "demande de compléments"
        verbose_name_plural = "demandes de compléments"
        ordering = ["application", "asked_at", "id"]

    def __str__(self):
        return f"Compléments demandés le {self.asked_at:%d/%m/%Y}"


class ApplicationEvent(models.Model):
    """L'historique lisible d'un dossier (qui a fait quoi, quand), montré à l'association et aux
    instructeurs ; rien n'y est effacé."""

    application = models.ForeignKey(
        Application, verbose_name="dossier", on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField("événement", max_length=24, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    funder = models.ForeignKey(
        CallFunder,
        verbose_name="financeur",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    message = models.TextField("détail", blank=True)
    at = models.DateTimeField("le", auto_now_add=True)

    class Meta:
        verbose_name = "événement d'un dossier"
        verbose_name_plural = "événements des dossiers"
        ordering = ["application", "at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.at:%d/%m/%Y})"


# =============================================================================================
# Partie 2 : après le vote. Tout s'accroche à la ligne de financeur votée (acte, échéances,
# versements) ou au dossier (compte-rendu financier, un seul pour tous les financeurs).


class ActTemplate(models.Model):
    """Le modèle d'acte d'un financeur dans un contrat : ce qui change d'un financeur à l'autre
    (visas, articles propres, signataire). Le corps de l'acte (parties, objet, montant, versement,
    compte-rendu) est commun ; sans modèle, des valeurs par défaut sont prises."""

    contract = models.ForeignKey(
        "contracts.Contract", verbose_name="contrat", on_delete=models.CASCADE, related_name="act_templates"
    )
    partner = models.ForeignKey(
        "partners.Partner", verbose_name="financeur", on_delete=models.CASCADE, related_name="act_templates"
    )
    reference_prefix = models.CharField(
        "préfixe des références",
        max_length=20,
        blank=True,
        help_text="Ex. : ETAT-P147 ; les actes sont numérotés <préfixe>-<année>-0001.",
    )
    visas = models.TextField("visas", blank=True, help_text="Un visa par ligne (« Vu la loi… »).")
    clauses = models.TextField(
        "articles propres au financeur", blank=True, help_text="Ajoutés après les articles communs."
    )
    signatory_name = models.CharField("signataire (nom)", max_length=200, blank=True)
    signatory_title = models.CharField("qualité du signataire", max_length=200, blank=True)
    place = models.CharField("lieu de signature", max_length=100, blank=True)
    version = models.PositiveIntegerField("version", default=1)
    updated_at = models.DateTimeField("modifié le", auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "modèle d'acte d'un financeur"
        verbose_name_plural = "modèles d'acte des financeurs"
        constraints = [models.UniqueConstraint(fields=["contract", "partner"], name="act_template_unique")]

    def __str__(self):
        return f"Modèle d'acte — {self.partner}"


def signed_act_path(instance, filename):
    return f"aap/actes/{instance.funder_id}/{filename}"


class GrantActQuerySet(models.QuerySet):
    def for_call(self, call):
        return self.filter(line__application__call=call)

    def signed(self):
        return self.exclude(signed_on=None)


class GrantAct(models.Model):
    """L'acte qui attribue la subvention d'une ligne votée : arrêté sous 23 000 € par an,
    convention au-delà, convention pluriannuelle (CPO) avec ses montants annuels."""

    line = models.OneToOneField(
        FunderLine, verbose_name="ligne de financeur", on_delete=models.CASCADE, related_name="act"
    )
    funder = models.ForeignKey(
        CallFunder, verbose_name="financeur", on_delete=models.PROTECT, related_name="acts"
    )
    kind = models.CharField("type d'acte", max_length=10, choices=ActKind.choices)
    number = models.PositiveIntegerField("numéro d'ordre")
    reference = models.CharField("référence", max_length=60)
    amount = models.DecimalField("montant attribué (€)", validators=money_validators(), **MONEY)
    yearly_amounts = models.JSONField(
        "montants annuels (€)",
        default=list,
        blank=True,
        help_text="CPO : un montant (texte décimal) par année.",
    )
    payment_terms = models.CharField(
        "conditions de versement", max_length=10, choices=PaymentTerms.choices, default=PaymentTerms.SINGLE
    )
    prepared_at = models.DateTimeField("préparé le", auto_now_add=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="préparé par",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    signed_on = models.DateField("signé le", null=True, blank=True)
    signed_file = models.FileField("acte signé", upload_to=signed_act_path, max_length=200, blank=True)
    signed_original_name = models.CharField("nom d'origine", max_length=200, blank=True)
    signed_sha256 = models.CharField("empreinte SHA-256", max_length=64, blank=True)
    signed_uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="acte signé déposé par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    signed_uploaded_at = models.DateTimeField("acte signé déposé le", null=True, blank=True)
    version = models.PositiveIntegerField("version", default=1)
    history = HistoricalRecords()

    objects = GrantActQuerySet.as_manager()

    class Meta:
        verbose_name = "acte attributif"
        verbose_name_plural = "actes attributifs"
        ordering = ["funder", "number"]
        constraints = [
            models.UniqueConstraint(fields=["funder", "number"], name="grant_act_unique_number"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.reference}"


class PaymentInstalment(models.Model):
    """Une échéance du versement d'une ligne votée : unique, ou avance puis solde."""

    line = models.ForeignKey(
        FunderLine, verbose_name="ligne de financeur", on_delete=models.CASCADE, related_name="instalments"
    )
    kind = models.CharField("échéance", max_length=8, choices=InstalmentKind.choices)
    order = models.PositiveSmallIntegerField("ordre", default=0)
    amount = models.DecimalField("montant prévu (€)", validators=money_validators(), **MONEY)
    due_date = models.DateField("date prévue", null=True, blank=True)
    condition = models.CharField(
        "condition",
        max_length=200,
        blank=True,
        help_text="Ex. : à la signature ; après le compte-rendu accepté.",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "échéance de versement"
        verbose_name_plural = "échéances de versement"
        ordering = ["line", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["line", "order"], name="instalment_unique_order")]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.amount} €"


class PaymentQuerySet(models.QuerySet):
    def for_call(self, call):
        return self.filter(line__application__call=call)


class Payment(models.Model):
    """Un versement effectivement fait (date, montant), rattaché à une échéance."""

    line = models.ForeignKey(
        FunderLine, verbose_name="ligne de financeur", on_delete=models.CASCADE, related_name="payments"
    )
    # RESTRICT : une échéance qui porte un versement ne se supprime pas seule, mais le dossier
    # entier (ligne, échéances, versements) se supprime d'un bloc.
    instalment = models.ForeignKey(
        PaymentInstalment,
        verbose_name="échéance",
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="payments",
    )
    paid_on = models.DateField("versé le")
    amount = models.DecimalField("montant versé (€)", validators=money_validators(), **MONEY)
    reference = models.CharField("référence (mandat)", max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="saisi par",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField("saisi le", auto_now_add=True)
    history = HistoricalRecords()

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = "versement"
        verbose_name_plural = "versements"
        ordering = ["line", "paid_on", "id"]

    def __str__(self):
        return f"{self.amount} € le {self.paid_on:%d/%m/%Y}"


class FinalReportQuerySet(models.QuerySet):
    def for_call(self, call):
        return self.filter(application__call=call)

    def of_partner(self, partner):
        return self.filter(application__partner=partner)


class FinalReport(models.Model):
    """Le compte-rendu financier d'un projet financé (CERFA 15059), un seul pour tous les
    financeurs ; ou l'un des deux autres chemins : action non réalisée, nouvelles dates."""

    application = models.OneToOneField(
        Application, verbose_name="dossier", on_delete=models.CASCADE, related_name="final_report"
    )
    path = models.CharField(
        "chemin", max_length=12, choices=ReportPath.choices, default=ReportPath.CARRIED_OUT
    )
    status = models.CharField("état", max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT)
    due_date = models.DateField("à rendre avant le")
    # Réalisée
    achievements = models.TextField("ce qui a été fait", blank=True)
    beneficiaries_reached = models.PositiveIntegerField("bénéficiaires touchés", null=True, blank=True)
    qpv_beneficiaries = models.PositiveIntegerField("dont habitants d'un QPV", null=True, blank=True)
    qpv_share = models.DecimalField(
        "part des bénéficiaires habitant un QPV (%)",
        null=True,
        blank=True,
        validators=percent_validators(),
        **PERCENT,
    )
    qpv_share_source = models.CharField(
        "origine de la part QPV", max_length=8, choices=QpvShareSource.choices, blank=True
    )
    located_count = models.PositiveIntegerField(
        "adresses localisées",
        null=True,
        blank=True,
        help_text="Calcul à partir des adresses : seul l'agrégat est gardé, jamais les adresses.",
    )
    unlocated_count = models.PositiveIntegerField("adresses non localisées", null=True, blank=True)
    indicators_results = models.TextField("indicateurs d'évaluation : résultats", blank=True)
    difficulties = models.TextField("difficultés rencontrées, écarts", blank=True)
    # Non réalisée
    amount_to_return = models.DecimalField(
        "montant à reverser (€)", null=True, blank=True, validators=money_validators(), **MONEY
    )
    not_carried_reason = models.TextField("pourquoi l'action n'a pas été réalisée", blank=True)
    # Nouvelles dates
    new_start_date = models.DateField("nouveau début", null=True, blank=True)
    new_end_date = models.DateField("nouvelle fin", null=True, blank=True)
    new_dates_reason = models.TextField("pourquoi de nouvelles dates", blank=True)
    documents = models.ManyToManyField(
        PartnerDocument, verbose_name="pièces jointes", blank=True, related_name="final_reports"
    )
    submitted_at = models.DateTimeField("transmis le", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="transmis par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    version = models.PositiveIntegerField("version", default=1)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)
    history = HistoricalRecords(m2m_fields=[documents])

    objects = FinalReportQuerySet.as_manager()

    class Meta:
        verbose_name = "compte-rendu financier"
        verbose_name_plural = "comptes-rendus financiers"
        ordering = ["application"]

    def __str__(self):
        return f"Compte-rendu — {self.application}"


class ReportBudgetLine(models.Model):
    """Une ligne du budget réalisé, à côté du budget prévu du dossier (mêmes comptes)."""

    report = models.ForeignKey(
        FinalReport, verbose_name="compte-rendu", on_delete=models.CASCADE, related_name="budget_lines"
    )
    account = models.CharField("compte", max_length=2, choices=Account.choices)
    label = models.CharField("détail", max_length=200, blank=True)
    planned_amount = models.DecimalField("prévu (€)", validators=money_validators(), **MONEY)
    actual_amount = models.DecimalField("réalisé (€)", validators=money_validators(), **MONEY)
    explanation = models.TextField("explication de l'écart", blank=True)
    order = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "ligne du budget réalisé"
        verbose_name_plural = "lignes du budget réalisé"
        ordering = ["report", "order", "id"]

    def __str__(self):
        return f"{self.get_account_display()} : {self.actual_amount} €"

    @property
    def title(self) -> str:
        """« 60 – Achats — Matériel » ; « 74 – Subvention de … » pour un financeur de l'appel."""
        return budget_row_title(self.account, self.label)


class ReportReview(models.Model):
    """L'examen du compte-rendu par l'instructeur d'un financeur : chaque examen est gardé
    (historique des demandes de modification puis de l'acceptation)."""

    report = models.ForeignKey(
        FinalReport, verbose_name="compte-rendu", on_delete=models.CASCADE, related_name="reviews"
    )
    funder = models.ForeignKey(
        CallFunder, verbose_name="financeur", on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField("décision", max_length=10, choices=ReviewDecision.choices)
    comment = models.TextField("commentaire", blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="examiné par",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    at = models.DateTimeField("le", auto_now_add=True)

    class Meta:
        verbose_name = "examen d'un compte-rendu"
        verbose_name_plural = "examens des comptes-rendus"
        ordering = ["report", "at", "id"]

    def __str__(self):
        return f"{self.report} — {self.funder} : {self.get_decision_display()}"


class ReportBlockLift(models.Model):
    """Le pilote permet à une association de déposer à un appel malgré un compte-rendu manquant
    ou refusé, avec une raison."""

    call = models.ForeignKey(Call, verbose_name="appel", on_delete=models.CASCADE, related_name="block_lifts")
    partner = models.ForeignKey(
        "partners.Partner", verbose_name="association", on_delete=models.CASCADE, related_name="+"
    )
    reason = models.TextField("raison")
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="levé par",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    lifted_at = models.DateTimeField("levé le", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "levée de blocage"
        verbose_name_plural = "levées de blocage"
        constraints = [models.UniqueConstraint(fields=["call", "partner"], name="block_lift_unique")]

    def __str__(self):
        return f"{self.partner} — {self.call}"
