"""The connector against the fake Zoho CRM over a real socket: auth, paging, retries, shapes."""

import pytest

from crmsync.zoho import CrmAuthError, CrmMalformedResponse, CrmUnavailable, ZohoClient


@pytest.fixture
def client(fake_server):
    fake = fake_server.fake
    with ZohoClient(
        accounts_domain=fake_server.url,
        api_domain=fake_server.url,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        refresh_token=fake.refresh_token,
        max_retries=3,
        backoff_seconds=0.001,
    ) as zoho:
        yield zoho


def test_wrong_credentials_are_refused_with_a_readable_reason(fake_server):
    zoho = ZohoClient(
        accounts_domain=fake_server.url,
        api_domain=fake_server.url,
        client_id="nope",
        client_secret="wrong",
        refresh_token="wrong",
    )
    with pytest.raises(CrmAuthError, match="Update the CRM credentials"):
        zoho.refresh_access_token()


def test_the_oauth_header_is_zoho_oauthtoken(fake, client):
    fake.add_account("Acme")
    seen = []
    fake.hooks.append(lambda method, path, query: seen.append(path))
    pages = list(client.iter_pages("Accounts", fields=["Account_Name"]))
    assert [r["Account_Name"] for r in pages[0].records] == ["Acme"]
    assert seen == ["/crm/v8/Accounts"]
    assert fake.token_requests == 1


def test_paging_uses_page_token_past_2000_records(fake, client):
    for i in range(2_050):
        fake.add_account(f"Co {i}")
    pages = list(client.iter_pages("Accounts", fields=["Account_Name"]))
    assert sum(len(p.records) for p in pages) == 2_050
    assert len(pages) == 11
    params = [q for _m, _p, q in fake.requests]
    assert params[0]["page"] == "1" and "page_token" in params[-1]
    assert all(q["fields"] == "Account_Name" and q["per_page"] == "200" for q in params)


def test_an_expired_token_is_refreshed_and_the_request_retried_once(fake, client):
    fake.add_account("Acme")
    list(client.iter_pages("Accounts", fields=["Account_Name"]))
    fake.expire_tokens()
    pages = list(client.iter_pages("Accounts", fields=["Account_Name"]))
    assert pages[0].records[0]["Account_Name"] == "Acme"
    assert fake.token_requests == 2


def test_a_short_burst_of_429s_is_retried(fake, client):
    fake.add_account("Acme")
    fake.fail_next(2, status=429)
    pages = list(client.iter_pages("Accounts", fields=["Account_Name"]))
    assert len(pages[0].records) == 1
    assert client.request_count == 1 + 3  # the token, then two 429s and the answer


def test_a_429_storm_gives_up_after_bounded_retries(fake, client):
    fake.fail_next(1_000, status=429)
    with pytest.raises(CrmUnavailable, match="429.*gave up after 4 attempts"):
        list(client.iter_pages("Accounts", fields=["Account_Name"]))
    assert client.request_count == 1 + 4  # the token, then four attempts


def test_server_errors_are_retried_then_reported(fake, client):
    fake.fail_next(1_000, status=503)
    with pytest.raises(CrmUnavailable, match="HTTP 503"):
        client.custom_views("Accounts")


@pytest.mark.parametrize("kind", ["truncated", "no_info"])
def test_a_malformed_page_raises(fake, client, kind):
    fake.add_account("Acme")
    fake.malform_page("Accounts", 1, kind)
    with pytest.raises(CrmMalformedResponse):
        list(client.iter_pages("Accounts", fields=["Account_Name"]))


def test_views_fields_search_and_deals(fake, client):
    acme = fake.add_account("Acme Rockets")
    fake.add_account("Globex")
    fake.add_deal(acme, "Acme renewal", Stage="Negotiation", Amount=1200.5)
    view_id = fake.add_view("Accounts", "Big ones", criteria={"Industry": "Enterprise"})
    assert {"id": view_id, "name": "Big ones", "default": False} in client.custom_views("Accounts")
    assert "Payment_Terms" in {f["api_name"] for f in client.fields("Accounts")}
    assert [r["Account_Name"] for r in client.search("Accounts", "rocket", fields=["Account_Name"])] == ["Acme Rockets"]
    assert client.search("Accounts", "nothing-like-this", fields=["Account_Name"]) == []
    assert [d["Deal_Name"] for d in client.deals_of_account(acme["id"])] == ["Acme renewal"]


