"""Every change to organizations, memberships, invitations and API tokens goes through here.

Services check who may act, validate, write in one transaction and raise
``ValidationError`` keyed by field (or ``PermissionDenied``); the pages, the
API and the admin turn those into answers.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import ApiToken, Invitation, Membership, Organization, User
from accounts.models.users import ENGINEERS_GROUP
from notifications.services import email_send

INVITATION_SALT = "primetime.accounts.invitation"


# --- Organizations ----------------------------------------------------------


def organization_create(
    *,
    name: str,
    contact_email: str,
    by: User,
    slug: str = "",
    timezone_name: str = "Europe/Paris",
    owner_email: str = "",
) -> Organization:
    """Onboard a client: create its organization and, if given, invite its first owner."""
    if not by.is_engineer:
        raise PermissionDenied(_("Only provider engineers can create organizations."))
    organization = Organization(
        name=name.strip(),
        slug=slug or slugify(name)[:60],
        timezone=timezone_name,
        contact_email=contact_email,
    )
    organization.full_clean()
    with transaction.atomic():
        organization.save()
        if owner_email:
            invitation_create(organization=organization, email=owner_email, role=Membership.Role.OWNER, by=by)
    return organization


def organization_update(*, organization: Organization, by: User, **fields) -> Organization:
    """Change an organization's name, time zone or contact e-mail; the slug is fixed."""
    if not organization.is_manageable_by(by):
        raise PermissionDenied(_("Only owners can change the organization."))
    allowed = {"name", "timezone", "contact_email"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({field: _("This field cannot be changed.") for field in sorted(unknown)})
    for field, value in fields.items():
        setattr(organization, field, value)
    organization.full_clean()
    organization.save(update_fields=[*fields])
    return organization


# --- Invitations ------------------------------------------------------------


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt=INVITATION_SALT, compress=True)


def invitation_url(invitation: Invitation) -> str:
    return settings.SITE_URL + reverse("invitation-accept", args=[invitation_token(invitation)])


def invitation_create(*, organization: Organization, email: str, role: str, by: User) -> Invitation:
    """Invite someone by e-mail; re-inviting the same address replaces the pending invitation."""
    if not organization.is_manageable_by(by):
        raise PermissionDenied(_("Only owners can invite people."))
    email = User.objects.normalize_email(email.strip()).lower()
    if role not in Membership.Role.values:
        raise ValidationError({"role": _("Choose owner or member.")})
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise ValidationError({"email": _("%(email)s is already a member.") % {"email": email}})
    now = timezone.now()
    invitation = Invitation(
        organization=organization,
        email=email,
        role=role,
        invited_by=by,
        expires_at=now + settings.INVITATION_MAX_AGE,
    )
    invitation.full_clean()
    with transaction.atomic():
        Invitation.objects.filter(
            organization=organization, email__iexact=email, accepted_at=None, revoked_at=None
        ).update(revoked_at=now)
        invitation.save()
        email_send(
            to=[email],
            template="emails/invitation",
            context={
                "organization": organization,
                "invited_by": by,
                "role": invitation.get_role_display().lower(),
                "url": invitation_url(invitation),
                "expires_at": invitation.expires_at,
            },
        )
    return invitation


def invitation_revoke(*, invitation: Invitation, by: User) -> None:
    if not invitation.organization.is_manageable_by(by):
        raise PermissionDenied(_("Only owners can revoke invitations."))
    if not invitation.is_pending():
        raise ValidationError(
            _("This invitation is already %(state)s.") % {"state": invitation.get_state_display().lower()}
        )
    Invitation.objects.filter(pk=invitation.pk, revoked_at=None, accepted_at=None).update(revoked_at=timezone.now())


class InvitationInvalid(ValidationError):
    """The link is unknown, tampered with, expired, revoked or already used."""


def invitation_from_token(token: str) -> Invitation:
    """Return the pending invitation a link points to, or raise InvitationInvalid with the reason."""
    max_age = settings.INVITATION_MAX_AGE
    try:
        payload = signing.loads(token, salt=INVITATION_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise InvitationInvalid(_("This invitation link has expired. Ask an owner to invite you again.")) from exc
    except signing.BadSignature as exc:
        raise InvitationInvalid(_("This invitation link is not valid. Check that you copied all of it.")) from exc
    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(pk=payload.get("i"), nonce=payload.get("n"))
        .first()
    )
    if invitation is None:
        raise InvitationInvalid(_("This invitation was replaced or withdrawn. Ask an owner to invite you again."))
    state = invitation.state
    if state == Invitation.State.ACCEPTED:
        raise InvitationInvalid(_("This invitation has already been used. Sign in to reach the organization."))
    if state == Invitation.State.REVOKED:
        raise InvitationInvalid(_("This invitation was withdrawn. Ask an owner to invite you again."))
    if state == Invitation.State.EXPIRED:
        raise InvitationInvalid(_("This invitation link has expired. Ask an owner to invite you again."))
    return invitation


