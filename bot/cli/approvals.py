"""`policybot approvals list|show`: post requests for administrators and scripts."""

from __future__ import annotations

from typing import Any, TypeVar

import click

from bot.cli.options import as_option, json_option, school_and_actor, school_option
from bot.cli.support import echo_json, in_session
from dialogs.services.container import Services
from dialogs.services.posts.card import STATUS_LABELS, PostStatus, accounts_text
from dialogs.services.privacy.audit import AuditAction
from dialogs.services.school.schools import School
from storage.models import Evidence, PostDecision, PostRequest

T = TypeVar("T")


def _summary(request: PostRequest, school: School) -> dict[str, Any]:
    return {
        "reference": request.reference,
        "status": request.status,
        "author": request.author_id,
        "accounts": list(request.accounts),
        "planned_at": request.planned_at.isoformat(),
        "revision": request.revision,
        "approvals_required": request.approvals_required,
        "created_at": request.created_at.isoformat(),
        "published_link": request.published_link,
    }


def _full(
    request: PostRequest,
    school: School,
    decisions: list[PostDecision],
    media: list[Evidence],
) -> dict[str, Any]:
    return {
        **_summary(request, school),
        "text": request.text,
        "pupils": list(request.pupils),
        "confirmed": list(request.checks.get("confirmed", [])),
        "warnings": list(request.warnings),
        "media": [{"name": m.original_name, "sha256": m.sha256, "size": m.size} for m in media],
        "decisions": [
            {
                "at": d.at.isoformat(),
                "by": d.actor_id,
                "action": d.action,
                "version": d.revision,
                "reason": d.reason,
            }
            for d in decisions
        ],
    }


@click.group()
def approvals() -> None:
    """Requests to publish posts on the school's official accounts."""


@approvals.command("list")
@school_option()
@as_option(help="List what this person may see (default: everything).")
@click.option(
    "--status", type=click.Choice([s.value for s in PostStatus]), help="Only this status."
)
@json_option()
def list_requests(
    school_id: str | None, person_id: str | None, status: str | None, as_json: bool
) -> None:
    """List post requests, oldest first."""
    school, person = school_and_actor(school_id, person_id)

    async def fetch(services: Services) -> list[PostRequest]:
        wanted = PostStatus(status) if status else None
        return list(await services.posts.list_for(school=school, actor=person, status=wanted))

    rows = in_session(fetch)
    if as_json:
        echo_json([_summary(r, school) for r in rows])
        return
    if not rows:
        click.echo("No post requests.")
    for r in rows:
        when = r.planned_at.astimezone(school.tz)
        click.echo(
            f"{r.reference}  {STATUS_LABELS[PostStatus(r.status)]:<30} {when:%d/%m/%Y %H:%M}  "
            f"{school.display_name(r.author_id)}  ->  {accounts_text(r, school)}"
        )


@approvals.command("show")
@click.argument("reference")
@school_option()
@as_option(help="Show it as this person may see it.")
@json_option()
def show(reference: str, school_id: str | None, person_id: str | None, as_json: bool) -> None:
    """Show one request with its text, checks, warnings and every decision on it."""
    school, person = school_and_actor(school_id, person_id)

    async def fetch(
        services: Services,
    ) -> tuple[PostRequest, list[PostDecision], list[Evidence]]:
        request = await services.posts.get(reference, school=school, actor=person)
        services.audit.record(
            school_id=school.id,
            actor_id=person.id if person else "command-line",
            action=AuditAction.POST_VIEW,
            target_type="post_request",
            target_id=request.id,
            detail=request.reference,
        )
        return request, await services.posts.decisions(request), await services.posts.media(request)

    request, decisions, media = in_session(fetch)
    data = _full(request, school, decisions, media)
    if as_json:
        echo_json(data)
        return
    click.echo(f"{request.reference}: {STATUS_LABELS[PostStatus(request.status)]}")
    click.echo(f"  Accounts: {accounts_text(request, school)}")
    click.echo(f"  Planned for: {request.planned_at.astimezone(school.tz):%d/%m/%Y %H:%M}")
    click.echo(f"  Text: {request.text}")
    if request.pupils:
        click.echo(f"  Pupils: {', '.join(request.pupils)}")
    for warning in request.warnings:
        click.echo(f"  Warning: {warning}")
    for item in media:
        click.echo(f"  Photo: {item.original_name} (sha256 {item.sha256[:12]})")
    for d in decisions:
        reason = f": {d.reason}" if d.reason else ""
        click.echo(
            f"  {d.at.astimezone(school.tz):%d/%m/%Y %H:%M} v{d.revision} "
            f"{school.display_name(d.actor_id) if d.actor_id != 'policybot' else 'policybot'} "
            f"{d.action}{reason}"
        )
