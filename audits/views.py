from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from audits.filters import AuditEventFilter
from audits.selectors import audit_event_list, verify_chain
from fmgov.core.roles import Role
from fmgov.core.views_util import role_required


@role_required(Role.AUDITOR, Role.ADMIN)
def event_list(request: HttpRequest) -> HttpResponse:
    filterset = AuditEventFilter(request.GET, queryset=audit_event_list())
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    return render(request, "audits/event_list.html", {"filter": filterset, "page": page})


@role_required(Role.AUDITOR, Role.ADMIN)
def verify(request: HttpRequest) -> HttpResponse:
    return render(request, "audits/_verify_result.html", {"result": verify_chain()})
