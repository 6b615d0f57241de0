"""Formulaires des pages (libellés français), un module par domaine ; les écritures passent par les
services."""
