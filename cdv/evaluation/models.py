"""Évaluation à mi-parcours et finale d'un contrat, avec les conseils citoyens comme co-évaluateurs.

Une évaluation pose des questions évaluatives (un critère, des enjeux et objectifs) ; la plateforme
assemble les éléments de preuve (``evidence.py``) ; les évaluateurs portent un jugement par question
et des recommandations ; les conseils citoyens répondent au questionnaire de leur quartier, sans que
leurs réponses soient jamais attribuées en public. Adoptée par le COPIL, l'évaluation est figée :
chaque version du rapport est un instantané immuable (``EvaluationReport``). Après l'évaluation, un
avenant (``Amendment``) modifie le plan en gardant lisible l'état d'avant de chaque objet.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from cdv.territories.enums import TerritoryKind

from .enums import (
    ChangeKind,
    Criterion,
    EvaluationKind,
    EvaluationStatus,
    ItemKind,
    JudgementScale,
    QuestionnaireStatus,
)


class EvaluationQuerySet(models.QuerySet):
    def for_contract(self, contract):
        return self.filter(contract=contract)

    def adopted(self):
        """Adoptées par le comité de pilotage : publiques et figées."""
        return self.filter(status=EvaluationStatus.ADOPTED)

    def in_progress(self):
        return self.filter(status=EvaluationStatus.IN_PROGRESS)

    def visible_to(self, user, contract):
        """Les évaluations de ``contract`` que ``user`` peut lire (``abilities.visible_evaluations``)."""
        from .abilities import visible_evaluations

        return visible_evaluations(user, self, contract)


class Evaluation(models.Model):
    contract = models.ForeignKey(
        "contracts.Contract", verbose_name="contrat", on_delete=models.CASCADE, related_name="evaluations"
    )
    kind = models.CharField("nature", max_length=12, choices=EvaluationKind.choices)
    title = models.CharField("intitulé", max_length=200)
    period_start = models.PositiveSmallIntegerField("première année évaluée")
    period_end = models.PositiveSmallIntegerField("dernière année évaluée")
    status = models.CharField(
        "état", max_length=10, choices=EvaluationStatus.choices, default=EvaluationStatus.IN_PROGRESS
    )
    method = models.TextField("méthode", blank=True)
    summary = models.TextField("synthèse", blank=True)
    adopted_on = models.DateField("adoptée le", null=True, blank=True)
    adopting_meeting = models.ForeignKey(
        "monitoring.Meeting",
        verbose_name="instance qui l'a adoptée",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    is_demo = models.BooleanField("donnée de démonstration", default=False)
    history = HistoricalRecords()

    objects = EvaluationQuerySet.as_manager()

    class Meta:
        verbose_name = "évaluation"
        verbose_name_plural = "évaluations"
        ordering = ["contract", "period_end"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "kind"], name="evaluation_unique_kind"),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="evaluation_period_order"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_adopted(self) -> bool:
        return self.status == EvaluationStatus.ADOPTED

    @property
    def period_label(self) -> str:
        return f"{self.period_start}-{self.period_end}"


class EvaluationQuestionQuerySet(models.QuerySet):
    def for_evaluation(self, evaluation):
        return self.filter(evaluation=evaluation)


class EvaluationQuestion(models.Model):
    evaluation = models.ForeignKey(
        Evaluation, verbose_name="évaluation", on_delete=models.CASCADE, related_name="questions"
    )
    number = models.PositiveSmallIntegerField("numéro")
    text = models.TextField("question évaluative")
    criterion = models.CharField("critère", max_length=14, choices=Criterion.choices)
    enjeux = models.ManyToManyField("plan.Enjeu", verbose_name="enjeux", blank=True, related_name="+")
    objectives = models.ManyToManyField(
        "plan.Objective", verbose_name="objectifs", blank=True, related_name="+"
    )
    history = HistoricalRecords(m2m_fields=[enjeux, objectives])

    objects = EvaluationQuestionQuerySet.as_manager()

    class Meta:
        verbose_name = "question évaluative"
        verbose_name_plural = "questions évaluatives"
        ordering = ["evaluation", "number"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "number"], name="evaluationquestion_unique_number")
        ]

    def __str__(self):
        return f"Q{self.number}. {self.text[:80]}"


class JudgementQuerySet(models.QuerySet):
    def for_evaluation(self, evaluation):
        return self.filter(question__evaluation=evaluation)


class Judgement(models.Model):
    """Le jugement des évaluateurs sur une question : une échelle et un texte, avec historique."""

    question = models.OneToOneField(
        EvaluationQuestion, verbose_name="question", on_delete=models.CASCADE, related_name="judgement"
    )
    scale = models.PositiveSmallIntegerField("appréciation", choices=JudgementScale.choices)
    text = models.TextField("jugement argumenté")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="auteur",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    updated_at = models.DateTimeField("modifié le", auto_now=True)
    is_demo = models.BooleanField("donnée de démonstration", default=False)
    history = HistoricalRecords()

    objects = JudgementQuerySet.as_manager()

    class Meta:
        verbose_name = "jugement"
        verbose_name_plural = "jugements"

    def __str__(self):
        return f"Jugement Q{self.question.number}"


class RecommendationQuerySet(models.QuerySet):
    def for_evaluation(self, evaluation):
        return self.filter(evaluation=evaluation)


class Recommendation(models.Model):
    evaluation = models.ForeignKey(
        Evaluation, verbose_name="évaluation", on_delete=models.CASCADE, related_name="recommendations"
    )
    number = models.PositiveSmallIntegerField("numéro")
    text = models.TextField("recommandation")
    enjeux = models.ManyToManyField("plan.Enjeu", verbose_name="enjeux", blank=True, related_name="+")
    objectives = models.ManyToManyField(
        "plan.Objective", verbose_name="objectifs", blank=True, related_name="+"
    )
    commitments = models.ManyToManyField(
        "commitments.Commitment", verbose_name="engagements", blank=True, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="auteur",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    is_demo = models.BooleanField("donnée de démonstration", default=False)
    history = HistoricalRecords(m2m_fields=[enjeux, objectives, commitments])

    objects = RecommendationQuerySet.as_manager()

    class Meta:
        verbose_name = "recommandation"
        verbose_name_plural = "recommandations"
        ordering = ["evaluation", "number"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "number"], name="recommendation_unique_number")
        ]

    def __str__(self):
        return f"R{self.number}. {self.text[:80]}"


class QuestionnaireQuerySet(models.QuerySet):
    def for_evaluation(self, evaluation):
        return self.filter(evaluation=evaluation)

    def for_contract(self, contract):
        return self.filter(evaluation__contract=contract)

    def open(self):
        """Ouverts aux réponses."""
        return self.filter(status=QuestionnaireStatus.OPEN)


class Questionnaire(models.Model):
    """Le questionnaire d'un quartier, auquel répondent les membres de son conseil citoyen."""

    evaluation = models.ForeignKey(
        Evaluation, verbose_name="évaluation", on_delete=models.CASCADE, related_name="questionnaires"
    )
    qpv = models.ForeignKey(
        "territories.Territory",
        verbose_name="quartier",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": TerritoryKind.QPV},
    )
    title = models.CharField("intitulé", max_length=200)
    introduction = models.TextField("introduction", blank=True)
    status = models.CharField(
        "état", max_length=10, choices=QuestionnaireStatus.choices, default=QuestionnaireStatus.DRAFT
    )
    is_demo = models.BooleanField("donnée de démonstration", default=False)
    history = HistoricalRecords()

    objects = QuestionnaireQuerySet.as_manager()

    class Meta:
        verbose_name = "questionnaire de quartier"
        verbose_name_plural = "questionnaires de quartier"
        ordering = ["evaluation", "qpv__name"]
        constraints = [models.UniqueConstraint(fields=["evaluation", "qpv"], name="questionnaire_unique_qpv")]

    def __str__(self):
        return self.title


