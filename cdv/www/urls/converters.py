"""Convertisseur « docfmt » : format d'un document téléchargeable (PDF ou tableur)."""

from django.urls import register_converter


class DocumentFormat:
    regex = "pdf|xlsx"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(DocumentFormat, "docfmt")
