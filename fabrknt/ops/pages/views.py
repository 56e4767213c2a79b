"""The operations page (/ops/) for staff, and its queue actions.

The page is rendered whole on the server, so it is useful without JavaScript and after a
reload; static/ops/ops.js draws its charts and keeps it current from the WebSocket
(`{"subscribe": "ops"}` on /ws/live). Retrying or purging a queue is a confirm step
(components/confirm.html: a page of its own, or a dialog with htmx) whose POST calls the
queue service (`fabrknt.ops.queues`), as the API does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from fabrknt.ops import queues
from fabrknt.ops.pages.overview import ops_overview
from fabrknt.ops.readings import queues_read
from fabrknt.pages.decorators import staff_page_view
from fabrknt.pages.forms import ConfirmForm, form_page
from fabrknt.pages.htmx import posted, redirect_to, submitted


@staff_page_view
def ops_page(request: HttpRequest) -> HttpResponse:
    overview = ops_overview()
    return render(
        request,
        "ops/page.html",
        {"overview": overview, "initial_data": overview.initial_data()},
    )


@dataclass(frozen=True)
class QueueAction:
    title: str
    text: str
    submit: str
    danger: bool
    act: Callable[[str], int]
    done: str  # the flash message, with {count} and {queue}


def _purge_dead_letters(name: str) -> int:
    return queues.purge(name, dead_letters=True)


QUEUE_ACTIONS = {
    "retry-dead-letters": QueueAction(
        title="Retry the dead letters of {queue}?",
        text="Dead letters to send back: {dead_letters}. Each goes back to the queue as it "
        "was (same task id): one more attempt. A task that fails again is dead-lettered "
        "again.",
        submit="Retry dead letters",
        danger=False,
        act=queues.retry_dead_letters,
        done="{count} dead letter(s) sent back to {queue}.",
    ),
    "purge": QueueAction(
        title="Purge the queue {queue}?",
        text="Waiting messages to drop: {depth}. Those tasks never run. This cannot be undone.",
        submit="Purge queue",
        danger=True,
        act=queues.purge,
        done="{count} waiting message(s) purged from {queue}.",
    ),
    "purge-dead-letters": QueueAction(
        title="Purge the dead letters of {queue}?",
        text="Dead letters to drop: {dead_letters}. Those tasks are never retried. This cannot "
        "be undone.",
        submit="Purge dead letters",
        danger=True,
        act=_purge_dead_letters,
        done="{count} dead letter(s) purged from {queue}.",
    ),
}


def _counts(name: str, *, ask: bool) -> dict[str, object]:
    """The queue's figures for the confirm text, when asked; "unknown" while the broker
    cannot be read (a refused POST has just said so: not asked again)."""
    stats = next((q for q in queues_read() or [] if q["name"] == name), None) if ask else None
    if stats is None:
        return {"depth": "unknown", "dead_letters": "unknown"}
    return {"depth": stats["depth"], "dead_letters": stats["dead_letter_depth"]}


@staff_page_view
def queue_action_page(request: HttpRequest, name: str, action: str) -> HttpResponse:
    """GET: the confirm step with the queue's figures; POST: the action, then back to the
    page with the count. An unknown queue is a 404; an unreachable broker, the form's
    error (503)."""
    chosen = QUEUE_ACTIONS.get(action)
    if chosen is None:
        raise Http404
    queues.queue_known(name)
    form = ConfirmForm(posted(request))
    if submitted(request):
        count = form.submit(lambda: chosen.act(name))
        if count is not None:
            messages.success(request, chosen.done.format(count=count, queue=name))
            return redirect_to(request, reverse("ops:page"))
    words = {"queue": name, **_counts(name, ask=not submitted(request))}
    context = {
        "queue": name,
        "title": chosen.title.format(**words),
        "text": chosen.text.format(**words),
        "submit": chosen.submit,
        "danger": chosen.danger,
        "action": request.path,
        "cancel": reverse("ops:page"),
    }
    return form_page(request, "ops/queue_confirm.html", context, form)