class QuestionnaireItemQuerySet(models.QuerySet):
    def for_questionnaires(self, questionnaires):
        return self.filter(questionnaire__in=questionnaires)


class QuestionnaireItem(models.Model):
    questionnaire = models.ForeignKey(
        Questionnaire, verbose_name="questionnaire", on_delete=models.CASCADE, related_name="items"
    )
    number = models.PositiveSmallIntegerField("numéro")
    text = models.CharField("question posée", max_length=500)
    kind = models.CharField("type de réponse", max_length=8, choices=ItemKind.choices)
    question = models.ForeignKey(
        EvaluationQuestion,
        verbose_name="question évaluative éclairée",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="council_items",
    )

    objects = QuestionnaireItemQuerySet.as_manager()

    class Meta:
        verbose_name = "question du questionnaire"
        verbose_name_plural = "questions du questionnaire"
        ordering = ["questionnaire", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "number"], name="questionnaireitem_unique_number"
            )
        ]

    def __str__(self):
        return f"{self.number}. {self.text}"


class QuestionnaireResponseQuerySet(models.QuerySet):
    def for_questionnaire(self, questionnaire):
        return self.filter(questionnaire=questionnaire)

    def for_questionnaires(self, questionnaires):
        return self.filter(questionnaire__in=questionnaires)

    def on_paper(self):
        """Formulaires papier saisis par le pilote."""
        return self.filter(on_paper=True)


