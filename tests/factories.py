from datetime import date

import factory
from allauth.account.models import EmailAddress

from accounts.models import Role, User

TEST_PASSWORD = "Kopi-Susu-Gula-Aren-42"  # noqa: S105


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.id")
    full_name = factory.Faker("name", locale="id_ID")
    phone = factory.Sequence(lambda n: f"+628123{n:07d}")
    date_of_birth = date(1995, 6, 15)
    role = Role.CUSTOMER
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def verified_email(obj, create, extracted, **kwargs):  # noqa: N805
        if create and extracted is not False:
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)


class CustomerFactory(UserFactory):
    role = Role.CUSTOMER


class CompanionFactory(UserFactory):
    role = Role.COMPANION


class StaffFactory(UserFactory):
    is_staff = True
    is_superuser = True


def signup_data(**overrides) -> dict:
    """What a new customer types into the sign-up form; `None` leaves a field out."""
    data = {
        "role": "customer",
        "full_name": "Rina Wulandari",
        "email": "rina@example.id",
        "phone": "0812-3456-7890",
        "date_of_birth": "1996-04-21",
        "time_zone": "Asia/Jakarta",
        "password1": TEST_PASSWORD,
        "password2": TEST_PASSWORD,
        "accept_terms": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}
