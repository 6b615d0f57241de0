"""Données ouvertes d'un contrat : fichiers CSV, JSON, XLSX, GeoJSON et Data Package (Frictionless).

- ``schema`` : ce qu'est une ressource (colonnes typées, clés) et sa Table Schema ;
- ``resources`` : les sept ressources d'un contrat, chacune définie une seule fois (colonnes et
  lignes) ; le schéma publié et les colonnes exportées en découlent ;
- ``writers`` : CSV, JSON, XLSX et GeoJSON, protégés contre l'injection de formules ;
- ``datapackage`` : le descripteur ``datapackage.json`` (profil tabular-data-package).

Ce paquet ne décide pas de ce qui est public : il reçoit la personne pour qui lire (la vue passe
toujours un visiteur anonyme) et s'en remet aux droits existants (``visible_commitments``).
"""
