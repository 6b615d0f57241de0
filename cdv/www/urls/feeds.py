"""Agenda iCalendar et fil d'actualités Atom d'un contrat (auxquels on s'abonne)."""

from django.urls import path

from ..views import feeds

urlpatterns = [
    path("contrats/<slug:slug>/agenda.ics", feeds.agenda_ics, name="agenda_ics"),
    path("contrats/<slug:slug>/actualites.atom", feeds.news_atom, name="news_atom"),
]
