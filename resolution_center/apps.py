from django.apps import AppConfig


class ResolutionCenterConfig(AppConfig):
    name = "resolution_center"
    verbose_name = "Resolution Center"

    def ready(self):
        # Before any URLconf is read: the apps' patterns say <id:...> for row ids.
        from .converters import row_id_converter_register

        row_id_converter_register()
