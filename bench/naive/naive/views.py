from rest_framework import generics, serializers

from naive.models import Click


class ClickSerializer(serializers.ModelSerializer):
    class Meta:
        model = Click
        fields = [
            "id",
            "campaign",
            "click_id",
            "referrer",
            "user_agent",
            "utm_params",
            "occurred_at",
        ]


class ClickList(generics.ListAPIView):
    """The 20 latest clicks: one ORM query, a ModelSerializer."""

    serializer_class = ClickSerializer
    queryset = Click.objects.order_by("-id")[:20]


class ClickCreate(generics.CreateAPIView):
    """A click inserted through the serializer: one INSERT per request."""

    serializer_class = ClickSerializer
