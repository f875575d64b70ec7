import factory
from factory.django import DjangoModelFactory

from hap_contracting.organisations.classification import Facts, classify
from hap_contracting.organisations.constants import OrganisationType
from hap_contracting.organisations.models import (
    CareLocation,
    CareOrganisation,
    HapPost,
    PostcodeRange,
    Region,
    TargetGroup,
)


class RegionFactory(DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Regio {n}")
    slug = factory.Sequence(lambda n: f"regio-{n}")


class HapPostFactory(DjangoModelFactory):
    class Meta:
        model = HapPost

    region = factory.SubFactory(RegionFactory)
    name = factory.Sequence(lambda n: f"HAP {n}")
    city = "Zwolle"


class PostcodeRangeFactory(DjangoModelFactory):
    class Meta:
        model = PostcodeRange

    post = factory.SubFactory(HapPostFactory)
    first = 8000
    last = 8099


class CareOrganisationFactory(DjangoModelFactory):
    class Meta:
        model = CareOrganisation

    name = factory.Sequence(lambda n: f"Zorggroep {n}")
    kvk_number = factory.Sequence(lambda n: f"{10000000 + n}")
    agb_code = factory.Sequence(lambda n: f"{73000000 + n}")
    organisation_type = OrganisationType.WLZ_INSTITUTION
    # Where its invoices go, so that they can be sent (by e-mail, with the PDF and e-invoice).
    invoice_address = "Postbus 100"
    invoice_postcode = "8000 AB"
    invoice_city = "Zwolle"
    invoice_email = factory.Sequence(lambda n: f"facturen{n}@zorggroep.example")

    class Params:
        # Where its invoices go: ``CareOrganisationFactory(with_invoice_address=True)``.
        with_invoice_address = factory.Trait(
            invoice_address="Postbus 1234",
            invoice_postcode="8000 AA",
            invoice_city="Zwolle",
            invoice_attention="Crediteurenadministratie",
            invoice_reference="PO-2026-118",
            invoice_email="facturen@zorggroep.example",
        )


class TargetGroupFactory(DjangoModelFactory):
    class Meta:
        model = TargetGroup
        django_get_or_create = ("name",)

    name = "Psychogeriatrie"
    is_special = False


class CareLocationFactory(DjangoModelFactory):
    class Meta:
        model = CareLocation

    organisation = factory.SubFactory(CareOrganisationFactory)
    name = factory.Sequence(lambda n: f"Woonzorglocatie {n}")
    street = "Hofstraat"
    house_number = factory.Sequence(lambda n: n + 1)
    postcode = "8011 AB"
    city = "Zwolle"
    hap_post = factory.SubFactory(HapPostFactory)
    region = factory.SelfAttribute("hap_post.region")
    wlz_treatment_admission = True
    treatment_delivered = True
    highest_care_profile = 7
    number_of_residents = 24
    # As the service derives it (``classification.classify``) from the facts above.
    wkkgz_situation = factory.LazyAttribute(
        lambda location: (
            classify(
                Facts(
                    wlz_treatment_admission=location.wlz_treatment_admission,
                    pgb_without_zorgkantoor_contract=getattr(
                        location, "pgb_without_zorgkantoor_contract", "unknown"
                    ),
                    housing_and_care=getattr(location, "housing_and_care", "unknown"),
                    treatment_delivered=location.treatment_delivered,
                )
            ).situation
        )
    )
