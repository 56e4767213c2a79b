from django.db import models


class Click(models.Model):
    campaign = models.CharField(max_length=64)
    click_id = models.CharField(max_length=64, unique=True)
    referrer = models.CharField(max_length=2048, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    utm_params = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.click_id
