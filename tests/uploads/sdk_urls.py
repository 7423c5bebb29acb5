"""A stand-in for the project's API while the files resource is tested on its own: the `files`
router mounted at /api/v1/files under a NinjaAPI whose bearer tokens name their owner
("company-<pk>" or "user-<pk>")."""

from django.contrib.auth import get_user_model
from django.urls import path
from ninja import NinjaAPI
from ninja.security import HttpBearer

from payments.models import Company
from uploads.api import files_router


class OwnerBearer(HttpBearer):
    def authenticate(self, request, token):
        kind, _, pk = token.partition("-")
        model = {"company": Company, "user": get_user_model()}.get(kind)
        if model is None or not pk.isdigit():
            return None
        return model.objects.filter(pk=int(pk)).first()


api = NinjaAPI(auth=OwnerBearer(), urls_namespace="uploads-sdk-test", docs_url=None)
api.add_router("/files", files_router())


@api.get("/test/attachments/{attachment_id}")
def attachment_link(request, attachment_id: int):
    """What the case representation does for each file it shows: a signed link."""
    from cases.models import Attachment
    from uploads.api import attachment_url

    return {"url": attachment_url(request, Attachment.objects.get(pk=attachment_id))}


urlpatterns = [path("api/v1/", api.urls)]
