"""Hub errors, and how the operator base (``HubOperator``) turns them into what Airflow acts on."""

from airflow.sdk.exceptions import AirflowException, AirflowFailException

from channelhub.exceptions import (
    ChannelHubError,
    ConfigFileError,
    PartnerUnavailable,
    UnknownClient,
    UnsafeTenantPath,
)
from channelhub.operators import for_airflow


def test_a_transient_error_is_retried_and_a_final_one_fails_at_once():
    retried = for_airflow(PartnerUnavailable("the ERP answered 503"))
    assert type(retried) is AirflowException and str(retried) == "the ERP answered 503"
    for final in (UnsafeTenantPath("irism-a/main", "is a symbolic link"), UnknownClient("no client 'x'")):
        assert isinstance(for_airflow(final), AirflowFailException)


def test_every_hub_error_shares_one_base_and_config_errors_say_where():
    error = ConfigFileError("tenants/acme.yaml", ["projects[0].schedule.time: '9am' is not a time of day HH:MM"])
    assert isinstance(error, ChannelHubError) and isinstance(UnknownClient("x"), LookupError)
    assert str(error) == "tenants/acme.yaml: projects[0].schedule.time: '9am' is not a time of day HH:MM"
