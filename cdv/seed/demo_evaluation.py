"""Démonstration : une évaluation à mi-parcours en cours, pour voir tout le cycle d'évaluation.

Questions évaluatives sur les quatre enjeux, quelques jugements d'une évaluatrice fictive, deux
recommandations, les questionnaires ouverts de deux conseils citoyens (Les Dervallières et
Bellevue) et quelques réponses anonymes : en ligne par les comptes de démonstration des conseils,
et des formulaires papier saisis. Tout est marqué « démonstration » ; rien n'est réel.

Idempotent : relancé, le chargement ne crée rien de plus. Une évaluation réelle de même nature,
ou une évaluation de démonstration déjà adoptée, n'est jamais touchée.
"""

import hashlib

from django.utils.text import slugify

from cdv.commitments.models import Commitment
from cdv.core.upsert import UpsertStats, sync_m2m, upsert
from cdv.evaluation import services
from cdv.evaluation.enums import Criterion, EvaluationKind, ItemKind, JudgementScale, QuestionnaireStatus
from cdv.evaluation.models import (
    Answer,
    Evaluation,
    EvaluationQuestion,
    Judgement,
    Questionnaire,
    QuestionnaireItem,
    QuestionnaireResponse,
    Recommendation,
)
from cdv.partners.enums import PartnerKind
from cdv.partners.models import Partner
from cdv.plan.models import Enjeu, Objective
from cdv.users.enums import Role
from cdv.users.models import Membership, User

TITLE = "Évaluation à mi-parcours 2027 (démonstration)"
EVALUATOR_EMAIL = "evaluation@example.org"
DERVALLIERES = "QN04406M"
BELLEVUE = "QN04405M"
DERVALLIERES_COUNCIL = "Conseil citoyen des Dervallières (démonstration)"
BELLEVUE_COUNCIL = "Conseil citoyen de Bellevue (démonstration)"
BELLEVUE_MEMBER = ("conseil.bellevue@example.org", "Yanis", "B.")
DERVALLIERES_MEMBER_EMAIL = "conseil.dervallieres@example.org"

METHOD = (
    "Méthode de démonstration : pour chaque question évaluative, la plateforme rassemble les "
    "indicateurs des enjeux concernés (début et fin de période), la réalisation des engagements "
    "confirmés, les moyens mobilisés, les retours d'expérience et les décisions des instances. "
    "Les évaluateurs portent un jugement argumenté ; les conseils citoyens répondent au "
    "questionnaire de leur quartier, et leur avis est présenté à côté du jugement."
)

# (critère, texte, numéros d'enjeux, objectifs (enjeu, numéro))
QUESTIONS = [
    (
        Criterion.EFFECTIVENESS,
        "Dans quelle mesure les engagements des partenaires ont-ils rapproché de l'emploi les "
        "habitants des quartiers prioritaires ?",
        [1],
        [(1, 1)],
    ),
    (
        Criterion.RELEVANCE,
        "L'aide aux devoirs et les permanences d'accès aux droits répondent-elles aux besoins des "
        "familles des quartiers ?",
        [2],
        [(2, 1), (2, 2)],
    ),
    (
        Criterion.PARTICIPATION,
        "Les habitants, et en particulier les habitantes, ont-ils été associés à la définition des "
        "actions de tranquillité publique ?",
        [3],
        [(3, 2)],
    ),
    (
        Criterion.EFFICIENCY,
        "Les moyens engagés pour réduire les dépenses d'énergie des ménages sont-ils à la mesure des "
        "résultats obtenus ?",
        [4],
        [(4, 1)],
    ),
    (
        Criterion.COHERENCE,
        "Les engagements des partenaires forment-ils, dans chaque quartier, un ensemble cohérent avec "
        "les priorités locales ?",
        [1, 2, 3, 4],
        [],
    ),
]

# numéro de question → (appréciation, texte)
JUDGEMENTS = {
    1: (
        JudgementScale.PARTLY_MET,
        "Les forums emploi de proximité ont eu lieu et attirent du monde, mais le taux d'emploi de "
        "l'ensemble des quartiers progresse à peine plus vite que celui de la métropole : l'écart ne "
        "se resserre que lentement. Texte de démonstration.",
    ),
    2: (
        JudgementScale.MOSTLY_MET,
        "L'aide aux devoirs est très suivie par les familles, d'après les retours d'expérience et le "
        "conseil citoyen des Dervallières ; les permanences d'accès aux droits restent mal connues. "
        "Texte de démonstration.",
    ),
    4: (
        JudgementScale.PARTLY_MET,
        "L'équipement des logements en thermostats avance, mais les économies réalisées par les "
        "ménages ne sont pas encore mesurées : l'efficience ne peut pas être appréciée pleinement. "
        "Texte de démonstration.",
    ),
}

# (texte, enjeux, objectifs (enjeu, numéro), titres d'engagements)
RECOMMENDATIONS = [
    (
        "Ouvrir les forums emploi aux quartiers voisins et en présenter chaque année le bilan aux "
        "conseils citoyens (démonstration).",
        [1],
        [(1, 1)],
        ["Animer deux forums emploi par an à Bellevue et au Sillon de Bretagne"],
    ),
    (
        "Mesurer les économies d'énergie réalisées par les ménages équipés de thermostats avant "
        "d'étendre l'équipement à d'autres quartiers (démonstration).",
        [4],
        [(4, 1)],
        ["Équiper 200 logements de thermostats programmables"],
    ),
]

