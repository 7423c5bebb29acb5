from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from api.v1 import api

        from .api import router
        from .receivers import connect

        connect()
        # The webhook endpoints' management, under the API's prefix, auth and error conventions.
        api.add_router("/webhooks", router)
