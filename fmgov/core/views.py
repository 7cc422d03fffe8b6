from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from audits.selectors import chain_head


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and docker compose: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    seq, head_hash = chain_head()
    return render(request, "dashboard.html", {"chain_seq": seq, "chain_hash": head_hash})
