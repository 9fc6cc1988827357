"""What `channelhub tenant add` / `client add` write, and the OpenSSH commands they print."""

from channelhub.config.clients import Client
from channelhub.config.tenants import TenantProject
from channelhub.onboarding import NewClient, NewTenant, openssh_commands


def test_a_new_tenant_is_a_valid_project_per_name_with_its_allow_list():
    tenant = NewTenant("zeta", ["main", "stock"], ["store"], "09:00", "Asia/Kolkata", ["ops@zeta.example"],
                       ["203.0.113.0/24"])
    document = tenant.document()
    projects = [TenantProject.model_validate({**document["defaults"], **p, "tenant": "zeta"})
                for p in document["projects"]]
    assert [p.dag_id for p in projects] == ["sftp__zeta__main", "sftp__zeta__stock"]
    assert projects[0].folder == "irism-zeta/main" and projects[0].allowed_ips == ["203.0.113.0/24"]
    commands = openssh_commands("zeta", projects)
    assert "useradd -M -d /nonexistent -s /usr/sbin/nologin -g sftp-zeta -G sftp-tenants zeta" in commands
    assert "chmod 2770 /srv/sftp/irism-zeta/main /srv/sftp/irism-zeta/stock" in commands
    assert "useradd -M -d /srv/sftp/irism-zeta -s /usr/sbin/nologin -g sftp-zeta -G sftp-hub hub-zeta" in commands
    assert "Match User zeta Address *,!203.0.113.0/24\n    DenyUsers zeta" in commands


def test_a_new_client_pushes_on_each_channel_and_posts_to_its_erp_with_every_job_on():
    new = NewClient("shopco", "tryton", "shopco_erp", {"amazon-in": "AMAZON_INDIA"})
    client = Client.model_validate(new.document())
    erp = client.erp
    assert (erp.connector, erp.conn_id, erp.partner_pool) == ("tryton", "shopco_erp", "partner_shopco_erp")
    assert all(job.enabled for job in erp.jobs.values()) and len(erp.jobs) == 4
    assert erp.mapping["amazon-in"].erp_channel_name == "AMAZON_INDIA"
    assert client.channel("amazon-in").connector == "push_api"


def test_the_hubs_route_to_a_tenant_folder_is_its_own_user_in_the_tenants_chroot():
    import pytest

    from channelhub.sftp.hook import TenantRoute, tenant_route

    assert tenant_route({}, "irism-acme/main") == TenantRoute(None, "irism-acme/main")
    assert tenant_route({"tenant_login": "hub-{tenant}"}, "irism-acme/main/in") == TenantRoute("hub-acme", "main/in")
    with pytest.raises(ValueError, match="not a folder under a tenant root"):
        tenant_route({"tenant_login": "hub-{tenant}"}, "elsewhere/main")


def test_a_name_with_a_path_in_it_is_refused_before_anything_is_written(tmp_path):
    import pytest

    from channelhub import PROJECT_ROOT
    from channelhub.exceptions import OnboardingRefused
    from channelhub.onboarding import add_client_file, add_tenant_file

    (tmp_path / "demo.yaml").write_text("kept: as it was\n")
    for name in ("../demo", "x" * 300, "a/b", "Zeta", "a\0b", ".hidden"):
        with pytest.raises(OnboardingRefused, match="not allowed"):
            add_tenant_file(NewTenant(name, ["main"], ["store"], "09:00", "UTC", ["ops@x.example"], []),
                            tmp_path / "tenants", PROJECT_ROOT / "schemas")
        with pytest.raises(OnboardingRefused, match="not allowed"):
            add_client_file(NewClient(name, "tryton", "erp", {"web": "WEB"}), tmp_path)
    with pytest.raises(OnboardingRefused, match=r"project name '\.\./x' is not allowed"):
        add_tenant_file(NewTenant("zeta", ["../x"], ["store"], "09:00", "UTC", ["ops@x.example"], []),
                        tmp_path / "tenants", PROJECT_ROOT / "schemas")
    assert (tmp_path / "demo.yaml").read_text() == "kept: as it was\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.yaml"]


def test_tenant_add_takes_the_product_database_and_the_wait():
    tenant = NewTenant("zeta", ["main"], ["store"], "09:00", "UTC", ["ops@zeta.example"], [],
                       product_db_conn_id="zeta_pg", wait={"deadline": "1h", "settle": "10s"})
    document = tenant.document()
    project = TenantProject.model_validate({**document["defaults"], **document["projects"][0], "tenant": "zeta"})
    assert project.product_db_conn_id == "zeta_pg"
    assert (project.wait.deadline.total_seconds(), project.wait.settle.total_seconds()) == (3600, 10)
