//! Paging numbers a database cannot address are refused with 400 and a
//! message saying so, on the management API and on `/v2/`, instead of
//! wrapping round to the first page.

use berth_testkit::oci_http::*;
use reqwest::{Method, Response};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

async fn get(c: &OciClient, path: &str) -> Response {
    c.request(Method::GET, path).send().await.expect("request failed at the transport level")
}

async fn bad_request(resp: Response) -> String {
    expect_error(resp, &[400], &["BAD_REQUEST"]).await.errors.remove(0).message
}

#[tokio::test]
async fn management_pages_beyond_a_database_offset_are_refused() {
    let (_berth, admin) = start_registry(BIN);
    for name in ["alpha", "beta"] {
        admin.create_project(name, false).await;
    }
    let too_far = "page * page_size must be at most 9223372036854775807";
    for path in [
        "/api/v2.0/users?page=18446744073709551615",
        "/api/v2.0/users?page=922337203685477581",
        "/api/v2.0/projects?page=18446744073709551615&page_size=100",
        "/api/v2.0/projects?page=92233720368547759&page_size=100",
        "/api/v2.0/audit-logs?page=9223372036854775807&page_size=2",
        "/api/v2.0/projects/alpha/logs?page=18446744073709551615",
    ] {
        let message = bad_request(get(&admin, path).await).await;
        assert_eq!(message, format!("page is too large: {too_far}"), "{path}");
    }
    for (path, message) in [
        ("/api/v2.0/users?page=18446744073709551616", "page is too large"),
        ("/api/v2.0/projects?page_size=99999999999999999999", "page_size is too large"),
        ("/api/v2.0/users?page=-1", "page must be a positive integer"),
    ] {
        assert_eq!(bad_request(get(&admin, path).await).await, message, "{path}");
    }

    // The last page a database can reach is answered, and it is empty.
    let resp = expect_status(get(&admin, "/api/v2.0/projects?page=92233720368547758&page_size=100").await, 200).await;
    assert_eq!(header(&resp, "X-Total-Count").as_deref(), Some("3"), "alpha, beta and library");
    assert_eq!(resp.json::<Vec<Value>>().await.unwrap(), Vec::<Value>::new(), "a far page came back with rows");
    let resp = expect_status(get(&admin, "/api/v2.0/users?page=922337203685477580").await, 200).await;
    assert_eq!(resp.json::<Vec<Value>>().await.unwrap(), Vec::<Value>::new());
}

#[tokio::test]
async fn registry_page_sizes_beyond_their_type_are_refused() {
    let (_berth, reg) = start_registry(BIN);
    reg.push_image("app", "v1").await;
    for path in ["/v2/_catalog?n=4294967296", "/v2/library/app/tags/list?n=18446744073709551616"] {
        let errors = expect_error(get(&reg, path).await, &[400], &["PAGINATION_NUMBER_INVALID"]).await;
        assert!(errors.errors[0].message.starts_with("n is too large"), "{path}: {:?}", errors.errors[0].message);
    }
    let errors = expect_error(get(&reg, "/v2/_catalog?n=-1").await, &[400], &["PAGINATION_NUMBER_INVALID"]).await;
    assert!(errors.errors[0].message.contains("non-negative whole number"), "{:?}", errors.errors[0].message);
    // The largest n is taken, and capped to a page of the registry's size.
    let page: Value =
        expect_status(get(&reg, "/v2/library/app/tags/list?n=4294967295").await, 200).await.json().await.unwrap();
    assert_eq!(page["tags"], serde_json::json!(["v1"]));
}
