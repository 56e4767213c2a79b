"""Accounts API: wallet sign-in, tokens, /me, organizations, members and API keys."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors
from accounts.api import serializers as s
from accounts.http import AuthenticatedRequest
from accounts.services.api_keys import api_key_issue, api_key_revoke
from accounts.services.organizations import membership_add, organization_create
from accounts.services.sign_in import SignedIn, sign_in_nonce_issue, siwe_sign_in, siws_sign_in
from accounts.services.tokens import token_pair_issue, token_refresh
from fabrknt.api.access import MANAGE, access_of
from fabrknt.api.errors import NotFound, error_responses
from fabrknt.api.permissions import IsUser
from fabrknt.api.throttles import DefaultThrottle, SignInThrottle


class _AuthEndpoint(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [SignInThrottle, DefaultThrottle]


class NonceView(_AuthEndpoint):
    @extend_schema(responses={200: s.NonceSerializer}, tags=["auth"])
    def get(self, request: Request) -> Response:
        return Response(s.NonceSerializer(sign_in_nonce_issue()).data)


class _SignInView(_AuthEndpoint):
    def sign_in(self, *, message: str, signature: str) -> SignedIn:
        raise NotImplementedError

    def post(self, request: Request) -> Response:
        body = s.SignInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        signed_in = self.sign_in(**body.validated_data)
        # One sign-in serves both: tokens for the API, a session for the pages.
        login(request, signed_in.user, backend=settings.AUTHENTICATION_BACKENDS[0])
        tokens = token_pair_issue(user=signed_in.user)
        payload = {
            "access": tokens.access,
            "refresh": tokens.refresh,
            "user": selectors.user_profile(user=signed_in.user),
        }
        return Response(s.SignedInSerializer(payload).data)


class SiweSignInView(_SignInView):
    @extend_schema(
        request=s.SignInSerializer,
        responses={200: s.SignedInSerializer, **error_responses(400, 401, 429, 503)},
        tags=["auth"],
        summary="Sign in with Ethereum (EIP-4361; EIP-191 or EIP-1271 signature)",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)

    def sign_in(self, *, message: str, signature: str) -> SignedIn:
        return siwe_sign_in(message=message, signature=signature)


class SiwsSignInView(_SignInView):
    @extend_schema(
        request=s.SignInSerializer,
        responses={200: s.SignedInSerializer, **error_responses(400, 401, 429)},
        tags=["auth"],
        summary="Sign in with Solana (base58 Ed25519 signature)",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)

    def sign_in(self, *, message: str, signature: str) -> SignedIn:
        return siws_sign_in(message=message, signature=signature)


class RefreshView(_AuthEndpoint):
    @extend_schema(
        request=s.RefreshSerializer,
        responses={200: s.TokenPairSerializer, **error_responses(400, 401, 429)},
        tags=["auth"],
        summary="Spend a refresh token for a new access and refresh token",
    )
    def post(self, request: Request) -> Response:
        body = s.RefreshSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tokens = token_refresh(refresh=body.validated_data["refresh"])
        return Response(s.TokenPairSerializer(tokens).data)


class MeView(APIView):
    permission_classes = [IsUser]

    @extend_schema(responses={200: s.MeSerializer}, tags=["accounts"])
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(s.MeSerializer(selectors.user_profile(user=request.user)).data)


class OrganizationListView(GenericAPIView):
    permission_classes = [IsUser]
    serializer_class = s.OrganizationSerializer
    request: AuthenticatedRequest

    def get_queryset(self):
        return selectors.user_organizations(user=self.request.user)

    @extend_schema(responses={200: s.OrganizationSerializer(many=True)}, tags=["accounts"])
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.OrganizationSerializer(page, many=True).data)

    @extend_schema(
        request=s.OrganizationInputSerializer,
        responses={201: s.OrganizationSerializer},
        tags=["accounts"],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        body = s.OrganizationInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        organization = organization_create(name=body.validated_data["name"], owner=request.user)
        return Response(s.OrganizationSerializer(organization).data, status=201)


class OrganizationDetailView(APIView):
    """Members of any role and `read` keys of the organization. Its key without `read` gets
    a 403 naming the scope; another organization's callers, a 404."""

    @extend_schema(responses={200: s.OrganizationSerializer}, tags=["accounts"])
    def get(self, request: Request, organization_id) -> Response:
        organization = access_of(request).organization(organization_id)
        return Response(s.OrganizationSerializer(organization).data)


# Owners and admins: MANAGE, which no API key has, so the caller is a User. (A comment,
# not a docstring: drf-spectacular would publish it.)
class MembersView(APIView):
    @extend_schema(
        request=s.MemberInputSerializer,
        responses={201: s.MemberSerializer, **error_responses(400, 401, 403, 404, 409)},
        tags=["accounts"],
        summary="Add a member by wallet address (owners and admins; owners only add owners)",
    )
    def post(self, request: AuthenticatedRequest, organization_id) -> Response:
        organization = access_of(request).organization(organization_id, MANAGE)
        body = s.MemberInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        wallet = body.validated_data["wallet_address"]
        membership = membership_add(
            organization=organization,
            wallet=wallet,
            role=body.validated_data["role"],
            granted_by_role=selectors.membership_role(organization=organization, user=request.user),
            actor=request.user,
        )
        payload = {
            "id": membership.pk,
            "user_id": membership.user_id,
            "wallet_address": wallet.address,
            "role": membership.role,
            "created_at": membership.created_at,
        }
        return Response(s.MemberSerializer(payload).data, status=201)


# Owners and admins: MANAGE, so the caller is a User.
class ApiKeysView(GenericAPIView):
    serializer_class = s.ApiKeySerializer

    def get_queryset(self):
        organization = access_of(self.request).organization(self.kwargs["organization_id"], MANAGE)
        return selectors.organization_api_keys(organization=organization)

    @extend_schema(responses={200: s.ApiKeySerializer(many=True)}, tags=["accounts"])
    def get(self, request: Request, organization_id) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.ApiKeySerializer(page, many=True).data)

    @extend_schema(
        request=s.ApiKeyInputSerializer,
        responses={201: s.IssuedApiKeySerializer},
        tags=["accounts"],
        summary="Issue an API key; the secret `key` is shown only in this response",
    )
    def post(self, request: AuthenticatedRequest, organization_id) -> Response:
        organization = access_of(request).organization(organization_id, MANAGE)
        body = s.ApiKeyInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        issued = api_key_issue(
            organization=organization, created_by=request.user, **body.validated_data
        )
        return Response(s.IssuedApiKeySerializer(issued).data, status=201)


class ApiKeyDetailView(APIView):
    @extend_schema(responses={204: None}, tags=["accounts"], summary="Revoke an API key at once")
    def delete(self, request: AuthenticatedRequest, organization_id, key_id) -> Response:
        organization = access_of(request).organization(organization_id, MANAGE)
        api_key = (
            selectors.organization_api_keys(organization=organization).filter(pk=key_id).first()
        )
        if api_key is None:
            raise NotFound()
        api_key_revoke(api_key=api_key, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
