"""Evidence files leave the server only through here: access checked, sent as a download."""

import logging

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from ..attachments import typed_file_name
from ..selectors import attachment_get_for_user

log = logging.getLogger(__name__)


@login_required
@require_GET
def attachment_download(request, attachment_id: int):
    """The case's customer, a member of its company or a reviewer gets the file; anyone else 404.

    Always an attachment (never shown inline), typed from the content we sniffed at upload, with
    nosniff and a sandboxing CSP so a browser never runs what a party uploaded. The file name's
    extension is that type's too (``invoice.html`` that is a GIF downloads as ``invoice.gif``): a
    saved download is opened by its extension, not by the Content-Type it came with.
    """
    attachment = attachment_get_for_user(user=request.user, attachment_id=attachment_id)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        log.error("evidence file missing from storage: attachment=%s name=%s", attachment.pk, attachment.file.name)
        raise Http404("The file is no longer available.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=typed_file_name(attachment.original_name, attachment.content_type),
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
