from django import template

from cdv.notifications.services import unread_count

register = template.Library()


@register.simple_tag
def unread_notifications(user) -> int:
    """Nombre de notifications non lues de ``user`` (une requête)."""
    return unread_count(user) if getattr(user, "is_authenticated", False) else 0
