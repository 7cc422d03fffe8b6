"""Who a service acts for: a user, or None for the system (tasks, migrations, seeding).

One alias for every app's services, so their signatures say the same thing.
"""

from django.contrib.auth.base_user import AbstractBaseUser

__all__ = ["Actor"]

Actor = AbstractBaseUser | None
