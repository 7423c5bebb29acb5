from django.apps import AppConfig


class ResolutionCenterConfig(AppConfig):
    name = "resolution_center"
    verbose_name = "Resolution Center"
