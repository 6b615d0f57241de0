"""Appel à projets : les actes attributifs (arrêté, convention, CPO) de chaque ligne votée."""

from django.http import Http404


def act_templates(request, slug):
    raise Http404("Pas encore disponible.")


def act_template_edit(request, slug, partner_slug):
    raise Http404("Pas encore disponible.")


def call_acts(request, slug, year):
    raise Http404("Pas encore disponible.")


def line_act(request, slug, year, pk, line_pk):
    raise Http404("Pas encore disponible.")


def act_docx(request, slug, year, pk, line_pk):
    raise Http404("Pas encore disponible.")


def act_pdf(request, slug, year, pk, line_pk):
    raise Http404("Pas encore disponible.")


def act_sign(request, slug, year, pk, line_pk):
    raise Http404("Pas encore disponible.")


def act_signed_file(request, slug, year, pk, line_pk):
    raise Http404("Pas encore disponible.")