# (texte, type, numéro de la question évaluative éclairée)
ITEMS = [
    (
        "Depuis 2024, trouver un emploi ou une formation près de chez vous est-il devenu plus facile ?",
        ItemKind.SCALE,
        1,
    ),
    ("Quelle action pour l'emploi vous a semblé la plus utile, et pourquoi ?", ItemKind.TEXT, 1),
    ("L'aide aux devoirs répond-elle aux besoins des familles du quartier ?", ItemKind.SCALE, 2),
    (
        "Vous sentez-vous associé·e aux décisions qui concernent la tranquillité du quartier ?",
        ItemKind.SCALE,
        3,
    ),
    ("Que faudrait-il changer en priorité d'ici 2030 ?", ItemKind.TEXT, 5),
]

# code QPV → réponses : la première en ligne (compte du conseil citoyen), les suivantes sur papier.
ANSWERS = {
    DERVALLIERES: [
        {
            1: 3,
            2: "Le forum emploi de l'automne : on a rencontré des employeurs sans aller en ville.",
            3: 4,
            4: 2,
            5: "Plus de présence humaine le soir, près de l'école.",
        },
        {1: 2, 3: 5, 4: 2, 5: "Éclairer le passage près de l'école."},
        {1: 3, 2: "L'aide pour le permis de conduire.", 3: 4, 4: 3},
        # Au moins EVALUATION_MIN_ANSWERS (5) réponses : sinon l'avis du quartier est masqué.
        {1: 4, 3: 3, 4: 3, 5: "Un local pour les associations du quartier."},
        {1: 2, 2: "Les ateliers numériques de la médiathèque.", 3: 4, 4: 2},
    ],
    BELLEVUE: [
        {1: 4, 2: "Les forums emploi au centre social.", 3: 3, 4: 3, 5: "Des jardins partagés."},
        {1: 3, 3: 3, 4: 1, 5: "Être consultés avant les travaux, pas après."},
        {1: 4, 2: "L'accompagnement vers la formation.", 3: 3, 4: 2},
        {1: 2, 3: 4, 4: 2, 5: "Plus de bancs et d'ombre sur la place."},
        {1: 3, 2: "La permanence de la mission locale.", 3: 3, 4: 3},
    ],
}


def _create_or_keep(model, *, lookup, values, stats, create_only=None):
    """Comme ``upsert``, mais ``create_only`` ne sert qu'à la création (un état changé depuis sur le
    site, par exemple un questionnaire clos, n'est pas remis à sa valeur de démonstration)."""
    if create_only and not model.objects.filter(**lookup).exists():
        values = {**values, **create_only}
    return upsert(model, lookup=lookup, values=values, stats=stats)


def _paper_key(qpv_code: str, index: int) -> str:
    digest = hashlib.sha256(f"demonstration:{qpv_code}:{index}".encode()).hexdigest()
    return f"papier-{digest[:32]}"


def _council(name, qpv, member, contract, stats):
    partner = upsert(
        Partner,
        lookup={"name": name},
        values={"slug": slugify(name)[:80], "kind": PartnerKind.CITIZEN_COUNCIL, "is_demo": True},
        stats=stats,
    )
    sync_m2m(partner.qpvs, [qpv], stats, "QPV du conseil citoyen")
    email, first, last = member
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, first_name=first, last_name=last)
        stats.add("User", "created")
    else:
        stats.add("User", "unchanged")
    _, created = Membership.objects.get_or_create(
        user=user, contract=contract, role=Role.COUNCIL_MEMBER, partner=partner
    )
    stats.add("Membership", "created" if created else "unchanged")
    return partner, user


def _answers(response, items, answers, stats):
    for number, value in answers.items():
        item = items[number]
        scale = value if item.kind == ItemKind.SCALE else None
        text = value if item.kind == ItemKind.TEXT else ""
        upsert(
            Answer,
            lookup={"response": response, "item": item},
            values={"scale_value": scale, "text": text},
            stats=stats,
        )


def _responses(questionnaire, items, online_user, rows, stats):
    """Une réponse en ligne (clé anonyme du compte du conseil) et des formulaires papier.

    Les réponses déjà là ne sont pas réécrites : on les a peut-être corrigées sur le site.
    """
    online, *paper = rows
    key = services.respondent_key(questionnaire, online_user)
    # Une seule réponse en ligne de démonstration par questionnaire, même si SECRET_KEY a changé.
    lookup = {"questionnaire": questionnaire, "is_demo": True, "on_paper": False}
    existing = QuestionnaireResponse.objects.filter(**lookup).first()
    if existing is None:
        response = QuestionnaireResponse.objects.create(**lookup, respondent_key=key)
        stats.add("QuestionnaireResponse", "created")
        _answers(response, items, online, stats)
    else:
        upsert(QuestionnaireResponse, lookup={"pk": existing.pk}, values={"respondent_key": key}, stats=stats)
    for index, answers in enumerate(paper, start=1):
        lookup = {"questionnaire": questionnaire, "respondent_key": _paper_key(questionnaire.qpv.code, index)}
        if QuestionnaireResponse.objects.filter(**lookup).exists():
            stats.add("QuestionnaireResponse", "unchanged")
            continue
        response = QuestionnaireResponse.objects.create(**lookup, on_paper=True, is_demo=True)
        stats.add("QuestionnaireResponse", "created")
        _answers(response, items, answers, stats)


