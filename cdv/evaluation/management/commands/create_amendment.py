"""Enregistre un avenant décrit dans un fichier JSON : tout ou rien, chaque état d'avant gardé.

Format du fichier (UTF-8) :

    {
      "date": "2027-09-15",
      "reason": "Suites de l'évaluation à mi-parcours",
      "evaluation": "mi-parcours",            (facultatif)
      "changes": [
        {"objective": "1.2", "data": {"title": "Nouvel intitulé"}},
        {"objective": null, "data": {"enjeu": 1, "number": 4, "title": "Nouvel objectif"}},
        {"action": "1.1.1", "data": {"status": "EN_COURS"}},
        {"action": null, "data": {"objective": "1.2", "code": "1.2.9", "title": "…",
                                  "summary_plain": "…", "scope": "METROPOLE"}},
        {"commitment": 12, "data": {"target": "300 personnes"}}
      ]
    }

Les objets sont désignés par leur code dans le contrat (objectif « 1.2 », action « 1.1.1 »,
engagement par son numéro) ; ``null`` crée l'objet. Les liens se donnent de la même façon :
``enjeu`` par son numéro, ``objective`` par son code, ``partner`` par son identifiant d'URL.
"""

import datetime
import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from cdv.commitments.models import Commitment
from cdv.contracts.models import Contract
from cdv.evaluation import services
from cdv.evaluation.models import Evaluation
from cdv.partners.models import Partner
from cdv.plan.models import Action, Enjeu, Objective
from cdv.users.models import User

KINDS = {"mi-parcours": "MI_PARCOURS", "mid-term": "MI_PARCOURS", "finale": "FINALE", "final": "FINALE"}


class Command(BaseCommand):
    help = "Enregistre un avenant (objectifs, actions, engagements créés ou modifiés) décrit en JSON."

    def add_arguments(self, parser):
        parser.add_argument("file", help="fichier JSON qui décrit l'avenant")
        parser.add_argument("--contract", required=True, help="identifiant d'URL du contrat")
        parser.add_argument("--user", required=True, help="courriel du pilote qui enregistre l'avenant")

    def handle(self, *args, **options):
        contract = Contract.objects.filter(slug=options["contract"]).first()
        if contract is None:
            raise CommandError(f"Aucun contrat « {options['contract']} ».")
        user = User.objects.filter(email__iexact=options["user"]).first()
        if user is None:
            raise CommandError(f"Aucun compte « {options['user']} ».")
        try:
            spec = json.loads(Path(options["file"]).read_text(encoding="utf-8"))
            signed_on = datetime.date.fromisoformat(spec["date"])
            reason = spec["reason"]
            raw_changes = spec["changes"]
        except FileNotFoundError as error:
            raise CommandError(f"Fichier introuvable : {options['file']}.") from error
        except (ValueError, KeyError, TypeError) as error:
            raise CommandError(
                f"Fichier d'avenant illisible : {error} (voir le format dans l'aide)."
            ) from error
        evaluation = None
        if spec.get("evaluation"):
            kind = KINDS.get(spec["evaluation"], spec["evaluation"])
            evaluation = Evaluation.objects.filter(contract=contract, kind=kind).first()
            if evaluation is None:
                raise CommandError(f"Ce contrat n'a pas d'évaluation « {spec['evaluation']} ».")
        changes = [self._change(contract, n, raw) for n, raw in enumerate(raw_changes, start=1)]
        try:
            amendment = services.create_amendment(
                user=user,
                contract=contract,
                signed_on=signed_on,
                reason=reason,
                changes=changes,
                evaluation=evaluation,
            )
        except ValidationError as error:  # EvaluationError en est une
            raise CommandError("Avenant refusé, rien n'a changé : " + " ".join(error.messages)) from error
        self.stdout.write(
            f"Avenant n° {amendment.number} enregistré : {amendment.changes.count()} changement(s)."
        )

    def _change(self, contract, number, raw):
        models = [m for m in ("objective", "action", "commitment") if m in raw]
        if len(models) != 1 or not isinstance(raw.get("data"), dict):
            raise CommandError(
                f"Changement {number} : indiquez un seul objet (objective, action ou commitment) et data."
            )
        model = models[0]
        data = dict(raw["data"])
        if "enjeu" in data:
            data["enjeu"] = self._find(
                Enjeu.objects.filter(contract=contract, number=data["enjeu"]), number, "enjeu"
            )
        if "objective" in data:
            data["objective"] = self._objective(contract, data["objective"], number)
        if "partner" in data:
            data["partner"] = self._find(Partner.objects.filter(slug=data["partner"]), number, "partenaire")
        key = raw[model]
        obj = None
        if key is not None:
            if model == "objective":
                obj = self._objective(contract, key, number)
            elif model == "action":
                obj = self._find(Action.objects.for_contract(contract).filter(code=key), number, "action")
            else:
                obj = self._find(Commitment.objects.filter(contract=contract, pk=key), number, "engagement")
        return {"model": model, "object": obj, "data": data}

    def _objective(self, contract, code, number):
        enjeu, _, rank = str(code).partition(".")
        if not (enjeu.isdigit() and rank.isdigit()):
            raise CommandError(f"Changement {number} : code d'objectif « {code} » invalide (ex. 1.2).")
        queryset = Objective.objects.filter(enjeu__contract=contract, enjeu__number=enjeu, number=rank)
        return self._find(queryset, number, "objectif")

    def _find(self, queryset, number, label):
        obj = queryset.first()
        if obj is None:
            raise CommandError(f"Changement {number} : {label} introuvable dans ce contrat.")
        return obj