class QuestionnaireResponse(models.Model):
    """Une réponse, anonyme : aucun lien vers la personne, seulement une clé qui évite les doublons.

    En ligne, la clé est une empreinte HMAC (questionnaire, personne) : la même personne retrouve et
    corrige sa réponse, mais la base ne dit pas qui a répondu quoi. Saisie d'un formulaire papier par
    un animateur : une clé aléatoire, et ``on_paper``.
    """

    questionnaire = models.ForeignKey(
        Questionnaire, verbose_name="questionnaire", on_delete=models.CASCADE, related_name="responses"
    )
    respondent_key = models.CharField("clé anonyme du répondant", max_length=64)
    on_paper = models.BooleanField("saisie d'un formulaire papier", default=False)
    submitted_at = models.DateTimeField("reçue le", auto_now=True)
    is_demo = models.BooleanField("donnée de démonstration", default=False)

    objects = QuestionnaireResponseQuerySet.as_manager()

    class Meta:
        verbose_name = "réponse au questionnaire"
        verbose_name_plural = "réponses au questionnaire"
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "respondent_key"], name="questionnaireresponse_unique_key"
            )
        ]

    def __str__(self):
        return f"Réponse {self.pk} — {self.questionnaire}"


class AnswerQuerySet(models.QuerySet):
    def for_items(self, items):
        return self.filter(item__in=items)


