"""Titres du back-office en français correct.

La traduction de Django compose « Ajout de %s », « Modification de %s », « Sélectionnez %s à
modifier » : on lit alors « Ajout de objectif ». Chaque ModelAdmin enregistré reçoit ici des
titres composés avec ``cdv.core.french.de`` (« Ajout d'objectif », « Modification de jalon ») et
une liste titrée par le nom du modèle au pluriel.
"""

from django.contrib import admin

from .french import de


class FrenchTitlesAdmin:
    def _title(self, request, object_id=None, add=False):
        name = self.model._meta.verbose_name
        if add:
            return f"Ajout {de(name)}"
        obj = self.get_object(request, admin.utils.unquote(object_id)) if object_id else None
        if obj is not None and not self.has_change_permission(request, obj):
            return f"Consultation {de(name)}"
        return f"Modification {de(name)}"

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = {"title": self._title(request, add=True), **(extra_context or {})}
        return super().add_view(request, form_url, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {"title": self._title(request, object_id), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        title = str(self.model._meta.verbose_name_plural)
        extra_context = {"title": title[:1].upper() + title[1:], **(extra_context or {})}
        return super().changelist_view(request, extra_context)


def frenchify_admin_site(site=None) -> None:
    site = site or admin.site
    for model, model_admin in list(site._registry.items()):
        original = type(model_admin)
        if issubclass(original, FrenchTitlesAdmin):
            continue
        french = type(original.__name__, (FrenchTitlesAdmin, original), {"__module__": original.__module__})
        site._registry[model] = french(model, site)
