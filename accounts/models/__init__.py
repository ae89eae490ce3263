from accounts.models.invitations import Invitation
from accounts.models.organizations import Membership, Organization
from accounts.models.tokens import ApiToken
from accounts.models.users import User

__all__ = ["ApiToken", "Invitation", "Membership", "Organization", "User"]
