import factory
from django.contrib.auth.models import Group
from factory.django import DjangoModelFactory

from accounts.models import User
from tests.organisations.factories import RegionFactory


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Gebruiker {n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    region = factory.SubFactory(RegionFactory)
    password = factory.PostGenerationMethodCall("set_password", "geheim-wachtwoord")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or ():
            self.groups.add(Group.objects.get_or_create(name=role)[0])
        self.save()
