"""Report API: request (202), status, list and download (streams the PDF)."""

from django.http import FileResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from fmgov.core.api.files import PDFRenderer, file_action
from fmgov.core.api.permissions import AnyRole
from fmgov.core.exceptions import NotAllowed
from reports.api.serializers import ReportRequestSerializer, ReportSerializer
from reports.models import Report
from reports.selectors import may_see_report, report_list_for
from reports.services import report_open_for_download, report_request


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """PDF audit reports, rendered by a worker on the ``reports`` queue."""

    serializer_class = ReportSerializer
    permission_classes = [AnyRole]
    filterset_fields = ["kind", "state", "deployment"]
    ordering_fields = ["created_at", "id"]

    def get_queryset(self):
        return report_list_for(self.request.user)

    def get_object(self) -> Report:
        pk = self.kwargs["pk"]
        if not str(pk).isdigit():
            raise NotFound("No such report.")
        report = Report.objects.select_related("deployment", "requested_by").filter(pk=int(pk)).first()
        if report is None:
            raise NotFound("No such report.")
        if not may_see_report(self.request.user, report):
            raise NotAllowed("Engineers may see reports only about their own deployments.")
        return report

    @extend_schema(request=ReportRequestSerializer, responses={202: ReportSerializer})
    def create(self, request):
        """Queue a report; poll the returned ``id`` until ``state`` is succeeded or failed."""
        data = ReportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = report_request(actor=request.user, **data.validated_data)
        body = ReportSerializer(report, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": f"/api/v1/reports/{report.pk}/"})

    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(description="The PDF file")})
    @file_action(PDFRenderer, detail=True)
    def download(self, request, pk=None):
        """Stream the stored PDF (``Accept: application/pdf`` or ``*/*``); recorded in the audit trail."""
        report = self.get_object()
        handle = report_open_for_download(actor=request.user, report=report)
        response = FileResponse(
            handle, as_attachment=True, filename=report.download_filename, content_type=PDFRenderer.media_type
        )
        response["X-Content-SHA256"] = report.sha256
        return response