def load_demo_evaluation(contract, stats: UpsertStats | None = None) -> Evaluation | None:
    """L'évaluation à mi-parcours de démonstration du contrat (appelée par ``load_demo_data``)."""
    stats = stats if stats is not None else UpsertStats()
    evaluation = Evaluation.objects.filter(contract=contract, kind=EvaluationKind.MID_TERM).first()
    if evaluation is not None and (not evaluation.is_demo or evaluation.is_adopted):
        return evaluation  # une vraie évaluation, ou une démonstration adoptée : figée, on n'y touche pas
    evaluation = _create_or_keep(
        Evaluation,
        lookup={"contract": contract, "kind": EvaluationKind.MID_TERM},
        values={
            "title": TITLE,
            "period_start": 2024,
            "period_end": 2026,
            "method": METHOD,
            "is_demo": True,
        },
        stats=stats,
    )
    enjeux = {e.number: e for e in Enjeu.objects.filter(contract=contract)}
    objectives = {
        (o.enjeu.number, o.number): o
        for o in Objective.objects.filter(enjeu__contract=contract).select_related("enjeu")
    }
    questions = {}
    for number, (criterion, text, enjeu_numbers, objective_keys) in enumerate(QUESTIONS, start=1):
        question = upsert(
            EvaluationQuestion,
            lookup={"evaluation": evaluation, "number": number},
            values={"text": text, "criterion": criterion},
            stats=stats,
        )
        sync_m2m(question.enjeux, [enjeux[n] for n in enjeu_numbers], stats, "enjeux des questions")
        sync_m2m(
            question.objectives,
            [objectives[k] for k in objective_keys if k in objectives],
            stats,
            "objectifs des questions",
        )
        questions[number] = question

    evaluator = User.objects.filter(email=EVALUATOR_EMAIL).first()
    for number, (scale, text) in JUDGEMENTS.items():
        upsert(
            Judgement,
            lookup={"question": questions[number]},
            values={"scale": scale, "text": text, "author": evaluator, "is_demo": True},
            stats=stats,
        )
    commitments = {c.title: c for c in Commitment.objects.filter(contract=contract, is_demo=True)}
    for number, (text, enjeu_numbers, objective_keys, titles) in enumerate(RECOMMENDATIONS, start=1):
        recommendation = upsert(
            Recommendation,
            lookup={"evaluation": evaluation, "number": number},
            values={"text": text, "author": evaluator, "is_demo": True},
            stats=stats,
        )
        sync_m2m(
            recommendation.enjeux, [enjeux[n] for n in enjeu_numbers], stats, "enjeux des recommandations"
        )
        sync_m2m(
            recommendation.objectives,
            [objectives[k] for k in objective_keys if k in objectives],
            stats,
            "objectifs des recommandations",
        )
        sync_m2m(
            recommendation.commitments,
            [commitments[t] for t in titles if t in commitments],
            stats,
            "engagements des recommandations",
        )

    qpvs = {q.code: q for q in contract.qpvs.filter(code__in=[DERVALLIERES, BELLEVUE]).defer("geometry")}
    dervallieres_member = User.objects.filter(email=DERVALLIERES_MEMBER_EMAIL).first()
    _, bellevue_member = _council(BELLEVUE_COUNCIL, qpvs[BELLEVUE], BELLEVUE_MEMBER, contract, stats)
    members = {DERVALLIERES: dervallieres_member, BELLEVUE: bellevue_member}
    for code in (DERVALLIERES, BELLEVUE):
        qpv = qpvs[code]
        questionnaire = _create_or_keep(
            Questionnaire,
            lookup={"evaluation": evaluation, "qpv": qpv},
            values={
                "title": f"Questionnaire du conseil citoyen — {qpv.name} (démonstration)",
                "introduction": (
                    "Votre avis compte pour l'évaluation à mi-parcours du contrat de ville. Vos réponses "
                    "sont anonymes : personne ne saura qui a répondu quoi. (Questionnaire de démonstration.)"
                ),
                "is_demo": True,
            },
            create_only={"status": QuestionnaireStatus.OPEN},
            stats=stats,
        )
        items = {}
        for number, (text, kind, question_number) in enumerate(ITEMS, start=1):
            items[number] = upsert(
                QuestionnaireItem,
                lookup={"questionnaire": questionnaire, "number": number},
                values={"text": text, "kind": kind, "question": questions[question_number]},
                stats=stats,
            )
        if members[code] is not None:
            _responses(questionnaire, items, members[code], ANSWERS[code], stats)
    return evaluation
