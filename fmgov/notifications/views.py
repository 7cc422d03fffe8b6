"""The Outbox: admins read the e-mail the development backend kept, instead of a terminal full of it."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from fmgov.core.roles import Role
from fmgov.core.views import paginate
from fmgov.core.views_util import role_required
from fmgov.notifications.backends import outbox_dir
from fmgov.notifications.selectors import outbox_in_use, outbox_message, outbox_message_names

__all__ = ["outbox_list", "outbox_detail"]


@role_required(Role.ADMIN)
def outbox_list(request: HttpRequest) -> HttpResponse:
    in_use = outbox_in_use()
    page = paginate(request, outbox_message_names(), per_page=50)
    # A message removed since the listing is left out rather than failing the page.
    messages = []
    for name in page.object_list:
        try:
            messages.append(outbox_message(name, with_body=False))
        except LookupError:
            continue
    page.object_list = messages
    context = {
        "page": page,
        "in_use": in_use,
        "directory": outbox_dir() if in_use else None,
        "backend": settings.EMAIL_BACKEND,
    }
    return render(request, "notifications/outbox_list.html", context)


@role_required(Role.ADMIN)
def outbox_detail(request: HttpRequest, name: str) -> HttpResponse:
    try:
        message = outbox_message(name)
    except LookupError:
        raise Http404("No such message in the outbox.") from None
    return render(request, "notifications/outbox_detail.html", {"message": message})