def test_upsert_reads_each_result_and_refuses_more_than_100(fake, client):
    results = client.upsert(
        "Accounts",
        [{"Account_Name": "New Co"}, {"Account_Name": "Bad", "Email": "nope"}],
        duplicate_check_fields=["Account_Name"],
    )
    assert results[0]["status"] == "success" and results[0]["action"] == "insert"
    assert results[1]["code"] == "INVALID_DATA"
    again = client.upsert(
        "Accounts", [{"Account_Name": "New Co", "Phone": "1"}], duplicate_check_fields=["Account_Name"]
    )
    assert again[0]["action"] == "update"
    with pytest.raises(ValueError):
        client.upsert(
            "Accounts",
            [{"Account_Name": str(i)} for i in range(101)],
            duplicate_check_fields=["Account_Name"],
        )


def test_the_fake_refuses_invoices_as_zoho_does_one_result_per_record(fake, client):
    """What the transaction push relies on the fake to enforce, as Zoho answers it."""
    account = fake.add_account("Acme")
    product = fake.add_record("Products", Product_Name="Router")
    account_lookup = {"Account_Name": {"id": account["id"]}}
    row = {"Product_Name": {"id": product["id"]}, "Quantity": 2, "List_Price": 50.0}

    results = client.upsert(
        "Invoices",
        [
            {"Subject": "INV-1", **account_lookup, "Invoiced_Items": [row]},
            {"Subject": "INV-2", **account_lookup},  # no item rows
            {"Subject": "INV-3", "Invoiced_Items": [{"Quantity": 1, "List_Price": 5.0}]},  # a row without product
            {"Subject": "INV-4", "Invoiced_Items": [{**row, "Product_Name": {"id": "4150868000999"}}]},  # none such
            {"Subject": "INV-5", "Invoiced_Items": [row], "Billing_Document_Id": "invoice-5"},  # not a field here
        ],
        duplicate_check_fields=["Subject"],
    )

    assert results[0]["status"] == "success"
    assert [(r["code"], r["details"]["api_name"]) for r in results[1:]] == [
        ("MANDATORY_NOT_FOUND", "Invoiced_Items"),
        ("MANDATORY_NOT_FOUND", "Product_Name"),
        ("INVALID_DATA", "Product_Name"),
        ("INVALID_DATA", "Billing_Document_Id"),
    ]
    [stored] = fake.records["Invoices"].values()
    assert stored["Invoiced_Items"][0]["Product_Name"] == {"name": "Router", "id": product["id"]}
    assert stored["Grand_Total"] == 100.0


def test_the_fake_appends_item_rows_on_update_and_removes_those_marked_delete(fake, client):
    account = fake.add_account("Acme")
    product = fake.add_record("Products", Product_Name="Router")
    row = {"Product_Name": {"id": product["id"]}, "Quantity": 1, "List_Price": 10.0}
    [created] = client.upsert(
        "Sales_Orders",
        [{"Subject": "SO-1", "Account_Name": {"id": account["id"]}, "Ordered_Items": [row]}],
        duplicate_check_fields=["Subject"],
    )
    record_id = created["details"]["id"]
    [first_row] = fake.records["Sales_Orders"][record_id]["Ordered_Items"]

    client.upsert("Sales_Orders", [{"Subject": "SO-1", "Ordered_Items": [row]}], duplicate_check_fields=["Subject"])
    assert len(fake.records["Sales_Orders"][record_id]["Ordered_Items"]) == 2  # appended, as Zoho does

    client.upsert(
        "Sales_Orders",
        [{"Subject": "SO-1", "Ordered_Items": [{"id": first_row["id"], "_delete": None}]}],
        duplicate_check_fields=["Subject"],
    )
    [left] = fake.records["Sales_Orders"][record_id]["Ordered_Items"]
    assert left["id"] != first_row["id"]
    assert client.get_records("Sales_Orders", [record_id, "4150868000999"], fields=["Ordered_Items"])[0]["id"] == (
        record_id
    )
