"""Ce qui manque encore avant l'adoption d'une évaluation (acte irréversible : le rapport adopté est
figé et publié) : lu ici, montré sur la page de confirmation. Trois requêtes."""

from .enums import QuestionnaireStatus


def adoption_gaps(evaluation) -> list[str]:
    gaps = []
    if not evaluation.summary.strip():
        gaps.append("La synthèse n'est pas encore rédigée : le rapport publié n'en aurait pas.")
    missing = list(
        evaluation.questions.filter(judgement__isnull=True)
        .order_by("number")
        .values_list("number", flat=True)
    )
    if missing:
        numbers = ", ".join(f"Q{n}" for n in missing)
        plural = "s" if len(missing) > 1 else ""
        gaps.append(
            f"{len(missing)} question{plural} évaluative{plural} sans jugement des évaluateurs : {numbers}."
        )
    if not evaluation.recommendations.exists():
        gaps.append("Aucune recommandation n'est enregistrée.")
    still_open = evaluation.questionnaires.filter(status=QuestionnaireStatus.OPEN).count()
    if still_open:
        plural = "s" if still_open > 1 else ""
        them = "les" if still_open > 1 else "le"
        gaps.append(
            f"{still_open} questionnaire{plural} des conseils citoyens encore ouvert{plural} : "
            f"l'adoption {them} clôt."
        )
    return gaps
