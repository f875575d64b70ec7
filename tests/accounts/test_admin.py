"""Users in the Django admin."""

import pytest
from django.urls import reverse

from hap_contracting.core.roles import Role

pytestmark = pytest.mark.django_db


def test_users_are_deactivated_never_deleted_so_the_history_keeps_their_name(client, make_user):
    from accounts.models import User

    administrator = make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
    leaver = make_user(Role.SECRETARIAT)
    client.force_login(administrator)

    response = client.post(reverse("admin:accounts_user_delete", args=[leaver.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert User.objects.filter(pk=leaver.pk).exists()
