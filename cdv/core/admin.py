"""Éléments communs du back-office."""

from django.contrib import admin
from django.db import models
from django.utils.html import format_html, format_html_join

from .figures import french_number
from .numbers import FrenchDecimalField
from .plain import readability

# Montants, ETP, valeurs : saisis à la française, comme sur le site (jamais de type="number").
FRENCH_NUMBERS = {models.DecimalField: {"form_class": FrenchDecimalField}}


class ReadabilityAdminMixin:
    """Montre aux rédacteurs l'indice de lisibilité du résumé en langage clair, avec des conseils."""

    @admin.display(description="lisibilité du résumé")
    def summary_readability(self, obj):
        result = readability(getattr(obj, "summary_plain", "") if obj else "")
        if result.score is None:
            return f"Non calculée : {result.meaning}."
        advice = format_html_join("", "<li>{}</li>", ((a,) for a in result.advice))
        return format_html(
            "<strong>{}</strong> sur 100 (Flesch adapté au français) : {}, {}.{}<ul>{}</ul>",
            french_number(result.score),
            result.level,
            result.meaning,
            "" if result.good else " Visez 60 ou plus.",
            advice,
        )

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "summary_readability"]

    def get_fields(self, request, obj=None):
        """Juste après le résumé qu'il mesure."""
        fields = [f for f in super().get_fields(request, obj) if f != "summary_readability"]
        at = fields.index("summary_plain") + 1 if "summary_plain" in fields else len(fields)
        return [*fields[:at], "summary_readability", *fields[at:]]