class Answer(models.Model):
    response = models.ForeignKey(
        QuestionnaireResponse, verbose_name="réponse", on_delete=models.CASCADE, related_name="answers"
    )
    item = models.ForeignKey(
        QuestionnaireItem, verbose_name="question", on_delete=models.CASCADE, related_name="answers"
    )
    scale_value = models.PositiveSmallIntegerField(
        "note de 1 à 5", null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    text = models.TextField("réponse libre", blank=True)

    objects = AnswerQuerySet.as_manager()

    class Meta:
        verbose_name = "réponse à une question"
        verbose_name_plural = "réponses aux questions"
        constraints = [
            models.UniqueConstraint(fields=["response", "item"], name="answer_unique_item"),
            models.CheckConstraint(
                condition=models.Q(scale_value__isnull=True)
                | models.Q(scale_value__gte=1, scale_value__lte=5),
                name="answer_scale_range",
            ),
        ]

    def __str__(self):
        return f"Réponse à la question {self.item.number}"


class EvaluationReportQuerySet(models.QuerySet):
    def for_evaluation(self, evaluation):
        return self.filter(evaluation=evaluation)

    def adopted(self):
        """La version adoptée par le comité de pilotage (celle que lit le public)."""
        return self.filter(adopted=True)


class EvaluationReport(models.Model):
    """Une version figée du rapport : son contenu complet en JSON et son empreinte. Immuable."""

    evaluation = models.ForeignKey(
        Evaluation, verbose_name="évaluation", on_delete=models.PROTECT, related_name="reports"
    )
    version = models.PositiveSmallIntegerField("version")
    created_at = models.DateTimeField("figé le", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="figé par",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    adopted = models.BooleanField("version adoptée", default=False)
    payload = models.JSONField("contenu")
    checksum = models.CharField("empreinte SHA-256", max_length=64)

    objects = EvaluationReportQuerySet.as_manager()

    class Meta:
        verbose_name = "version du rapport d'évaluation"
        verbose_name_plural = "versions du rapport d'évaluation"
        ordering = ["evaluation", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "version"], name="evaluationreport_unique_version")
        ]

    def __str__(self):
        return f"{self.evaluation} — version {self.version}"


class AmendmentQuerySet(models.QuerySet):
    def for_contract(self, contract):
        return self.filter(contract=contract)


class Amendment(models.Model):
    """Un avenant au contrat : ce qu'il crée ou change dans le plan et les engagements, et pourquoi."""

    contract = models.ForeignKey(
        "contracts.Contract", verbose_name="contrat", on_delete=models.CASCADE, related_name="amendments"
    )
    number = models.PositiveSmallIntegerField("numéro")
    signed_on = models.DateField("date de l'avenant")
    reason = models.TextField("motif")
    evaluation = models.ForeignKey(
        Evaluation,
        verbose_name="évaluation qui l'a motivé",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="amendments",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="saisi par",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    is_demo = models.BooleanField("donnée de démonstration", default=False)

    objects = AmendmentQuerySet.as_manager()

    class Meta:
        verbose_name = "avenant"
        verbose_name_plural = "avenants"
        ordering = ["contract", "number"]
        constraints = [models.UniqueConstraint(fields=["contract", "number"], name="amendment_unique_number")]

    def __str__(self):
        return f"Avenant n° {self.number}"


class AmendmentChangeQuerySet(models.QuerySet):
    def for_contract(self, contract):
        return self.filter(amendment__contract=contract)


class AmendmentChange(models.Model):
    """Un objet créé ou modifié par un avenant, avec son état d'avant et d'après (lisibles à jamais)."""

    amendment = models.ForeignKey(
        Amendment, verbose_name="avenant", on_delete=models.CASCADE, related_name="changes"
    )
    kind = models.CharField("nature", max_length=12, choices=ChangeKind.choices)
    model = models.CharField("type d'objet", max_length=20)  # objective, action, commitment
    object_id = models.PositiveIntegerField("identifiant de l'objet")
    label = models.CharField("objet", max_length=300)
    before = models.JSONField("état d'avant", null=True, blank=True)
    after = models.JSONField("état d'après")

    objects = AmendmentChangeQuerySet.as_manager()

    class Meta:
        verbose_name = "changement d'un avenant"
        verbose_name_plural = "changements d'un avenant"
        ordering = ["amendment", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} : {self.label}"

    @property
    def is_public(self) -> bool:
        """Le public lit ce changement, sauf s'il porte sur un engagement qui, après l'avenant, n'est
        pas publié (brouillon, proposé…) : un engagement non publié reste hors du site public."""
        from cdv.commitments.enums import PUBLIC_STATUSES

        status = (self.after or {}).get("status")
        return self.model != "commitment" or status in {str(s) for s in PUBLIC_STATUSES}
