"""Proving control of a project's contract: the message to sign, and the signed message.
Members (write) and write keys of the project's organization; another organization's
project, or a contract the project does not watch, is a 404."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fabrknt.api.access import WRITE, access_of
from fabrknt.api.errors import error_responses
from trace.api import contracts_serializers as s
from trace.models import Project
from trace.services.contract_control import (
    contract_control_verify,
    contract_verification_message_issue,
)

TAGS = ["projects"]


def _project(request: Request, project_id) -> Project:
    return access_of(request).get(
        Project.objects.select_related("organization"), WRITE, pk=project_id
    )


class ContractVerifyMessageView(APIView):
    @extend_schema(
        responses={
            200: s.VerifyMessageSerializer,
            **error_responses(
                400, 401, 403, 404, s404="Unknown project, or a contract it does not watch"
            ),
        },
        tags=TAGS,
        summary="The message to sign to prove control of one of the project's contracts",
    )
    def get(self, request: Request, id, address: str) -> Response:  # noqa: A002  (API.md's {id})
        issued = contract_verification_message_issue(
            project=_project(request, id), address=address, domain=request.get_host()
        )
        return Response(s.VerifyMessageSerializer(issued).data)


class ContractVerifyView(APIView):
    @extend_schema(
        request=s.VerifyInSerializer,
        responses={
            200: s.VerificationSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                503,
                s400="Refused, with a stable `code`: wrong_signer, foreign_message, "
                "nonce_used, nonce_expired, message_mismatch, malformed_message, "
                "malformed_signature, not_a_program, no_upgrade_authority",
                s503="The chain cannot be read: chain_not_configured (no RPC for it), "
                "chain_mismatch, chain_unavailable",
            ),
        },
        tags=TAGS,
        summary="Prove control of one of the project's contracts with the signed message",
    )
    def post(self, request: Request, id, address: str) -> Response:  # noqa: A002
        project = _project(request, id)
        body = s.VerifyInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        verification = contract_control_verify(
            project=project, address=address, **body.validated_data
        )
        return Response(s.VerificationSerializer(verification).data)
