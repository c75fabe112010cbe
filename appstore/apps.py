from django.apps import AppConfig


class AppstoreConfig(AppConfig):
    name = "appstore"
    verbose_name = "App Store"
