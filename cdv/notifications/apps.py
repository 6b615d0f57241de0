from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "cdv.notifications"
    verbose_name = "Notifications"