def invitation_accept(*, token: str, user: User) -> Membership:
    """Turn a pending invitation into a membership, exactly once."""
    invitation = invitation_from_token(token)
    if invitation.email.lower() != user.email.lower():
        raise InvitationInvalid(
            _("This invitation is for %(email)s. Sign in with that address to accept it.") % {"email": invitation.email}
        )
    now = timezone.now()
    with transaction.atomic():
        # The conditional update is the claim: of two concurrent accepts, one wins.
        claimed = Invitation.objects.filter(
            pk=invitation.pk, accepted_at=None, revoked_at=None, expires_at__gt=now
        ).update(accepted_at=now, accepted_by=user)
        if claimed != 1:
            raise InvitationInvalid(_("This invitation has already been used."))
        membership, created = Membership.objects.get_or_create(
            user=user, organization=invitation.organization, defaults={"role": invitation.role}
        )
        if not created and invitation.role == Membership.Role.OWNER and not membership.is_owner:
            membership.role = Membership.Role.OWNER
            membership.save(update_fields=["role"])
    return membership


def user_register_from_invitation(*, token: str, full_name: str, password: str) -> tuple[User, Membership]:
    """Create the invited person's account and accept the invitation in one step."""
    invitation = invitation_from_token(token)
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise InvitationInvalid(
            _("An account already exists for %(email)s. Sign in to accept.") % {"email": invitation.email}
        )
    with transaction.atomic():
        try:
            user = User.objects.create_user(email=invitation.email, password=password, full_name=full_name.strip())
        except IntegrityError as exc:
            raise InvitationInvalid(_("An account already exists for this address. Sign in to accept.")) from exc
        membership = invitation_accept(token=token, user=user)
    return user, membership


def invitations_purge_expired(*, older_than_days: int = 30) -> int:
    """Delete invitations that ended (expired, revoked or accepted) long ago; return how many."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _rows = Invitation.objects.filter(expires_at__lt=cutoff).delete()
    return deleted


# --- Memberships ------------------------------------------------------------


def _lock_owners(organization: Organization) -> int:
    # Locking the owner rows serialises concurrent demotions, so two owners
    # cannot remove each other at the same moment and leave none.
    return len(
        Membership.objects.select_for_update()
        .filter(organization=organization, role=Membership.Role.OWNER)
        .values_list("pk", flat=True)
    )


def membership_change_role(*, membership: Membership, role: str, by: User) -> Membership:
    organization = membership.organization
    if not organization.is_manageable_by(by):
        raise PermissionDenied(_("Only owners can change roles."))
    if role not in Membership.Role.values:
        raise ValidationError({"role": _("Choose owner or member.")})
    with transaction.atomic():
        owners = _lock_owners(organization)
        membership.refresh_from_db(fields=["role"])
        if membership.is_owner and role != Membership.Role.OWNER and owners <= 1:
            raise ValidationError(
                {"role": _("An organization needs at least one owner. Make someone else owner first.")}
            )
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def membership_remove(*, membership: Membership, by: User) -> None:
    """Remove a member; owners and engineers remove anyone, members may leave."""
    organization = membership.organization
    leaving = membership.user_id == by.pk
    if not leaving and not organization.is_manageable_by(by):
        raise PermissionDenied(_("Only owners can remove members."))
    with transaction.atomic():
        owners = _lock_owners(organization)
        membership.refresh_from_db(fields=["role"])
        if membership.is_owner and owners <= 1:
            raise ValidationError(_("The last owner cannot be removed. Make someone else owner first."))
        membership.delete()


# --- Engineers --------------------------------------------------------------


def engineer_grant(*, user: User) -> User:
    """Make a user a provider engineer (staff in the engineers group)."""
    group, _created = Group.objects.get_or_create(name=ENGINEERS_GROUP)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(group)
    user.__dict__.pop("is_engineer", None)
    return user


# --- API tokens -------------------------------------------------------------


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a personal API token; return it with the raw key, which is never stored."""
    raw_key, key_id, key_hash = ApiToken.generate()
    token = ApiToken(user=user, name=name.strip(), key_id=key_id, key_hash=key_hash)
    token.full_clean()
    token.save()
    return token, raw_key


def api_token_revoke(*, token: ApiToken, by: User) -> None:
    if token.user_id != by.pk:
        raise PermissionDenied(_("You can only revoke your own tokens."))
    ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now())
